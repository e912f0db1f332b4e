"""The write API for partners (api.write, api.signing): a signature or RSVP through a key
goes the form's way (validation, integrity, sealing, confirmation mail in the signer's
language), and every bad request is a clear JSON error with the right status."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from hamseda.actions.models import Rsvp, RsvpState
from hamseda.api import keys
from hamseda.api.errors import MAX_BODY_BYTES
from hamseda.campaigns import partners
from hamseda.petitions import services
from hamseda.petitions.models import Signature, SignatureShare, SignatureState
from tests.actions.factories import add_partner, make_campaign, make_day, make_event
from tests.conftest import confirmation_link, make_org, make_petition, run_tasks
from tests.vault.test_no_plaintext import every_value_in_every_table, needles, search

API = "/api/v1"
PERSON = {
    "first_name": "Zarghuna",
    "last_name": "Ahmadi",
    "email": "zarghuna@example.org",
    "country": "AF",
}
ATTENDEE = {name: PERSON[name] for name in ("first_name", "last_name", "email")}
PENDING_BODY = {
    "status": "pending_confirmation",
    "message": (
        "Almost done: we have sent an e-mail to the signer. The signature counts once they "
        "follow the link in it. If they had already signed, the e-mail tells them so."
    ),
}


def partner_key(organization, scopes=("sign", "rsvp"), **extra) -> str:
    """A new key of `organization`, as the plain text its partner sends."""
    _key, plain = keys.create_key(
        organization, name="Partner site", scopes=scopes, created_by=None, **extra
    )
    return plain


def post_json(client, path: str, body, key: str | None = None, **headers):
    """POST `body` (a dict: as JSON; bytes or str: as they are) with the key."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    if key is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {key}")
    headers.setdefault("content_type", "application/json")
    return client.post(path, data=data, **headers)


def sign_path(petition) -> str:
    slug = petition if isinstance(petition, str) else petition.slug
    return f"{API}/petitions/{slug}/signatures"


def rsvp_path(event) -> str:
    return f"{API}/events/{event.slug}/rsvps"


