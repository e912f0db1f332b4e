"""Sealing keys: `hamseda keys list`, rotation (`keys generate` again, or the owner's key
page), and who may use the key page. Rotating seals new signatures to the new key and
leaves older records sealed to the key they were sealed to."""

import base64
import html
import io
import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse

from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Organization, Role, SealingKey
from hamseda.orgs.sealing_keys import key_file_text, list_keys
from hamseda.petitions import services
from hamseda.petitions.models import Signature
from hamseda.vault import crypto
from hamseda.vault.csp import SODIUM_CSP
from hamseda.vault.decrypt import read_key_file
from tests.conftest import PASSWORD, make_petition, signer, with_two_factor


def keys_url(slug: str = "alliance") -> str:
    return reverse("orgs:keys", args=[slug])


def adopt_url(slug: str = "alliance") -> str:
    return reverse("orgs:adopt_key", args=[slug])


def generate_url(slug: str = "alliance") -> str:
    return reverse("orgs:generate_key", args=[slug])


def run_keys(*args: str) -> str:
    out = io.StringIO()
    call_command("keys", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(with_two_factor(owner))
    return client


@pytest.fixture
def organizer(org):
    return org_services.create_organizer(
        email="organizer@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.ORGANIZER,
    )


def fresh(organization: Organization) -> Organization:
    return Organization.objects.get(pk=organization.pk)


# --- the command line -------------------------------------------------------------------


def test_generate_says_when_it_rotates_and_list_shows_every_key(db, tmp_path, now):
    organization = org_services.create_organization(name="Coalition", slug="coalition")
    first = run_keys("generate", "--org", "coalition", "--out", str(tmp_path / "1.key"))
    assert "Rotated" not in first
    first_id = read_key_file(tmp_path / "1.key").key_id
    petition = make_petition(fresh(organization), "first-petition")
    for number in range(3):
        services.sign_petition(petition, signer(number), now=now)

    second = run_keys("generate", "--org", "coalition", "--out", str(tmp_path / "2.key"))
    second_id = read_key_file(tmp_path / "2.key").key_id
    assert f"Rotated: new signatures are sealed to {second_id}" in second
    assert f"the key {first_id} is retired" in second
    assert "not re-sealed" in second
    petition.refresh_from_db()
    services.sign_petition(petition, signer(9), now=now)

    listing = run_keys("list", "--org", "coalition").splitlines()
    assert listing[0].split() == ["key", "id", "created", "by", "retired", "records"]
    newest, oldest = listing[1], listing[2]
    assert newest.startswith(f"{second_id} (current)")
    assert newest.split()[-1] == "1"
    assert oldest.startswith(first_id)
    assert "(current)" not in oldest
    assert oldest.split()[-1] == "3"
    assert "system" in oldest
    retired = SealingKey.objects.get(key_id=first_id).retired_at
    assert retired.strftime("%Y-%m-%d %H:%M UTC") in oldest


def test_list_names_a_key_records_are_sealed_to_that_was_never_listed(petition, org):
    """Keys set before rotation existed (as the test fixture does) still count."""
    services.sign_petition(petition, signer(1))
    (legacy,) = list_keys(org.organization)
    assert (legacy.key_id, legacy.current, legacy.listed, legacy.records) == (
        crypto.key_id(org.organization.public_key),
        True,
        False,
        1,
    )
    assert "(not listed)" in run_keys("list", "--org", "alliance")


def test_list_of_an_organisation_without_keys_and_of_none(db):
    org_services.create_organization(name="New", slug="new")
    assert "has no sealing key yet" in run_keys("list", "--org", "new")
    with pytest.raises(Exception, match="No organisation"):
        run_keys("list", "--org", "nowhere")


def test_generate_writes_the_same_key_file_format_as_the_pages(org, tmp_path):
    out = tmp_path / "k.key"
    key_id = org_services.generate_sealing_key(org.organization, out=out)
    secret = read_key_file(out)
    secret_b64 = base64.b64encode(bytes(secret.private_key)).decode()
    assert out.read_text() == key_file_text("alliance", key_id, secret_b64)
    assert secret.organization == "alliance"


def test_new_signatures_are_sealed_to_the_new_key(petition, org, now):
    old_id = crypto.key_id(org.organization.public_key)
    services.sign_petition(petition, signer(1), now=now)
    new_public, new_secret = crypto.generate_keypair()
    new_id = org_services.adopt_public_key(org.organization, new_public, now=now)
    # A request after the rotation loads the petition (and its organisation) afresh.
    petition.refresh_from_db()
    services.sign_petition(petition, signer(2), now=now + timedelta(seconds=1))
    old, new = Signature.objects.filter(petition=petition).order_by("pk")
    assert (old.key_id, new.key_id) == (old_id, new_id)
    assert org.unseal(old.sealed)["last_name"] == "Signer1"
    assert crypto.unseal(new_secret, new.sealed)["last_name"] == "Signer2"


# --- the key page: who may use it -------------------------------------------------------


def test_an_owner_with_two_factor_sees_the_keys_and_their_records(owner_client, petition, org):
    services.sign_petition(petition, signer(1))
    response = owner_client.get(keys_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert crypto.key_id(org.organization.public_key) in page
    assert "If you lose a secret key, you lose the records sealed to it." in page
    assert "does not re-seal old records" in page
    assert "<td>1</td>" in page  # One record sealed to the current key.
    # libsodium runs here, and its scripts may connect nowhere.
    assert response["Content-Security-Policy"] == SODIUM_CSP
    assert "vendor/libsodium/libsodium-wrappers.js" in page


@pytest.mark.parametrize(
    ("url", "method"),
    [(keys_url, "get"), (adopt_url, "post"), (generate_url, "post")],
    ids=["page", "adopt", "generate"],
)
def test_the_key_pages_refuse_everyone_but_owners_with_two_factor(
    client, org, owner, moderator, analyst, organizer, outsider, url, method
):
    before = fresh(org.organization).public_key
    public_key, _secret = crypto.generate_keypair()
    data = {"public_key": public_key} if method == "post" else None
    response = getattr(client, method)(url(), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    for user, status in [
        (with_two_factor(outsider), 404),
        (with_two_factor(organizer), 403),
        (with_two_factor(moderator), 403),
        (with_two_factor(analyst), 403),
        (owner, 403),  # The right role, but no two-factor login yet.
    ]:
        client.force_login(user)
        assert getattr(client, method)(url(), data).status_code == status, user
    client.force_login(owner)
    assert "Two-factor login needed" in getattr(client, method)(url(), data).content.decode()
    assert fresh(org.organization).public_key == before
    assert not AuditEvent.objects.filter(action=AuditAction.KEY_ADDED).exists()
    client.force_login(with_two_factor(owner))
    assert getattr(client, method)(url("no-such-org"), data).status_code == 404


def test_adopt_and_generate_only_answer_posts(owner_client):
    assert owner_client.get(adopt_url()).status_code == 405
    assert owner_client.get(generate_url()).status_code == 405


# --- posting a public key (the browser's path) -----------------------------------------


def test_an_owner_posts_a_public_key_and_it_seals_new_signatures(
    owner_client, owner, org, petition
):
    first_public, _ = crypto.generate_keypair()
    second_public, second_secret = crypto.generate_keypair()
    first_id = crypto.key_id(first_public)
    second_id = crypto.key_id(second_public)

    response = owner_client.post(adopt_url(), {"public_key": first_public})
    assert response.status_code == 302
    assert response["Location"] == keys_url()
    response = owner_client.post(adopt_url(), {"public_key": second_public}, follow=True)
    assert f"The key {second_id} now seals new signatures" in response.content.decode()

    assert fresh(org.organization).public_key == second_public
    keys = {key.key_id: key for key in SealingKey.objects.filter(organization=org.organization)}
    assert keys[first_id].retired_at is not None
    assert keys[second_id].retired_at is None
    assert keys[second_id].created_by == "owner@example.org"
    events = list(
        AuditEvent.objects.filter(organization=org.organization)
        .exclude(action__in=[AuditAction.LOGIN, AuditAction.MEMBER_ADDED])
        .order_by("pk")
        .values_list("action", "subject", "actor_label")
    )
    assert events == [
        (AuditAction.KEY_ADDED, first_id, "owner@example.org"),
        (AuditAction.KEY_RETIRED, first_id, "owner@example.org"),
        (AuditAction.KEY_ADDED, second_id, "owner@example.org"),
    ]

    petition.refresh_from_db()
    services.sign_petition(petition, signer(5, first_name="ښکلا"))
    signature = Signature.objects.get(petition=petition)
    assert signature.key_id == second_id
    assert crypto.unseal(second_secret, signature.sealed)["first_name"] == "ښکلا"


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param("", id="empty"),
        pytest.param("not a key at all", id="words"),
        pytest.param(base64.b64encode(b"x" * 31).decode(), id="31-bytes"),
        pytest.param(base64.b64encode(b"x" * 33).decode(), id="33-bytes"),
        pytest.param("A" * 10_000, id="huge"),
        pytest.param(base64.b64encode(bytes(32)).decode(), id="all-zero-point"),
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param("\x00\ud7ff\ufffd", id="control-characters"),
    ],
)
def test_garbage_as_a_public_key_is_refused_with_a_message(owner_client, org, garbage):
    before = fresh(org.organization).public_key
    response = owner_client.post(adopt_url(), {"public_key": garbage})
    assert response.status_code == 400
    assert "That is not a public key, so nothing was changed." in response.content.decode()
    assert "<script>alert" not in response.content.decode()
    assert fresh(org.organization).public_key == before
    assert not SealingKey.objects.filter(organization=org.organization).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.KEY_ADDED).exists()


