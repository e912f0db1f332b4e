"""The public read API beyond DESIGN.md's petition contract (tests/api/test_petitions_api.py):
campaigns, petitions' milestones, responses, outcome and updates, the count, days of
action and events, press releases, pulse totals; their filters, languages and paging;
and that nothing personal ever shows."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from hamseda.newsroom.models import PressRelease
from hamseda.pulse import pulses
from tests.api.dataset import Dataset, make_dataset
from tests.conftest import make_org, make_petition

API = "/api/v1"
LONDON = ZoneInfo("Europe/London")
LIST_PATHS = ["/campaigns", "/petitions", "/days", "/events", "/press"]


@pytest.fixture
def data(db, outbox, now) -> Dataset:
    return make_dataset(outbox, now)


def get(client, path: str, **query) -> dict:
    response = client.get(f"{API}{path}", query)
    assert response.status_code == 200, (path, response.content)
    return response.json()


# --- campaigns ------------------------------------------------------------------------------


def test_a_campaign_has_its_texts_coalition_petitions_and_days(client, data):
    campaign = get(client, f"/campaigns/{data.campaign.slug}")
    assert campaign["slug"] == data.campaign.slug
    assert campaign["name"] == "A campaign"
    assert campaign["languages"] == ["en", "fa"]
    assert campaign["hashtags"] == ["BanTaliban", "FreeAfghanistan"]
    assert campaign["colour"] == data.campaign.colour
    assert campaign["organization"] == {"name": "Alliance", "slug": "alliance"}
    assert campaign["partners"] == [
        {
            "name": "Partner-Org",
            "url": "https://partner.example.org/",
            "description": "A coalition partner.",
            "logo_url": None,
        }
    ]
    # Public petitions only (the draft is not there), newest first.
    assert set(campaign["petitions"]) == {data.petition.slug, data.won.slug}
    assert campaign["days_of_action"] == [
        {
            "slug": "day-of-action",
            "date": data.day.date.isoformat(),
            "title": "Day of action",
            "state": "published",
            "url": f"http://testserver/c/{data.campaign.slug}/days/day-of-action/",
        }
    ]
    assert campaign["pulse"] == f"http://testserver{API}/campaigns/{data.campaign.slug}/pulse"
    assert campaign["url"] == f"http://testserver/c/{data.campaign.slug}/"
    listed = get(client, "/campaigns")
    assert listed["count"] == 1
    assert listed["items"] == [campaign]


def test_a_campaign_speaks_dari_and_a_private_one_is_not_found(client, data):
    campaign = get(client, f"/campaigns/{data.campaign.slug}", lang="fa")
    assert (campaign["name"], campaign["language"]) == ("کمپاین", "fa")
    assert campaign["url"] == f"http://testserver/fa/c/{data.campaign.slug}/"
    data.campaign.is_public = False
    data.campaign.save()
    assert client.get(f"{API}/campaigns/{data.campaign.slug}").status_code == 404
    assert get(client, "/campaigns")["items"] == []


# --- petitions ------------------------------------------------------------------------------


def test_a_petition_shows_milestones_responses_outcome_and_updates(client, data, now):
    petition = get(client, f"/petitions/{data.petition.slug}")
    assert petition["signature_count"] == 3
    assert petition["campaign"] == data.campaign.slug
    assert petition["summary"] == "Why it matters."
    assert petition["languages"] == ["en", "fa"]
    # Reached ones with their date, then only the next one (as on the page).
    assert [(m["count"], m["descriptions"]) for m in petition["milestones"]] == [
        (2, ["Two"]),
        (10, []),
    ]
    assert petition["milestones"][0]["reached_at"] is not None
    assert petition["milestones"][1]["reached_at"] is None
    [response] = petition["responses"]
    assert response == {
        "name": "Jane Doe",
        "position": "Chief Executive",
        "date": now.date().isoformat(),
        "language": "en",
        "body": "We **hear** you.",
        "body_html": "<p>We <strong>hear</strong> you.</p>",
    }
    assert petition["outcome"] is None
    assert petition["updates"] == {
        "count": 1,
        "url": f"http://testserver{API}/petitions/{data.petition.slug}/updates",
    }


def test_a_won_petition_has_its_outcome_in_the_readers_language(client, data):
    won = get(client, f"/petitions/{data.won.slug}")
    assert won["state"] == "won"
    assert won["outcome"]["state"] == "won"
    assert won["outcome"]["statement"] == "We **won**."
    assert won["outcome"]["statement_html"] == "<p>We <strong>won</strong>.</p>"
    assert won["outcome"]["date"] is not None
    assert get(client, f"/petitions/{data.won.slug}", lang="fa")["outcome"]["statement"] == (
        "پیروز شدیم."
    )
    # No Pashto statement: the petition's main language.
    assert get(client, f"/petitions/{data.won.slug}", lang="ps")["outcome"]["statement"] == (
        "We **won**."
    )


def test_petitions_filter_by_campaign_and_state(client, data, now):
    other = make_petition(make_org("other").organization, "elsewhere")
    late = make_petition(data.petition.organization, "past-its-date")
    late.closing_at = now - timedelta(hours=1)
    late.save()

    def slugs(**query):
        return {item["slug"] for item in get(client, "/petitions", **query)["items"]}

    assert slugs(campaign=data.campaign.slug) == {data.petition.slug, data.won.slug, late.slug}
    assert slugs(campaign=other.campaign.slug) == {"elsewhere"}
    assert slugs(campaign="no-such-campaign") == set()
    assert slugs(state="open") == {data.petition.slug, "elsewhere"}
    assert slugs(state="closed") == {"past-its-date"}  # Open, but past its closing date.
    assert slugs(state="won") == {data.won.slug}
    assert get(client, "/petitions", state="won", limit=1)["count"] == 1


def test_the_count_is_tiny_and_short_lived(client, data):
    response = client.get(f"{API}/petitions/{data.petition.slug}/count")
    assert response.status_code == 200
    assert response.json() == {
        "slug": data.petition.slug,
        "signature_count": 3,
        "goal": 100,
        "state": "open",
    }
    assert response["Cache-Control"] == "public, max-age=5"
    assert client.get(f"{API}/petitions/{data.draft.slug}/count").status_code == 404
    assert client.get(f"{API}/petitions/{data.won.slug}/count").json()["state"] == "won"


def test_updates_are_the_published_ones_in_the_readers_language(client, data):
    updates = get(client, f"/petitions/{data.petition.slug}/updates")
    assert (updates["count"], updates["limit"], updates["offset"]) == (1, 20, 0)
    [update] = updates["items"]
    assert (update["title"], update["language"]) == ("Delivered", "en")
    assert update["body_html"] == "<p>We <em>delivered</em> it.</p>"
    assert update["url"] == (f"http://testserver/p/{data.petition.slug}/updates/{update['id']}/")
    dari = get(client, f"/petitions/{data.petition.slug}/updates", lang="fa")["items"][0]
    assert (dari["title"], dari["language"]) == ("تحویل شد", "fa")
    assert dari["url"].startswith("http://testserver/fa/p/")
    pashto = get(client, f"/petitions/{data.petition.slug}/updates", lang="ps")["items"][0]
    assert pashto["language"] == "en"
    assert client.get(f"{API}/petitions/{data.draft.slug}/updates").status_code == 404


# --- days of action and events ---------------------------------------------------------------


def test_days_of_action_list_their_public_events(client, data):
    day = get(client, "/days/day-of-action")
    assert day["events"] == ["london", "stockholm"]  # The draft event is not there.
    assert (day["title"], day["theme"], day["state"]) == ("Day of action", "Together", "published")
    assert day["description_html"] == "<p><strong>Go</strong></p>"
    assert get(client, "/days", campaign=data.campaign.slug)["items"] == [day]
    assert get(client, "/days", upcoming="true")["count"] == 1
    assert get(client, "/days", upcoming="false")["count"] == 0
    assert get(client, "/days", campaign="elsewhere")["count"] == 0


def test_an_event_has_counts_and_zoned_times_but_never_attendees(client, data):
    event = get(client, "/events/london")
    assert event["attendee_count"] == 1
    assert (event["capacity"], event["spaces_left"]) == (50, 49)
    assert event["time_zone"] == "Europe/London"
    # The same moment, written in the event's own zone, with its offset.
    starts_at = datetime.fromisoformat(event["starts_at"])
    assert starts_at == data.event.starts_at
    assert starts_at.utcoffset() == data.event.starts_at.astimezone(LONDON).utcoffset()
    assert event["country"] == {"code": "GB", "name": "United Kingdom"}
    assert (event["latitude"], event["longitude"]) == (51.5, -0.125)
    assert event["safety_notes"] == "Cover your face."
    assert event["host"] == "Alliance"
    assert event["url"] == "http://testserver/e/london/"
    assert event["calendar_url"] == "http://testserver/e/london/event.ics"
    assert not {"attendees", "rsvps"} & set(event)
    body = client.get(f"{API}/events").content.decode()
    for secret in ["Parwana", "Hidden", "parwana@"]:
        assert secret not in body
    stockholm = get(client, "/events/stockholm")
    assert stockholm["state"] == "cancelled"
    assert datetime.fromisoformat(stockholm["starts_at"]).utcoffset() in {
        timedelta(hours=1),
        timedelta(hours=2),
    }
    assert client.get(f"{API}/events/san-francisco").status_code == 404


def test_events_filter_by_campaign_day_country_and_time(client, data):
    def slugs(**query):
        return [item["slug"] for item in get(client, "/events", **query)["items"]]

    assert slugs() == ["london", "stockholm"]
    assert slugs(country="gb") == ["london"]
    assert slugs(country="SE") == ["stockholm"]
    assert slugs(day="day-of-action", campaign=data.campaign.slug) == ["london", "stockholm"]
    assert slugs(day="another-day") == []
    assert slugs(upcoming="true") == ["london", "stockholm"]
    assert slugs(upcoming="false") == []
    assert client.get(f"{API}/events", {"country": "GBR"}).status_code == 422


# --- press --------------------------------------------------------------------------------


def test_press_releases_are_public_only_after_their_embargo(client, data, now):
    release = get(client, "/press/public-release")
    assert release["title"] == "Release public-release"
    assert (release["body"], release["body_html"]) == ("**News**", "<p><strong>News</strong></p>")
    assert release["author"] == {"name": "Mina Karimi", "role": "Spokesperson"}
    assert release["quotes"] == [
        {
            "text": "We will not stop.",
            "speaker": "Mina Karimi",
            "speaker_role": "",
            "language": "en",
        }
    ]
    assert release["url"] == (f"http://testserver/c/{data.campaign.slug}/press/public-release/")
    assert [r["slug"] for r in get(client, "/press")["items"]] == ["public-release"]
    for hidden in ["embargoed-release", "draft-release"]:
        assert client.get(f"{API}/press/{hidden}").status_code == 404
    # Public is decided when read: once the embargo time has passed, it is there.
    PressRelease.objects.filter(pk=data.embargoed.pk).update(
        embargo_until=now - timedelta(minutes=1)
    )
    assert get(client, "/press/embargoed-release")["slug"] == "embargoed-release"
    assert get(client, "/press", campaign=data.campaign.slug)["count"] == 2
    assert get(client, "/press", kind="statement")["count"] == 0
    assert client.get(f"{API}/press", {"kind": "rumour"}).status_code == 422


# --- pulse --------------------------------------------------------------------------------


def test_the_pulse_gives_the_hashtag_totals(client, data):
    pulse = get(client, f"/campaigns/{data.campaign.slug}/pulse")
    assert pulse["campaign"] == data.campaign.slug
    assert pulse["posts"] == 3
    assert pulse["authors"] == 3  # Accounts are per platform.
    assert pulse["by_platform"] == {"x": 1, "bluesky": 1, "mastodon": 1}
    assert [m["count"] for m in pulse["milestones"]] == [2, 5]
    body = client.get(f"{API}/campaigns/{data.campaign.slug}/pulse").content.decode()
    assert "handle0" not in body


def test_an_organiser_only_pulse_is_not_found(client, data, now):
    pulses.save_settings(
        data.campaign, is_public=False, show_wall=True, keywords="", milestones="", now=now
    )
    assert client.get(f"{API}/campaigns/{data.campaign.slug}/pulse").status_code == 404
    assert client.get(f"{API}/campaigns/no-such-campaign/pulse").status_code == 404


# --- everywhere ----------------------------------------------------------------------------


def test_every_list_pages_the_same_way(client, data):
    for path in LIST_PATHS:
        page = get(client, path, limit=1, offset=1)
        assert set(page) == {"items", "count", "limit", "offset"}, path
        assert (page["limit"], page["offset"]) == (1, 1), path
        assert len(page["items"]) == (1 if page["count"] > 1 else 0), path
        for bad in [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"lang": "de"}]:
            response = client.get(f"{API}{path}", bad)
            assert response.status_code == 422, (path, bad)
            assert response.json()["error"] == "invalid_fields"


def test_nothing_personal_shows_anywhere(client, data):
    paths = [*LIST_PATHS, f"/campaigns/{data.campaign.slug}/pulse"]
    paths += [f"/petitions/{data.petition.slug}", f"/petitions/{data.petition.slug}/updates"]
    for path in paths:
        for lang in ["en", "fa"]:
            body = client.get(f"{API}{path}", {"lang": lang}).content.decode()
            for secret in ["Zarghuna", "Signer", "@example.org", "Parwana", "Hidden"]:
                assert secret not in body, (path, secret)


def test_a_petition_is_read_in_a_fixed_number_of_queries(
    client, data, django_assert_max_num_queries
):
    for number in range(3):
        make_petition(data.petition.organization, f"more-{number}")
    with django_assert_max_num_queries(8):  # Petitions, their count, 6 prefetches.
        assert client.get(f"{API}/petitions").status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(f"{API}/petitions/{data.petition.slug}/count").status_code == 200


def test_an_unknown_address_is_a_json_404(client, db):
    for path in ["/nothing", "/", "/petitions/", "/petitions/a/b/c"]:
        response = client.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"
        assert response["Access-Control-Allow-Origin"] == "*"


class TestBadQueries(HypothesisTestCase):
    """Whatever a reader puts in the query, the answer is JSON and never a 5xx."""

    @settings(max_examples=30, deadline=None)
    @given(
        path=st.sampled_from([*LIST_PATHS, "/petitions/x/updates"]),
        name=st.sampled_from(
            ["lang", "limit", "offset", "campaign", "state", "day", "country", "upcoming", "kind"]
        ),
        value=st.text(max_size=40),
    )
    def test_no_query_makes_it_fail(self, path, name, value):
        response = self.client.get(f"{API}{path}", {name: value})
        assert response.status_code in {200, 404, 422}
        assert "error" in response.json() or "items" in response.json()
