"""OSDI under /api/osdi/v1/ (docs/api-osdi-webhooks.md): the HAL shapes of the OSDI
specification's examples, paging, the JSON API's read headers, and the record helpers,
which sign and RSVP with a key like the write API and never list people."""

import json
import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.actions.models import Rsvp
from hamseda.api import keys
from hamseda.petitions import services
from hamseda.petitions.models import DecisionMaker, Signature, SignatureState
from tests.actions.factories import make_day, make_event
from tests.conftest import confirmation_link, make_org, make_petition, run_tasks, signer

OSDI = "/api/osdi/v1"
HAL = "application/hal+json"
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# The fields of a petition and an event in the OSDI specification's examples
# (petitions.md, events.md) that Hamseda has something for.
PETITION_FIELDS = {
    "identifiers",
    "origin_system",
    "created_date",
    "modified_date",
    "name",
    "title",
    "description",
    "summary",
    "petition_text",
    "browser_url",
    "total_signatures",
    "target",
    "_links",
}
EVENT_FIELDS = {
    "identifiers",
    "origin_system",
    "created_date",
    "modified_date",
    "name",
    "title",
    "description",
    "instructions",
    "browser_url",
    "type",
    "status",
    "visibility",
    "total_accepted",
    "start_date",
    "end_date",
    "all_day",
    "location",
    "_links",
}
COLLECTION_FIELDS = {"total_pages", "per_page", "page", "total_records", "_links", "_embedded"}


def osdi_person(email="maryam@example.org", **person):
    body = {
        "person": {
            "identifiers": ["partner_crm:123"],
            "given_name": "Maryam",
            "family_name": "Ahmadi",
            "email_addresses": [{"address": email, "primary": True, "address_type": "Personal"}],
            "postal_addresses": [{"primary": True, "postal_code": "11122", "country": "se"}],
            "phone_numbers": [{"primary": True, "number": "46700000000"}],
            **person,
        },
        "origin_system": "Partner CRM",
        "action_date": "2026-03-18T11:02:15Z",
        "referrer_data": {"source": "newsletter"},
        "add_tags": ["volunteer"],
    }
    return body


@pytest.fixture
def counted(petition, outbox, now):
    """The open petition, addressed to a decision-maker, with 2 confirmed signatures
    and 1 pending."""
    petition.targets.add(
        DecisionMaker.objects.create(
            organization=petition.organization, name="Jane Doe", position="Chief Executive"
        )
    )
    for number in (1, 2, 3):
        services.sign_petition(petition, signer(number, first_name="Zarghuna"), now=now)
    run_tasks()
    for message in outbox[:2]:
        token = confirmation_link(message).rsplit("/", 1)[1]
        assert services.confirm_signature(petition, token, now=now) == "confirmed"
    petition.refresh_from_db()
    return petition


@pytest.fixture
def event(petition, now):
    day = make_day(petition.campaign, now=now)
    return make_event(day, host=petition.organization, now=now, capacity=50)


def key_for(organization, *scopes):
    _key, plain = keys.create_key(organization, name="Website", scopes=scopes, created_by=None)
    return plain


def post(client, url, body, token=None, **headers):
    if token:
        headers["HTTP_OSDI_API_TOKEN"] = token
    return client.post(
        url, data=json.dumps(body), content_type=headers.pop("content_type", HAL), **headers
    )


def assert_link(link, path):
    assert link["href"].startswith("http")
    assert link["href"].endswith(path)


# --- reading ---------------------------------------------------------------------------


def test_the_entry_point_links_petitions_and_events(client, db):
    response = client.get(f"{OSDI}/")
    assert response.status_code == 200
    assert response["Content-Type"] == HAL
    data = response.json()
    assert data["osdi_version"] == "1.1"
    assert data["vendor_name"] == "Hamseda"
    assert data["max_pagesize"] == 100
    assert data["motd"]
    links = data["_links"]
    assert links["curies"] == [
        {
            "name": "osdi",
            "href": "https://opensupporter.github.io/osdi-docs/{rel}",
            "templated": True,
        }
    ]
    assert_link(links["self"], f"{OSDI}/")
    assert_link(links["osdi:petitions"], f"{OSDI}/petitions")
    assert_link(links["osdi:events"], f"{OSDI}/events")


