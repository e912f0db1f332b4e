"""Partner API keys (api.keys, api.auth, api.organize_keys): made and shown once, kept
only as a digest, refused clearly when unknown, revoked or expired, limited to their
scopes and rate, audited; the owners' pages."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from hamseda.api import keys
from hamseda.api.models import ApiKey
from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.petitions.models import Signature
from tests.api.test_write_api import PERSON, assert_error, partner_key, post_json, sign_path
from tests.conftest import make_org, with_two_factor

KEY_SHAPE = re.compile(r"hsk_[0-9a-f]{12}_[A-Za-z0-9]{40}")


def test_a_key_is_shown_once_and_kept_only_as_its_digest(org, owner, now):
    key, plain = keys.create_key(
        org.organization, name="Voices site", scopes=["sign"], created_by=owner, now=now
    )
    assert KEY_SHAPE.fullmatch(plain)
    assert plain.split("_")[1] == key.prefix
    assert key.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    stored = ApiKey.objects.values_list(flat=False).get(pk=key.pk)
    assert plain not in repr(stored)
    assert plain.split("_")[2] not in repr(stored)
    assert key.scope_list == ["sign"]
    assert keys.authenticate(plain, now=now) == key
    event = AuditEvent.objects.get(organization=org.organization, subject=f"api-key {key.prefix}")
    assert event.action == AuditAction.API_KEY_CREATED
    assert event.actor_label == "owner@example.org"
    assert plain not in repr(event.details)


def test_every_key_is_different(org):
    made = {partner_key(org.organization) for _ in range(5)}
    assert len(made) == 5


@pytest.mark.parametrize(
    ("name", "scopes", "expires"),
    [("", ["sign"], None), ("Site", [], None), ("Site", ["admin"], None), ("Site", ["sign"], -1)],
)
def test_it_refuses_to_make_a_key_without_a_name_a_scope_or_a_future(
    org, now, name, scopes, expires
):
    expires_at = now + timedelta(days=expires) if expires else None
    with pytest.raises(keys.KeyRequestRefused):
        keys.create_key(
            org.organization, name=name, scopes=scopes, expires_at=expires_at, created_by=None
        )
    assert not ApiKey.objects.exists()


def test_unknown_revoked_and_expired_keys_are_refused_each_with_its_reason(org, owner, now):
    plain = partner_key(org.organization)
    key = ApiKey.objects.get()
    forged = plain[:-4] + "AAAA"
    for raw in ["", "hsk_", "not a key", forged, "hsk_000000000000_" + "a" * 40, "x" * 10_000]:
        with pytest.raises(keys.UnknownKey):
            keys.authenticate(raw, now=now)

    soon = now + timedelta(days=1)
    expiring, expiring_plain = keys.create_key(
        org.organization, name="Short", scopes=["sign"], expires_at=soon, created_by=None, now=now
    )
    assert keys.authenticate(expiring_plain, now=now) == expiring
    with pytest.raises(keys.ExpiredKey, match="expired on"):
        keys.authenticate(expiring_plain, now=soon)

    assert keys.revoke_key(key, by=owner, now=now)
    assert not keys.revoke_key(key, by=owner, now=now)  # Once is enough, and audited once.
    with pytest.raises(keys.RevokedKey, match="revoked on"):
        keys.authenticate(plain, now=now)
    assert AuditEvent.objects.filter(subject=f"api-key {key.prefix}").count() == 2


def test_last_used_is_written_at_most_once_a_minute(org, now):
    plain = partner_key(org.organization)
    keys.authenticate(plain, now=now)
    assert ApiKey.objects.get().last_used_at == now
    keys.authenticate(plain, now=now + timedelta(seconds=30))
    assert ApiKey.objects.get().last_used_at == now
    later = now + timedelta(seconds=61)
    keys.authenticate(plain, now=later)
    assert ApiKey.objects.get().last_used_at == later


# --- over HTTP ----------------------------------------------------------------------------


def test_without_a_key_it_is_401_with_a_challenge(client, petition):
    response = post_json(client, sign_path(petition), PERSON)
    body = assert_error(response, 401, "unauthorized")
    assert "Authorization: Bearer" in body["message"]
    assert response["WWW-Authenticate"] == 'Bearer realm="hamseda"'
    basic = post_json(client, sign_path(petition), PERSON, HTTP_AUTHORIZATION="Basic dXNlcjpwdw==")
    assert_error(basic, 401, "unauthorized")
    assert not Signature.objects.exists()


def test_a_refused_key_is_401_saying_why(client, org, petition, owner, now):
    plain = partner_key(org.organization)
    # The last character changed (to one it is not: a random key may end in "Z").
    wrong = plain[:-1] + ("Z" if plain[-1] != "Z" else "Y")
    unknown = post_json(client, sign_path(petition), PERSON, wrong)
    assert_error(unknown, 401, "invalid_key")
    assert 'error="invalid_token"' in unknown["WWW-Authenticate"]

    keys.revoke_key(ApiKey.objects.get(), by=owner)
    body = assert_error(post_json(client, sign_path(petition), PERSON, plain), 401, "revoked_key")
    assert "revoked" in body["message"]

    _key, expired = keys.create_key(
        org.organization,
        name="Old",
        scopes=["sign"],
        expires_at=now - timedelta(seconds=1),
        created_by=None,
        now=now - timedelta(days=1),
    )
    body = assert_error(post_json(client, sign_path(petition), PERSON, expired), 401, "expired_key")
    assert "expired" in body["message"]
    assert not Signature.objects.exists()


def test_the_osdi_header_carries_a_key_too(client, org, petition, outbox):
    plain = partner_key(org.organization)
    response = post_json(client, sign_path(petition), PERSON, HTTP_OSDI_API_TOKEN=plain)
    assert response.status_code == 202


def test_a_key_without_the_scope_is_403_naming_it(client, org, petition):
    plain = partner_key(org.organization, scopes=["rsvp"])
    body = assert_error(post_json(client, sign_path(petition), PERSON, plain), 403, "missing_scope")
    assert "“sign”" in body["message"]
    assert not Signature.objects.exists()


def test_a_key_over_its_rate_is_429_with_retry_after(client, org, petition, outbox):
    plain = partner_key(org.organization)
    ApiKey.objects.update(rate_per_minute=2)
    for number in range(2):
        body = {**PERSON, "email": f"person@domain{number}.example"}
        assert post_json(client, sign_path(petition), body, plain).status_code == 202
    response = post_json(client, sign_path(petition), PERSON, plain)
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 61
    # Another key of the same organisation has its own count.
    other = partner_key(org.organization)
    assert post_json(client, sign_path(petition), PERSON, other).status_code == 202


# --- the owners' pages --------------------------------------------------------------------


@pytest.fixture
def owner_client(client, owner):
    client.force_login(with_two_factor(owner))
    return client


def test_the_owner_makes_a_key_and_sees_it_once(owner_client, org, petition, outbox):
    slug = org.organization.slug
    page = owner_client.get(reverse("apikeys:list", args=[slug]))
    assert page.status_code == 200
    assert "No API key yet." in page.text
    assert reverse("apikeys:list", args=[slug]) in page.text  # The organisation's nav.

    response = owner_client.post(
        reverse("apikeys:create", args=[slug]),
        {"name": "Voices website", "scopes": ["sign", "rsvp"], "expires_on": ""},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [plain] = KEY_SHAPE.findall(response.text)[:1]
    assert post_json(owner_client, sign_path(petition), PERSON, plain).status_code == 202

    listed = owner_client.get(reverse("apikeys:list", args=[slug])).text
    assert "Voices website" in listed
    assert f"hsk_{plain.split('_')[1]}_…" in listed
    assert plain not in listed
    assert plain.split("_")[2] not in listed


def test_a_key_can_be_made_to_expire(owner_client, org, now):
    day = (now + timedelta(days=30)).date()
    owner_client.post(
        reverse("apikeys:create", args=[org.organization.slug]),
        {"name": "Campaign month", "scopes": ["sign"], "expires_on": day.isoformat()},
    )
    key = ApiKey.objects.get()
    assert key.expires_at.date() == day + timedelta(days=1)
    assert key.expires_at.hour == 0


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"name": "Site"},
        {"name": "Site", "scopes": ["everything"]},
        {"name": "", "scopes": ["sign"]},
        {"name": "Site", "scopes": ["sign"], "expires_on": "2001-01-01"},
        {"name": "Site", "scopes": ["sign"], "expires_on": "tomorrow"},
        {"name": "x" * 101, "scopes": ["sign"]},
    ],
)
def test_a_bad_key_request_shows_the_form_again_with_400(owner_client, org, form):
    response = owner_client.post(reverse("apikeys:create", args=[org.organization.slug]), form)
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert not ApiKey.objects.exists()


def test_the_owner_revokes_a_key(owner_client, org, petition):
    plain = partner_key(org.organization)
    key = ApiKey.objects.get()
    response = owner_client.post(reverse("apikeys:revoke", args=[org.organization.slug, key.pk]))
    assert response.status_code == 302
    assert response.url == reverse("apikeys:list", args=[org.organization.slug])
    assert_error(post_json(owner_client, sign_path(petition), PERSON, plain), 401, "revoked_key")
    page = owner_client.get(response.url).text
    assert "Revoked" in page


def test_an_owner_cannot_touch_another_organisations_keys(owner_client, org):
    other = make_org("other-org").organization
    partner_key(other)
    theirs = ApiKey.objects.get(organization=other)
    response = owner_client.post(reverse("apikeys:revoke", args=[org.organization.slug, theirs.pk]))
    assert response.status_code == 404
    assert owner_client.get(reverse("apikeys:list", args=[other.slug])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize(("given", "stored"), [("", 120), ("600", 600)])
def test_the_owner_chooses_the_keys_rate(owner_client, org, given, stored):
    owner_client.post(
        reverse("apikeys:create", args=[org.organization.slug]),
        {"name": "Busy site", "scopes": ["sign"], "rate_per_minute": given},
    )
    assert ApiKey.objects.get().rate_per_minute == stored


@pytest.mark.parametrize("given", ["0", "-5", "100000", "many"])
def test_a_bad_rate_is_refused_with_a_message(owner_client, org, given):
    response = owner_client.post(
        reverse("apikeys:create", args=[org.organization.slug]),
        {"name": "Busy site", "scopes": ["sign"], "rate_per_minute": given},
    )
    assert response.status_code == 400
    assert not ApiKey.objects.exists()