def test_a_key_already_known_is_refused_with_a_message(owner_client, org):
    public_key, _ = crypto.generate_keypair()
    assert owner_client.post(adopt_url(), {"public_key": public_key}).status_code == 302
    response = owner_client.post(adopt_url(), {"public_key": public_key})
    assert response.status_code == 400
    assert "This key is already known" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.KEY_ADDED).count() == 1


# --- the server-side fallback ---------------------------------------------------------


def test_the_server_makes_a_pair_shows_the_secret_once_and_keeps_nothing(
    owner_client, org, petition, tmp_path
):
    before = fresh(org.organization).public_key
    response = owner_client.post(generate_url())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    key_file = html.unescape(re.search(r'<pre class="key-file"[^>]*>(.*?)</pre>', page, re.S)[1])
    public_key = re.search(r'name="public_key" value="([^"]+)"', page)[1]
    data_url = re.search(r'href="data:application/octet-stream;base64,([^"]+)"', page)[1]
    assert base64.b64decode(data_url).decode() == key_file  # The download is the same text.
    (tmp_path / "server.key").write_text(key_file)
    secret = read_key_file(tmp_path / "server.key")
    assert secret.key_id == crypto.key_id(public_key)
    assert bytes(secret.private_key.public_key) == base64.b64decode(public_key)
    secret_b64 = base64.b64encode(bytes(secret.private_key)).decode()

    # Nothing has changed yet, and the secret is nowhere on the server.
    assert fresh(org.organization).public_key == before
    assert not SealingKey.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.KEY_ADDED).exists()
    for session in Session.objects.all():
        assert secret_b64 not in str(session.get_decoded())
    assert secret_b64 not in str(list(AuditEvent.objects.values_list("details", "subject")))
    assert not response.cookies.get("messages")

    # Confirming posts the public key back; then new signatures open with the secret.
    assert owner_client.post(adopt_url(), {"public_key": public_key}).status_code == 302
    assert fresh(org.organization).public_key == public_key
    petition.refresh_from_db()
    services.sign_petition(petition, signer(3, first_name="پلوشه"))
    sealed = Signature.objects.get(petition=petition).sealed
    assert crypto.unseal(secret_b64, sealed)["first_name"] == "پلوشه"


def test_each_server_generated_pair_is_new(owner_client):
    pages = [owner_client.post(generate_url()).content.decode() for _ in range(2)]
    keys = [re.search(r'name="public_key" value="([^"]+)"', page)[1] for page in pages]
    assert keys[0] != keys[1]