def assert_error(response, status: int, code: str) -> dict:
    """A JSON error of the API's one shape (api.errors), with this status and code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code, body
    assert body["message"]
    assert body["detail"] == body["message"]
    assert set(body) <= {"error", "message", "detail", "fields"}
    return body


@pytest.fixture
def key(org):
    return partner_key(org.organization)


# --- signing ------------------------------------------------------------------------------


def test_a_signature_through_the_api_counts_once_its_link_is_followed(
    client, org, petition, key, outbox
):
    response = post_json(client, sign_path(petition), {**PERSON, "language": "fa"}, key)

    assert response.status_code == 202
    assert response.json()["status"] == "pending_confirmation"
    with translation.override("fa"):
        assert response.json()["message"] == translation.gettext(PENDING_BODY["message"])
    assert response["Cache-Control"] == "no-store"
    signature = Signature.objects.get()
    assert signature.state == SignatureState.PENDING
    assert signature.language == "fa"
    assert signature.public_name == ""
    petition.refresh_from_db()
    assert petition.signature_count == 0

    run_tasks()
    [mail] = outbox
    assert mail.to == ["zarghuna@example.org"]
    link = confirmation_link(mail)
    assert "/fa/p/free-speech/confirm/" in link  # The mail is in the signer's language.
    assert client.get(link.removeprefix("http://testserver")).status_code == 200
    petition.refresh_from_db()
    assert petition.signature_count == 1
    # The organisation's secret key opens what was signed.
    record = org.unseal(Signature.objects.get().sealed)
    assert record["first_name"] == "Zarghuna"
    assert record["email"] == "zarghuna@example.org"
    assert record["language"] == "fa"


def test_the_answer_never_tells_whether_the_address_had_signed(client, petition, key, outbox):
    first = post_json(client, sign_path(petition), PERSON, key)
    again = post_json(client, sign_path(petition), {**PERSON, "email": "ZARGHUNA@Example.org"}, key)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() == PENDING_BODY
    assert Signature.objects.count() == 1


def test_the_database_holds_no_personal_data_in_plain_text(client, org, petition, key, outbox):
    person = {
        "first_name": "Markerzarmina",
        "last_name": "مارکرمریم",
        "email": "needle-api-4821@example.org",
        "country": "AF",
        "postcode": "MRK-4821",
        "reason": "ښکاره‌ځډړږ for my sisters",
    }
    attendee = {
        "first_name": "Rsvpneedle",
        "last_name": "حاضرنشانه",
        "email": "rsvp-7731@example.org",
    }
    event = make_event(make_day(make_campaign(org.organization)))
    # With idempotency keys, so that their records are searched too.
    signed = post_json(client, sign_path(petition), person, key, HTTP_IDEMPOTENCY_KEY="s-1")
    rsvped = post_json(client, rsvp_path(event), attendee, key, HTTP_IDEMPOTENCY_KEY="r-1")
    assert signed.status_code == rsvped.status_code == 202
    words = needles(person) | needles({**attendee, "postcode": "", "reason": ""})
    search(every_value_in_every_table(), words, "a table, with the mails queued")
    run_tasks()
    search(every_value_in_every_table(), words, "a table, the mails delivered")
    record = org.unseal(Signature.objects.get().sealed)
    assert {name: record[name] for name in person} == person
    assert org.unseal(Rsvp.objects.get().sealed)["last_name"] == "حاضرنشانه"


def test_it_signs_a_co_hosted_petition_and_seals_the_partners_consent(
    client, org, petition, outbox
):
    voices = make_org("voices")
    partners.add_partner(petition.campaign, voices.organization)
    partners.set_co_hosts(petition, [voices.organization])
    key = partner_key(voices.organization)

    response = post_json(client, sign_path(petition), {**PERSON, "partner_consent": True}, key)

    assert response.status_code == 202
    signature = Signature.objects.get()
    share = SignatureShare.objects.get(signature=signature)
    assert share.organization == voices.organization
    contact = voices.unseal(share.sealed)
    assert contact["email"] == "zarghuna@example.org"
    assert contact["first_name"] == "Zarghuna"
    assert "reason" not in contact
    # The petition's organisation has the signature, sealed to its own key as always.
    assert org.unseal(signature.sealed)["last_name"] == "Ahmadi"


def test_no_consent_no_share(client, petition, outbox):
    voices = make_org("voices")
    partners.add_partner(petition.campaign, voices.organization)
    partners.set_co_hosts(petition, [voices.organization])
    key = partner_key(voices.organization)
    assert post_json(client, sign_path(petition), PERSON, key).status_code == 202
    assert not SignatureShare.objects.exists()


def test_consent_for_its_own_petition_is_a_field_error(client, petition, key):
    response = post_json(client, sign_path(petition), {**PERSON, "partner_consent": True}, key)
    body = assert_error(response, 422, "invalid_fields")
    assert "keep_updated" in body["fields"]["partner_consent"][0]
    assert not Signature.objects.exists()


def test_it_refuses_another_organisations_petition(client, key):
    other = make_org("other-org").organization
    theirs = make_petition(other, "their-petition")
    draft = make_petition(other, "their-draft", open_=False)

    body = assert_error(post_json(client, sign_path(theirs), PERSON, key), 403, "not_your_petition")
    assert "co-hosts" in body["message"]
    # Their draft is not public: it does not exist for us.
    assert_error(post_json(client, sign_path(draft), PERSON, key), 404, "not_found")
    assert_error(post_json(client, sign_path("no-such-petition"), PERSON, key), 404, "not_found")
    assert not Signature.objects.exists()


def test_it_refuses_a_closed_petition(client, org, petition, key, now):
    services.close_petition(petition)
    body = assert_error(
        post_json(client, sign_path(petition), PERSON, key), 409, "petition_not_open"
    )
    assert "closed" in body["message"]
    draft = make_petition(org.organization, "our-draft", open_=False)
    assert_error(post_json(client, sign_path(draft), PERSON, key), 409, "petition_not_open")
    late = make_petition(org.organization, "past-its-date")
    late.closing_at = now - timedelta(hours=1)
    late.save()
    body = assert_error(post_json(client, sign_path(late), PERSON, key), 409, "petition_not_open")
    assert late.closing_at.date().isoformat() in body["message"]
    assert not Signature.objects.exists()


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"first_name": "Zarghuna",', 400, "malformed_json"),
        (b"{'first_name': 'x'}", 400, "malformed_json"),
        (b"", 400, "empty_body"),
        (b"   ", 400, "empty_body"),
        (b'{"first_name": NaN}', 400, "malformed_json"),
        (b'{"email": "a@example.org", "email": "b@example.org"}', 400, "malformed_json"),
        (b'{"first_name": "\\ud800"}', 400, "malformed_json"),
        (b'{"first_name": "\xff"}', 400, "malformed_json"),
        (b"[" * 5000 + b"]" * 5000, 400, "malformed_json"),
        (b'{"n": ' + b"1" * 5000 + b"}", 400, "malformed_json"),
        (b"[]", 422, "not_an_object"),
        (b'"a string"', 422, "not_an_object"),
        (b"null", 422, "not_an_object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_clearly(
    client, petition, key, body, status, code
):
    assert_error(post_json(client, sign_path(petition), body, key), status, code)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", ""],
)
def test_a_body_not_sent_as_json_is_415(client, petition, key, content_type):
    response = post_json(client, sign_path(petition), PERSON, key, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_a_huge_body_is_413_without_being_read(client, petition, key):
    huge = {**PERSON, "reason": "x" * MAX_BODY_BYTES}
    assert_error(post_json(client, sign_path(petition), huge, key), 413, "body_too_large")
    # Over Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) too.
    huger = {**PERSON, "reason": "x" * (300 * 1024)}
    assert_error(post_json(client, sign_path(petition), huger, key), 413, "body_too_large")
    # A Content-Length that is not a number.
    response = post_json(client, sign_path(petition), PERSON, key, CONTENT_LENGTH="many")
    assert_error(response, 413, "body_too_large")


def test_unknown_fields_and_wrong_types_are_422_per_field(client, petition, key):
    body = {
        **PERSON,
        "first_name": 42,
        "show_name": "yes",
        "reason": "x" * 1001,
        "signature_count": 1000000,
        "language": "de",
    }
    del body["last_name"]
    response = post_json(client, sign_path(petition), body, key)
    fields = assert_error(response, 422, "invalid_fields")["fields"]
    assert fields == {
        "first_name": ["This must be text (a JSON string)."],
        "last_name": ["This field is required."],
        "show_name": ["This must be true or false."],
        "reason": ["This is too long: at most 1000 characters, please."],
        "signature_count": [
            "There is no field of this name. Check its spelling in the API documentation."
        ],
        "language": ["This must be one of: 'en', 'fa' or 'ps'."],
    }
    assert not Signature.objects.exists()


def test_the_forms_own_checks_apply_with_their_messages(client, petition, key):
    body = {**PERSON, "email": "not-an-address", "country": "XX", "first_name": "\u200b"}
    fields = assert_error(post_json(client, sign_path(petition), body, key), 422, "invalid_fields")[
        "fields"
    ]
    assert fields["email"] == ["Please enter a valid e-mail address, like name@example.org."]
    assert fields["country"] == ["Please choose your country from the list."]
    assert fields["first_name"] == ["Please enter your name."]


def test_field_messages_come_in_the_signers_language(client, petition, key):
    body = {**PERSON, "country": "XX", "language": "fa"}
    fields = assert_error(post_json(client, sign_path(petition), body, key), 422, "invalid_fields")[
        "fields"
    ]
    with translation.override("fa"):
        assert fields["country"] == [
            translation.gettext("Please choose your country from the list.")
        ]


def test_it_refuses_a_throw_away_address(client, petition, key):
    body = {**PERSON, "email": "someone@mailinator.com"}
    fields = assert_error(post_json(client, sign_path(petition), body, key), 422, "invalid_fields")[
        "fields"
    ]
    assert "throw-away" in fields["email"][0]
    assert not Signature.objects.exists()


def test_too_many_mails_to_one_address_is_429_and_stores_nothing(client, org, key, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_RULES": {"mails_per_address_hour": 2}}
    for number in range(2):
        petition = make_petition(org.organization, f"petition-{number}")
        assert post_json(client, sign_path(petition), PERSON, key).status_code == 202
    third = make_petition(org.organization, "petition-3")
    response = post_json(client, sign_path(third), PERSON, key)
    assert_error(response, 429, "mail_limited")
    assert response["Retry-After"] == "3600"
    assert Signature.objects.filter(petition=third).count() == 0


def test_a_flood_from_one_domain_hits_the_forms_domain_limit(client, petition, key, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_RULES": {"per_domain_hour": 2}}
    for number in range(2):
        body = {**PERSON, "email": f"person{number}@flood.example"}
        assert post_json(client, sign_path(petition), body, key).status_code == 202
    response = post_json(client, sign_path(petition), {**PERSON, "email": "x@flood.example"}, key)
    assert_error(response, 429, "domain_limit")
    assert int(response["Retry-After"]) > 0
    # The per-network limits of the browser form do not apply between servers.
    for number in range(12):
        body = {**PERSON, "email": f"person@domain{number}.example"}
        assert post_json(client, sign_path(petition), body, key).status_code == 202


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
FIELD_NAMES = st.sampled_from(
    [
        *PERSON,
        "postcode",
        "reason",
        "show_name",
        "keep_updated",
        "partner_consent",
        "language",
        "extra",
    ]
)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(FIELD_NAMES | st.text(max_size=10), JSON_VALUES | st.text(), max_size=8)
)
def test_no_body_is_ever_a_500(petition, key, body):
    client = Client(raise_request_exception=False)
    response = post_json(client, sign_path(petition), body, key)
    assert response.status_code in {202, 400, 409, 413, 422, 429}, response.content
    data = response.json()
    if response.status_code != 202:
        assert {"error", "message"} <= set(data)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200))
def test_no_bytes_are_ever_a_500(petition, key, raw):
    client = Client(raise_request_exception=False)
    response = post_json(client, sign_path(petition), raw, key)
    assert 400 <= response.status_code < 500 or response.status_code == 202
    assert "error" in response.json() or response.status_code == 202


# --- RSVPs --------------------------------------------------------------------------------


@pytest.fixture
def event(org):
    day = make_day(make_campaign(org.organization))
    return make_event(day)


def test_an_rsvp_through_the_api_is_pending_until_confirmed(client, org, event, key, outbox):
    body = {"first_name": "Malala", "last_name": "Yousafzai", "email": "malala@example.org"}
    response = post_json(client, rsvp_path(event), {**body, "language": "ps"}, key)
    assert response.status_code == 202
    assert response.json()["status"] == "pending_confirmation"
    rsvp = Rsvp.objects.get()
    assert rsvp.state == RsvpState.PENDING
    assert rsvp.language == "ps"
    assert bytes(rsvp.contact_locked)  # Reminders by default, as the form's ticked box.
    record = org.unseal(rsvp.sealed)
    assert record["email"] == "malala@example.org"
    run_tasks()
    [mail] = outbox
    assert "/ps/e/london-protest/confirm/" in mail.body
    again = post_json(
        client, rsvp_path(event), {**body, "language": "ps", "wants_notices": False}, key
    )
    assert again.status_code == 202
    assert again.json() == response.json()  # Nothing tells that the address had RSVPed.
    assert Rsvp.objects.count() == 1


def test_a_partner_rsvps_to_the_campaigns_events_but_not_to_others(client, org, event, outbox):
    voices = make_org("voices").organization
    key = partner_key(voices)
    assert_error(post_json(client, rsvp_path(event), ATTENDEE, key), 403, "not_your_event")
    add_partner(event.day.campaign, voices)
    assert post_json(client, rsvp_path(event), ATTENDEE, key).status_code == 202


def test_an_rsvp_needs_the_rsvp_scope_and_an_open_event(client, org, event, now):
    body = ATTENDEE
    sign_only = partner_key(org.organization, scopes=["sign"])
    body_403 = assert_error(
        post_json(client, rsvp_path(event), body, sign_only), 403, "missing_scope"
    )
    assert "rsvp" in body_403["message"]
    key = partner_key(org.organization)
    from hamseda.actions import services as action_services

    action_services.cancel_event(event, now=now)
    assert_error(post_json(client, rsvp_path(event), body, key), 409, "event_not_open")
    response = post_json(client, f"{API}/events/no-such-event/rsvps", body, key)
    assert_error(response, 404, "not_found")


# --- the document -------------------------------------------------------------------------


def test_the_openapi_document_describes_the_write_endpoints(client, db):
    spec = client.get(f"{API}/openapi.json").json()
    validate(spec)
    for path in [f"{API}/petitions/{{slug}}/signatures", f"{API}/events/{{slug}}/rsvps"]:
        operation = spec["paths"][path]["post"]
        assert set(operation["responses"]) >= {
            "202",
            "400",
            "401",
            "403",
            "404",
            "409",
            "413",
            "415",
            "422",
            "429",
        }
        error = operation["responses"]["422"]["content"]["application/json"]["schema"]
        assert error["$ref"].endswith("/ErrorOut")
        assert operation["security"]
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert "Idempotency-Key" in names
    schema = spec["components"]["schemas"]["SignatureIn"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["reason"]["maxLength"] == 1000
    assert set(spec["components"]["schemas"]["ErrorOut"]["properties"]) >= {"error", "message"}
