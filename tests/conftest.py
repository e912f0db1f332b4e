"""Shared fixtures. Data is made through the services, so counters stay true.

Personas follow healthchecks: `owner`, `moderator`, `analyst` of the petition's
organisation, and `outsider`, a member of another organisation.
"""

import socket
from dataclasses import dataclass

import pytest
from django.core import mail
from django.utils import timezone

from hamseda.campaigns.models import Campaign, CampaignTranslation
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Organization, Role
from hamseda.petitions import services
from hamseda.petitions.models import Petition
from hamseda.vault import crypto

PASSWORD = "a-long-test-password"

# A valid POST to /p/<slug>/sign (without the CSRF token, which the test client skips).
SIGN_FORM = {
    "first_name": "Maryam",
    "last_name": "Ahmadi",
    "email": "maryam@example.org",
    "country": "AF",
    "postcode": "",
    "reason": "For my sisters",
}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests talk only to loopback: any other address is refused."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in {"localhost", "::1"} or host.startswith("/")
        ):
            raise OSError(f"tests may not reach {host}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached pages of one test's petition must
    not be served in the next test, which may reuse its slug."""
    from django.core.cache import cache

    from hamseda.integrity import limits

    cache.clear()
    limits._local.clear()  # The in-process flood-brake counters, likewise.


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English: a request to /fa/… must not leave Dari active for
    the next test's reverse() or gettext."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@dataclass
class OrgKeys:
    organization: Organization
    secret_key: str

    def unseal(self, sealed: bytes) -> dict:
        return crypto.unseal(self.secret_key, sealed)


def make_org(slug: str = "alliance") -> OrgKeys:
    organization = org_services.create_organization(name=slug.title(), slug=slug)
    public_key, secret_key = crypto.generate_keypair()
    organization.public_key = public_key
    organization.save()
    return OrgKeys(organization, secret_key)


def make_petition(
    organization: Organization, slug: str = "free-speech", *, goal: int = 100, open_: bool = True
) -> Petition:
    campaign, _ = Campaign.objects.get_or_create(
        slug=f"{organization.slug}-campaign",
        defaults={"organization": organization, "hashtags": "BanTaliban"},
    )
    CampaignTranslation.objects.get_or_create(
        campaign=campaign, language="en", defaults={"name": "A campaign"}
    )
    petition = Petition(organization=organization, campaign=campaign, slug=slug, goal=goal)
    services.save_petition(
        petition,
        texts={
            "en": {
                "title": "Suspend the accounts",
                "summary": "Why it matters.",
                "story": "**Bold** story",
            },
            "fa": {"title": "حساب‌ها را مسدود کنید", "summary": "چرا مهم است.", "story": "داستان"},
        },
    )
    if open_:
        services.submit_petition(petition)
        services.approve_petition(petition)
    petition.refresh_from_db()
    return petition


def signer(number: int = 1, **overrides) -> services.Signer:
    values = {
        "first_name": "Maryam",
        "last_name": f"Signer{number}",
        "email": f"signer{number}@example.org",
        "country": "SE",
    }
    values.update(overrides)
    return services.Signer(**values)


def run_tasks() -> int:
    """Do in this process what the worker does: deliver due mail, run due tasks."""
    from django.utils.module_loading import import_string
    from django_tasks_db.models import DBTaskResult

    from hamseda.mail.services import deliver_due

    ran = 0
    while sent := deliver_due():
        ran += sent
    for result in DBTaskResult.objects.ready().order_by("enqueued_at"):
        import_string(result.task_path).call(
            *result.args_kwargs["args"], **result.args_kwargs["kwargs"]
        )
        result.delete()
        ran += 1
    return ran


def confirmation_link(message) -> str:
    return next(line for line in message.body.splitlines() if "/confirm/" in line).strip()


@pytest.fixture
def org(db) -> OrgKeys:
    return make_org()


@pytest.fixture
def petition(org) -> Petition:
    return make_petition(org.organization)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox


def _user(organization, email, role):
    return org_services.create_organizer(
        email=email, password=PASSWORD, organization=organization, role=role
    )


@pytest.fixture
def owner(org):
    return _user(org.organization, "owner@example.org", Role.OWNER)


@pytest.fixture
def moderator(org):
    return _user(org.organization, "moderator@example.org", Role.MODERATOR)


@pytest.fixture
def analyst(org):
    return _user(org.organization, "analyst@example.org", Role.ANALYST)


@pytest.fixture
def outsider(db):
    other = make_org("other-org")
    return _user(other.organization, "outsider@example.org", Role.OWNER)


def with_two_factor(user):
    """The user with a TOTP authenticator, so pages that need two-factor login let them in
    (orgs.permissions.check_access(..., two_factor=True)). Returns the user."""
    from tests.two_factor import enable_two_factor

    enable_two_factor(user)
    return user
