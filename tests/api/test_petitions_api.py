"""The public JSON API: the fields DESIGN.md names, confirmed signatures only, only
public petitions, languages, pagination, cache and CORS headers, a valid OpenAPI
document, and /healthz."""

from datetime import timedelta

import pytest
from openapi_spec_validator import validate

from hamseda.petitions import services
from hamseda.petitions.countries import country_name
from hamseda.petitions.models import DecisionMaker, PetitionState
from tests.conftest import confirmation_link, make_petition, run_tasks, signer

API = "/api/v1"
FIELDS = {
    "slug",
    "title",
    "state",
    "signature_count",
    "goal",
    "signatures_by_country",
    "targets",
    "opened_at",
    "closing_at",
    "url",
}


@pytest.fixture
def counted(petition, outbox, now):
    """The open petition with 3 confirmed signatures (SE, SE, AF) and 1 pending (GB)."""
    target = DecisionMaker.objects.create(
        organization=petition.organization, name="Jane Doe", position="Chief Executive"
    )
    petition.targets.add(target)
    people = [
        signer(1, country="SE", first_name="Zarghuna", show_name=True),
        signer(2, country="SE"),
        signer(3, country="AF"),
        signer(4, country="GB"),
    ]
    for person in people:
        services.sign_petition(petition, person, now=now)
    run_tasks()
    for message in outbox[:3]:
        token = confirmation_link(message).rsplit("/", 1)[1]
        assert services.confirm_signature(petition, token, now=now) == "confirmed"
    petition.refresh_from_db()
    return petition


def not_public(org):
    """One petition in each state that the public must not see."""
    draft = make_petition(org.organization, "a-draft", open_=False)
    submitted = services.submit_petition(
        make_petition(org.organization, "a-submitted", open_=False)
    )
    rejected = services.reject_petition(
        services.submit_petition(make_petition(org.organization, "a-rejected", open_=False)),
        "Not yet.",
    )
    return [draft, submitted, rejected]