def test_a_petition_has_the_shape_of_the_osdi_example(client, counted):
    response = client.get(f"{OSDI}/petitions/{counted.slug}")
    assert response.status_code == 200
    assert response["Content-Type"] == HAL
    data = response.json()
    assert set(data) == PETITION_FIELDS
    assert data["identifiers"] == ["hamseda:free-speech"]
    assert data["origin_system"] == "Hamseda"
    assert data["title"] == "Suspend the accounts"
    assert data["summary"] == "Why it matters."
    assert "<strong>Bold</strong>" in data["description"]
    assert data["total_signatures"] == 2  # Confirmed only.
    assert data["target"] == [{"name": "Jane Doe, Chief Executive"}]
    assert data["browser_url"].endswith("/p/free-speech/")
    assert DATE.match(data["created_date"])
    assert DATE.match(data["modified_date"])
    links = data["_links"]
    assert_link(links["self"], f"{OSDI}/petitions/free-speech")
    assert_link(links["osdi:signatures"], f"{OSDI}/petitions/free-speech/signatures")
    assert_link(
        links["osdi:record_signature_helper"],
        f"{OSDI}/petitions/free-speech/record_signature_helper",
    )
    assert links["curies"][0]["name"] == "osdi"
    # No person anywhere: no creator, no signer.
    assert "osdi:creator" not in links
    assert "Zarghuna" not in response.content.decode()
    assert "example.org" not in response.content.decode()


def test_a_petition_speaks_the_requested_language(client, counted):
    data = client.get(f"{OSDI}/petitions/{counted.slug}?lang=fa").json()
    assert data["title"] == "حساب‌ها را مسدود کنید"
    assert "/fa/p/free-speech/" in data["browser_url"]
    response = client.get(f"{OSDI}/petitions/{counted.slug}?lang=de")
    assert response.status_code == 400
    assert response.json()["osdi:error"]["response_code"] == 400


def test_petitions_are_paged_like_the_osdi_example(client, org):
    for slug in ("one", "two", "three"):
        make_petition(org.organization, slug)
    make_petition(org.organization, "a-draft", open_=False)

    first = client.get(f"{OSDI}/petitions?per_page=2").json()
    assert set(first) == COLLECTION_FIELDS
    assert (first["total_records"], first["total_pages"], first["page"], first["per_page"]) == (
        3,
        2,
        1,
        2,
    )
    embedded = first["_embedded"]["osdi:petitions"]
    assert len(embedded) == 2
    assert all(set(item) == PETITION_FIELDS for item in embedded)
    assert first["_links"]["osdi:petitions"] == [item["_links"]["self"] for item in embedded]
    assert first["_links"]["next"]["href"].endswith("/petitions?page=2&per_page=2")
    assert "prev" not in first["_links"]

    second = client.get(first["_links"]["next"]["href"]).json()
    assert len(second["_embedded"]["osdi:petitions"]) == 1
    assert "next" not in second["_links"]
    assert second["_links"]["prev"]["href"].endswith("/petitions?page=1&per_page=2")
    slugs = {i["name"] for i in embedded + second["_embedded"]["osdi:petitions"]}
    assert slugs == {"one", "two", "three"}  # Never the draft.

    beyond = client.get(f"{OSDI}/petitions?page=9").json()
    assert beyond["_embedded"]["osdi:petitions"] == []
    for query in ("page=0", "per_page=101", "page=x", "per_page=-1", "page=%EF%BC%91"):
        response = client.get(f"{OSDI}/petitions?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"] == "invalid_query"


def test_a_draft_is_not_found(client, org):
    make_petition(org.organization, "a-draft", open_=False)
    response = client.get(f"{OSDI}/petitions/a-draft")
    assert response.status_code == 404
    assert response["Content-Type"] == HAL
    error = response.json()["osdi:error"]
    assert error["resource_status"][0]["error_descriptions"][0]["error_code"] == "NOT_FOUND"


