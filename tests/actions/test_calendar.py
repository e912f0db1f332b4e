"""iCalendar files of events and the campaign feed, parsed back with icalendar."""

import datetime
import zoneinfo

import icalendar
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from hamseda.actions import calendar, services
from tests.actions.scene_dates import NOW, make_campaign, make_day, make_event, three_cities, wall


@pytest.fixture
def campaign(org):
    return make_campaign(org.organization)


@pytest.fixture
def day(campaign):
    return make_day(campaign)


@pytest.fixture
def events(day):
    return three_cities(day)


def fetch(client, url: str) -> tuple[icalendar.Calendar, bytes]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "max-age=" in response["Cache-Control"]
    body = response.content
    return icalendar.Calendar.from_ical(body), body


def only_event(parsed: icalendar.Calendar) -> icalendar.Event:
    (event,) = parsed.events
    return event


def test_it_serves_one_event_with_its_zone(client, events):
    london = events[1]
    parsed, body = fetch(client, reverse("calendar:event_ics", args=[london.slug]))

    assert parsed["METHOD"] == "PUBLISH"
    assert parsed["VERSION"] == "2.0"
    vevent = only_event(parsed)
    assert str(vevent["UID"]) == f"event-{london.pk}@testserver"
    assert vevent["SEQUENCE"] == london.sequence
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["SUMMARY"]) == "Protest in London"
    assert "Cover your face" in str(vevent["DESCRIPTION"])
    assert str(vevent["URL"]).endswith(f"/e/{london.slug}/")
    assert "London" in str(vevent["LOCATION"])
    assert "DTSTAMP" in vevent
    assert "LAST-MODIFIED" in vevent
    # 12:00 London time on 15 March (GMT) is 12:00 UTC, with its TZID.
    assert vevent.start == datetime.datetime(
        2026, 3, 15, 12, tzinfo=zoneinfo.ZoneInfo("Europe/London")
    )
    assert vevent["DTSTART"].params["TZID"] == "Europe/London"
    assert {tz.tz_name for tz in parsed.timezones} == {"Europe/London"}
    assert parsed.get_missing_tzids() == set()
    # RFC 5545: CRLF line endings and lines folded at 75 octets.
    assert b"\r\n" in body
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    assert b"\n" not in body.replace(b"\r\n", b"")


def test_it_never_writes_attendees(client, events, org):
    body = client.get(reverse("calendar:event_ics", args=[events[0].slug])).content
    assert b"ATTENDEE" not in body
    feed = client.get(reverse("calendar:campaign_ics", args=[events[0].day.campaign.slug]))
    assert b"ATTENDEE" not in feed.content


def test_it_keeps_the_uid_and_bumps_the_sequence_on_an_edit(client, events):
    london = events[1]
    url = reverse("calendar:event_ics", args=[london.slug])
    before = only_event(fetch(client, url)[0])

    services.save_event(
        london.day,
        event=london,
        slug="london-moved",
        host=london.host,
        city="London",
        country="GB",
        venue="Another street",
        starts_at=wall(2026, 3, 15, 13),
        ends_at=wall(2026, 3, 15, 15),
        time_zone="Europe/London",
        texts={"en": {"title": "Protest in London, moved"}},
        now=NOW,
    )
    london.refresh_from_db()
    after = only_event(fetch(client, reverse("calendar:event_ics", args=[london.slug]))[0])

    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.start.hour == 13


def test_it_cancels_with_method_cancel(client, events):
    stockholm = services.cancel_event(events[2], now=NOW)
    parsed, _body = fetch(client, reverse("calendar:event_ics", args=[stockholm.slug]))

    assert parsed["METHOD"] == "CANCEL"
    vevent = only_event(parsed)
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert vevent["SEQUENCE"] == stockholm.sequence >= 1
    assert str(vevent["UID"]) == f"event-{stockholm.pk}@testserver"
    assert "ORGANIZER" in vevent


def test_it_hides_drafts_and_unknown_events(client, day, campaign):
    draft = make_event(
        day,
        "draft",
        city="Oslo",
        country="NO",
        time_zone="Europe/Oslo",
        starts_at=wall(2026, 3, 15, 12),
        ends_at=wall(2026, 3, 15, 13),
        publish=False,
    )
    assert client.get(reverse("calendar:event_ics", args=[draft.slug])).status_code == 404
    assert client.get(reverse("calendar:event_ics", args=["nothing"])).status_code == 404
    assert client.get(reverse("calendar:campaign_ics", args=["nothing"])).status_code == 404
    parsed, _body = fetch(client, reverse("calendar:campaign_ics", args=[campaign.slug]))
    assert parsed.events == []