def test_a_petition_has_the_fields_of_the_design(client, counted):
    response = client.get(f"{API}/petitions/{counted.slug}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) >= FIELDS
    assert data["slug"] == "free-speech"
    assert data["title"] == "Suspend the accounts"
    assert data["state"] == "open"
    assert data["signature_count"] == 3  # The pending GB signature does not count.
    assert data["goal"] == 100
    assert data["signatures_by_country"] == [
        {"code": "SE", "name": "Sweden", "count": 2},
        {"code": "AF", "name": "Afghanistan", "count": 1},
    ]
    assert data["targets"] == [{"name": "Jane Doe", "position": "Chief Executive"}]
    assert data["opened_at"].startswith(counted.opened_at.date().isoformat())
    assert data["closing_at"] is None
    assert data["url"] == "http://testserver/p/free-speech/"


def test_it_shows_no_personal_data(client, counted):
    for path in [f"{API}/petitions", f"{API}/petitions/{counted.slug}"]:
        body = client.get(path).text
        assert "Zarghuna" not in body
        assert "Signer" not in body
        assert "@example.org" not in body


def test_the_list_has_the_same_petitions_and_fields(client, counted):
    response = client.get(f"{API}/petitions")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    [item] = data["items"]
    assert set(item) >= FIELDS
    assert item == client.get(f"{API}/petitions/{counted.slug}").json()


def test_it_hides_drafts_submitted_and_rejected_petitions(client, org, petition):
    hidden = not_public(org)
    listed = [p["slug"] for p in client.get(f"{API}/petitions").json()["items"]]
    assert listed == ["free-speech"]
    for item in hidden:
        response = client.get(f"{API}/petitions/{item.slug}")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert response.json()["detail"]
    assert client.get(f"{API}/petitions/no-such-petition").status_code == 404


def test_closed_and_won_petitions_stay_public_with_their_state(client, org, petition, now):
    closed = services.close_petition(make_petition(org.organization, "closed-one"))
    won = services.mark_won(make_petition(org.organization, "won-one"))
    late = make_petition(org.organization, "past-its-date")
    late.closing_at = now - timedelta(hours=1)
    late.save()
    states = {p["slug"]: p["state"] for p in client.get(f"{API}/petitions").json()["items"]}
    assert states == {
        "free-speech": "open",
        "closed-one": "closed",
        "won-one": "won",
        "past-its-date": "closed",  # Open in the database, but no longer signable.
    }
    assert client.get(f"{API}/petitions/{closed.slug}").json()["state"] == PetitionState.CLOSED
    assert client.get(f"{API}/petitions/{won.slug}").json()["state"] == PetitionState.WON
    data = client.get(f"{API}/petitions/{late.slug}").json()
    assert data["closing_at"].startswith(late.closing_at.date().isoformat())


def test_it_speaks_dari_and_pashto(client, counted):
    data = client.get(f"{API}/petitions/{counted.slug}?lang=fa").json()
    assert data["title"] == "حساب‌ها را مسدود کنید"
    assert [c["name"] for c in data["signatures_by_country"]] == [
        country_name("SE", "fa"),
        country_name("AF", "fa"),
    ]
    assert country_name("SE", "fa") not in {"", "SE", "Sweden"}
    assert data["url"] == "http://testserver/fa/p/free-speech/"
    listed = client.get(f"{API}/petitions?lang=fa").json()["items"][0]
    assert listed["title"] == "حساب‌ها را مسدود کنید"
    # No Pashto text: the title falls back to the petition's language; countries in Pashto.
    data = client.get(f"{API}/petitions/{counted.slug}?lang=ps").json()
    assert data["title"] == "Suspend the accounts"
    assert data["signatures_by_country"][0]["name"] == country_name("SE", "ps")
    assert country_name("SE", "ps") not in {"", "SE", "Sweden"}


@pytest.mark.parametrize("lang", ["xx", "EN", "", "fa-AF", "<script>"])
def test_a_bad_language_is_a_4xx_json_error(client, petition, lang):
    for path in [f"{API}/petitions", f"{API}/petitions/{petition.slug}"]:
        response = client.get(path, {"lang": lang})
        assert response.status_code == 422
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json()


def test_it_pages_with_limit_and_offset(client, org, now):
    for number in range(5):
        petition = make_petition(org.organization, f"petition-{number}")
        # Opened one day apart: the newest first.
        petition.opened_at = now - timedelta(days=5 - number)
        petition.save()
    first = client.get(f"{API}/petitions", {"limit": 2}).json()
    assert first["count"] == 5
    assert [p["slug"] for p in first["items"]] == ["petition-4", "petition-3"]
    second = client.get(f"{API}/petitions", {"limit": 2, "offset": 2}).json()
    assert [p["slug"] for p in second["items"]] == ["petition-2", "petition-1"]
    last = client.get(f"{API}/petitions", {"limit": 2, "offset": 4}).json()
    assert [p["slug"] for p in last["items"]] == ["petition-0"]
    beyond = client.get(f"{API}/petitions", {"offset": 50}).json()
    assert beyond == {"items": [], "count": 5, "limit": 20, "offset": 50}
    assert len(client.get(f"{API}/petitions").json()["items"]) == 5  # Default limit: 20.


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": -1},
        {"limit": 101},
        {"limit": "ten"},
        {"limit": "1" + "0" * 30},
        {"offset": -1},
        {"offset": "x"},
        {"offset": "9" * 30},
        {"limit": "2.5"},
    ],
)
def test_bad_paging_is_a_4xx_json_error(client, petition, query):
    response = client.get(f"{API}/petitions", query)
    assert response.status_code == 422
    assert "detail" in response.json()


def test_every_answer_may_be_cached_briefly_and_read_from_anywhere(client, org, petition):
    not_public(org)
    for path in [
        f"{API}/petitions",
        f"{API}/petitions?limit=1&offset=0",
        f"{API}/petitions/{petition.slug}",
        f"{API}/petitions/a-draft",  # 404
        f"{API}/petitions?lang=xx",  # 422
        f"{API}/openapi.json",
    ]:
        response = client.get(path)
        assert response["Cache-Control"] == "public, max-age=15", path
        assert response["Access-Control-Allow-Origin"] == "*", path


def test_it_refuses_to_write(client, petition):
    response = client.post(f"{API}/petitions", {}, content_type="application/json")
    assert response.status_code == 405
    assert response["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in response


def test_the_openapi_document_is_valid(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert {f"{API}/petitions", f"{API}/petitions/{{slug}}"} <= set(spec["paths"])
    petition_schema = spec["components"]["schemas"]["PetitionOut"]
    assert set(petition_schema["properties"]) >= FIELDS


def test_the_health_check_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