def test_reads_have_the_json_apis_cache_etag_and_cors_headers(client, counted):
    url = f"{OSDI}/petitions/{counted.slug}"
    response = client.get(url)
    assert "public" in response["Cache-Control"]
    assert "max-age" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    etag = response["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    preflight = client.options(url, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert client.delete(url).status_code == 405


def test_an_event_has_the_shape_of_the_osdi_example(client, event):
    listed = client.get(f"{OSDI}/events").json()
    assert set(listed) == COLLECTION_FIELDS
    assert listed["total_records"] == 1
    data = listed["_embedded"]["osdi:events"][0]
    assert set(data) == EVENT_FIELDS | {"capacity"}
    assert data["identifiers"] == ["hamseda:london-protest"]
    assert data["title"] == "Protest in London"
    assert data["status"] == "confirmed"
    assert (data["type"], data["visibility"]) == ("open", "public")
    assert data["total_accepted"] == 0
    assert data["capacity"] == 50
    assert data["location"] == {"venue": event.venue, "locality": "London", "country": "GB"}
    assert DATE.match(data["start_date"])
    assert DATE.match(data["end_date"])
    assert data["browser_url"].endswith("/e/london-protest/")
    assert_link(data["_links"]["osdi:attendances"], f"{OSDI}/events/london-protest/attendances")
    assert_link(
        data["_links"]["osdi:record_attendance_helper"],
        f"{OSDI}/events/london-protest/record_attendance_helper",
    )
    one = client.get(f"{OSDI}/events/london-protest")
    assert one.status_code == 200
    assert one.json()["title"] == "Protest in London"


def test_people_are_never_listed(client, counted, event, org):
    token = key_for(org.organization, "sign", "rsvp")
    for url in (
        f"{OSDI}/petitions/{counted.slug}/signatures",
        f"{OSDI}/events/{event.slug}/attendances",
    ):
        for headers in ({}, {"HTTP_OSDI_API_TOKEN": token}):
            response = client.get(url, **headers)
            assert response.status_code == 403
            body = response.content.decode()
            assert response.json()["error"] == "not_listed"
            assert "osdi:error" in response.json()
            assert "Zarghuna" not in body
            assert "example.org" not in body


# --- the record signature helper ---------------------------------------------------------


def test_the_record_signature_helper_signs_pending_with_a_confirmation_mail(
    client, petition, org, outbox
):
    token = key_for(org.organization, "sign")
    url = f"{OSDI}/petitions/{petition.slug}/record_signature_helper"
    response = post(client, url, {**osdi_person(), "comments": "For my sisters"}, token)

    assert response.status_code == 202
    assert response["Content-Type"] == HAL
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert data["status"] == "pending_confirmation"
    assert data["origin_system"] == "Hamseda"
    assert_link(data["_links"]["osdi:petition"], f"{OSDI}/petitions/{petition.slug}")
    # Neither the person nor an id that would tell a new signature from a repeated one.
    assert "maryam" not in response.content.decode().lower()
    assert "identifiers" not in data
    signature = Signature.objects.get(petition=petition)
    assert signature.state == SignatureState.PENDING
    run_tasks()
    assert [message.to for message in outbox] == [["maryam@example.org"]]
    petition.refresh_from_db()
    assert petition.signature_count == 0  # Counts once confirmed.


def test_posting_to_signatures_is_the_helper_too(client, petition, org):
    token = key_for(org.organization, "sign")
    response = post(
        client,
        f"{OSDI}/petitions/{petition.slug}/signatures",
        osdi_person(),
        token,
        content_type="application/json",
    )
    assert response.status_code == 202
    assert Signature.objects.filter(petition=petition).count() == 1


def test_the_helper_refuses_without_a_key_or_with_the_wrong_one(client, petition, org):
    url = f"{OSDI}/petitions/{petition.slug}/record_signature_helper"
    response = post(client, url, osdi_person())
    assert response.status_code == 401
    assert "OSDI-API-Token" in response.json()["message"]
    assert post(client, url, osdi_person(), "hsk_000000000000_" + "x" * 40).status_code == 401
    rsvp_only = key_for(org.organization, "rsvp")
    response = post(client, url, osdi_person(), rsvp_only)
    assert response.status_code == 403
    assert response.json()["error"] == "missing_scope"
    other = key_for(make_org("other-org").organization, "sign")
    response = post(client, url, osdi_person(), other)
    assert response.status_code == 403
    assert response.json()["osdi:error"]["resource_status"][0]["resource"] == "osdi:signature"
    # The Bearer header of the JSON API works too.
    own = key_for(org.organization, "sign")
    response = client.post(
        url, json.dumps(osdi_person()), content_type=HAL, HTTP_AUTHORIZATION=f"Bearer {own}"
    )
    assert response.status_code == 202
    assert Signature.objects.filter(petition=petition).count() == 1


def test_a_retry_with_the_same_idempotency_key_signs_once(client, petition, org):
    token = key_for(org.organization, "sign")
    url = f"{OSDI}/petitions/{petition.slug}/record_signature_helper"
    first = post(client, url, osdi_person(), token, HTTP_IDEMPOTENCY_KEY="retry-1")
    second = post(client, url, osdi_person(), token, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, second.status_code) == (202, 202)
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Signature.objects.filter(petition=petition).count() == 1
    other = post(
        client, url, osdi_person("other@example.org"), token, HTTP_IDEMPOTENCY_KEY="retry-1"
    )
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"


def test_wrong_fields_are_named_as_in_the_osdi_body(client, petition, org):
    token = key_for(org.organization, "sign")
    url = f"{OSDI}/petitions/{petition.slug}/record_signature_helper"

    response = post(client, url, {"comments": "no person"}, token)
    assert response.status_code == 422
    assert "person" in response.json()["fields"]

    body = osdi_person(email_addresses=[{"address": 42}])
    response = post(client, url, body, token)
    assert response.status_code == 422
    assert "person.email_addresses[0].address" in response.json()["fields"]

    response = post(client, url, osdi_person(email="not-an-address"), token)
    assert response.status_code == 422
    assert "person.email_addresses.address" in response.json()["fields"]
    properties = response.json()["osdi:error"]["resource_status"][0]["error_descriptions"][0]
    assert "person.email_addresses.address" in properties["properties"]

    response = client.post(url, "{not json", content_type=HAL, HTTP_OSDI_API_TOKEN=token)
    assert response.status_code == 400
    response = client.post(url, "<x/>", content_type="text/xml", HTTP_OSDI_API_TOKEN=token)
    assert response.status_code == 415
    assert client.get(url).status_code == 405
    assert not Signature.objects.exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=15), children, max_size=4)
    ),
    max_leaves=12,
)


@hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "person": st.dictionaries(
                    st.sampled_from(list(osdi_person()["person"])), json_values
                )
            },
            optional={"comments": json_values, "show_name": json_values},
        ),
    )
)
def test_any_body_gets_a_clear_answer_never_a_500(client, petition, org, body):
    token = key_for(org.organization, "sign")
    response = post(
        client, f"{OSDI}/petitions/{petition.slug}/record_signature_helper", body, token
    )
    assert response.status_code in {202, 400, 413, 415, 422, 429}
    assert response.json()["message" if response.status_code != 202 else "status"]


# --- the record attendance helper ---------------------------------------------------------


def test_the_record_attendance_helper_rsvps_pending(client, event, org, outbox):
    token = key_for(org.organization, "rsvp")
    url = f"{OSDI}/events/{event.slug}/record_attendance_helper"
    response = post(client, url, {**osdi_person(), "status": "accepted"}, token)
    assert response.status_code == 202
    assert response.json()["status"] == "pending_confirmation"
    assert_link(response.json()["_links"]["osdi:event"], f"{OSDI}/events/{event.slug}")
    assert Rsvp.objects.filter(event=event).count() == 1
    run_tasks()
    assert [message.to for message in outbox] == [["maryam@example.org"]]

    declined = post(client, url, {**osdi_person(), "status": "declined"}, token)
    assert declined.status_code == 422
    assert "status" in declined.json()["fields"]
    assert post(client, url, osdi_person(), key_for(org.organization, "sign")).status_code == 403