def test_it_hides_a_private_campaign(client, events, campaign):
    campaign.is_public = False
    campaign.save()
    assert client.get(reverse("calendar:campaign_ics", args=[campaign.slug])).status_code == 404
    assert client.get(reverse("calendar:event_ics", args=[events[0].slug])).status_code == 404


def test_it_lists_published_and_cancelled_events_in_the_feed(client, campaign, events, day):
    services.cancel_event(events[0], now=NOW)
    make_event(
        day,
        "draft",
        city="Oslo",
        country="NO",
        time_zone="Europe/Oslo",
        starts_at=wall(2026, 3, 15, 12),
        ends_at=wall(2026, 3, 15, 13),
        publish=False,
    )
    parsed, body = fetch(client, reverse("calendar:campaign_ics", args=[campaign.slug]))

    assert str(parsed["X-WR-CALNAME"]) == "Ban the accounts: days of action"
    assert parsed["REFRESH-INTERVAL"].dt == datetime.timedelta(hours=1)
    assert parsed["X-PUBLISHED-TTL"].to_ical() == b"PT1H"
    assert str(parsed["UID"]) == f"campaign-{campaign.pk}-events@testserver"
    statuses = {str(e["UID"]): str(e["STATUS"]) for e in parsed.events}
    assert statuses == {
        f"event-{events[0].pk}@testserver": "CANCELLED",
        f"event-{events[1].pk}@testserver": "CONFIRMED",
        f"event-{events[2].pk}@testserver": "CONFIRMED",
    }
    # A VTIMEZONE for every TZID used, and none missing.
    assert {tz.tz_name for tz in parsed.timezones} == {
        "America/Los_Angeles",
        "Europe/London",
        "Europe/Stockholm",
    }
    assert parsed.get_missing_tzids() == set()
    assert b"Oslo" not in body


def test_it_writes_the_readers_language(client, campaign, events):
    with translation.override("fa"):
        url = reverse("calendar:campaign_ics", args=[campaign.slug])
    assert url.startswith("/fa/")
    parsed, _body = fetch(client, url)
    summaries = {str(e["SUMMARY"]) for e in parsed.events}
    assert "اعتراض در London" in summaries
    assert all("/fa/e/" in str(e["URL"]) for e in parsed.events)


@override_settings(BASE_URL="https://campaigns.example.org")
def test_it_takes_the_uid_host_from_the_base_url(events):
    calendar.uid_host.cache_clear()
    try:
        assert calendar.event_uid(events[0]) == f"event-{events[0].pk}@campaigns.example.org"
        assert calendar.subscribe_url(events[0].day.campaign).startswith(
            "webcal://campaigns.example.org/"
        )
    finally:
        calendar.uid_host.cache_clear()


def test_it_keeps_a_dst_crossing_event_in_its_zone(client, day):
    # 1 November 2026: Los Angeles goes from PDT (UTC-7) to PST (UTC-8) at 02:00.
    vigil = make_event(
        day,
        "night-vigil",
        city="Los Angeles",
        country="US",
        time_zone="America/Los_Angeles",
        starts_at=wall(2026, 10, 31, 23),
        ends_at=wall(2026, 11, 1, 4),
    )
    vevent = only_event(fetch(client, reverse("calendar:event_ics", args=[vigil.slug]))[0])
    assert vevent.start.astimezone(datetime.UTC) == datetime.datetime(
        2026, 11, 1, 6, tzinfo=datetime.UTC
    )
    assert vevent.end.astimezone(datetime.UTC) == datetime.datetime(
        2026, 11, 1, 12, tzinfo=datetime.UTC
    )
    # Six hours, though the wall clock says five (compared in UTC: Python subtracts
    # datetimes of one zone by their wall clocks).
    assert vevent.end.astimezone(datetime.UTC) - vevent.start.astimezone(
        datetime.UTC
    ) == datetime.timedelta(hours=6)
    assert vevent["DTSTART"].params["TZID"] == "America/Los_Angeles"
