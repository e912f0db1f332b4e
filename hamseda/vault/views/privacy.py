"""The public privacy page, /privacy/: what this install keeps about a supporter, who can
read it and for how long, in plain words and from the running configuration, so the
page cannot drift from what the server does (docs/privacy.md is the organisers' version).
"""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from hamseda.languages import current_language
from hamseda.orgs.models import Organization, SealingKey
from hamseda.vault import crypto

# The page is linked from every sign form, so a viral petition sends readers here too;
# organisations and keys change seldom, and a new key shows within a minute.
CACHE_SECONDS = 60


@dataclass(frozen=True)
class KeyHolder:
    """An organisation that can read its supporters' sealed data, and its current key."""

    name: str
    key_id: str
    created_at: datetime | None  # None for a key set before keys were listed.


@dataclass(frozen=True)
class MailRoute:
    """How mail leaves this server: "relay" (SMTP), "files" (the demo), or "none"."""

    kind: str
    host: str = ""
    encrypted: bool = False


def key_holders() -> list[KeyHolder]:
    """Every organisation with a sealing key, with the key new data is sealed to."""
    organizations = list(Organization.objects.exclude(public_key="").order_by("name"))
    current_ids = {org.pk: crypto.key_id(org.public_key) for org in organizations}
    created = {
        (key.organization_id, key.key_id): key.created_at
        for key in SealingKey.objects.filter(key_id__in=current_ids.values())
    }
    return [
        KeyHolder(
            name=org.name,
            key_id=current_ids[org.pk],
            created_at=created.get((org.pk, current_ids[org.pk])),
        )
        for org in organizations
    ]


def mail_route(url: str) -> MailRoute:
    """The relay's host name from HAMSEDA_EMAIL_URL; never its user name or password."""
    parts = urlsplit(url)
    if parts.scheme in {"smtp", "smtps"}:
        starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in {"1", "true"}
        return MailRoute(
            "relay", parts.hostname or "localhost", parts.scheme == "smtps" or starttls
        )
    if parts.scheme == "file":
        return MailRoute("files")
    return MailRoute("none")


def erasure_url() -> str | None:
    """The erasure page, if this install has one (the erasure app adds it)."""
    try:
        return reverse("erasure:request")
    except NoReverseMatch:
        return None


def context() -> dict:
    hamseda = settings.HAMSEDA
    return {
        "key_holders": key_holders(),
        "confirmation_days": hamseda["CONFIRMATION_DAYS"],
        "retention_days": hamseda.get("RETENTION_DAYS", 365),
        "network_days": hamseda.get("NETWORK_FINGERPRINT_DAYS", 30),
        "mail": mail_route(settings.EMAIL_URL),
        "erasure_url": erasure_url(),
        "https": settings.BASE_URL.startswith("https://"),
    }


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    """The page; for anonymous readers from a cache of a minute per language. It holds
    no form or token; a logged-in organizer's footer differs, and a reader with a
    message waiting (after erasing, say) must get it on their own page only."""
    if request.user.is_authenticated or len(messages.get_messages(request)):
        return render(request, "vault/privacy.html", context())
    key = f"hamseda:privacy:{current_language()}"
    html = cache.get(key)
    if html is None:
        html = render(request, "vault/privacy.html", context()).content.decode()
        cache.set(key, html, CACHE_SECONDS)
    return HttpResponse(html)
