"""The `hamseda` commands an operator runs: keys, organizers, recount, the demo."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hamseda.orgs.models import Membership, Organization
from hamseda.orgs.services import read_secret_key_file
from hamseda.petitions import services
from hamseda.petitions.models import CountryCount, Petition
from hamseda.vault import crypto
from tests.conftest import signer


def test_keys_generate_writes_a_secret_only_its_owner_can_read(org, tmp_path):
    out = tmp_path / "alliance.key"
    call_command("keys", "generate", "--org", "alliance", "--out", str(out))
    assert out.stat().st_mode & 0o777 == 0o600
    org.organization.refresh_from_db()
    secret = read_secret_key_file(out)
    sealed = crypto.seal(org.organization.public_key, {"x": "ځ"})
    assert crypto.unseal(secret, sealed) == {"x": "ځ"}


def test_keys_generate_refuses_to_overwrite_a_secret(org, tmp_path):
    out = tmp_path / "alliance.key"
    out.write_text("precious")
    with pytest.raises(CommandError, match="refusing"):
        call_command("keys", "generate", "--org", "alliance", "--out", str(out))
    assert out.read_text() == "precious"


def test_createorganizer_makes_a_login_with_a_role(db):
    call_command(
        "createorganizer",
        "--email",
        "a@example.org",
        "--org",
        "new-org",
        "--role",
        "moderator",
        "--password",
        "long-enough-password",
    )
    membership = Membership.objects.get()
    assert membership.role == "moderator"
    assert Organization.objects.get().slug == "new-org"
    assert membership.user.check_password("long-enough-password")


def test_createorganizer_refuses_a_short_password(db):
    with pytest.raises(CommandError, match="12"):
        call_command(
            "createorganizer", "--email", "a@example.org", "--org", "o", "--password", "short"
        )


def test_recount_repairs_counters(petition, now):
    for number in range(3):
        services.record_confirmed_signature(petition, signer(number, country="AF"), now=now)
    Petition.objects.update(signature_count=99)
    CountryCount.objects.update(count=0)
    call_command("recount", petition.slug)
    petition.refresh_from_db()
    assert petition.signature_count == 3
    assert CountryCount.objects.get(country="AF").count == 3


def test_the_demo_is_idempotent(db, settings, tmp_path):
    from hamseda.demo import load_demo

    settings.DATA_DIR = tmp_path
    first = load_demo()
    second = load_demo()
    assert first == second
    assert "Password:" in first
    petition = Petition.objects.get(slug="suspend-taliban-accounts")
    assert petition.signature_count >= 300
    assert petition.country_counts.count() >= 10
    assert set(petition.languages) == {"en", "fa", "ps"}
    assert petition.image.name.endswith(".png")
    assert (tmp_path / "keys" / "demo-alliance.key").exists()
