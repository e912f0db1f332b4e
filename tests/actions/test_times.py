"""Event times in the event's zone, UTC and (with JavaScript) the reader's: the
`event_times` and `local_date` tags and actions.times."""

import datetime
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from hamseda.actions import times
from tests.actions.scene_dates import make_campaign, make_day, make_event, wall

UTC = datetime.UTC


@pytest.fixture
def day(org):
    return make_day(make_campaign(org.organization))


def in_london(day, slug, start, end):
    return make_event(
        day,
        slug,
        city="London",
        country="GB",
        time_zone="Europe/London",
        starts_at=start,
        ends_at=end,
    )


def render(source: str, language: str = "en", **context) -> str:
    with translation.override(language):
        return Template("{% load action_dates %}" + source).render(Context(context))


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_it_shows_bst_before_the_october_change_and_gmt_after(day):
    before = in_london(day, "before", wall(2026, 10, 20, 18), wall(2026, 10, 20, 20))
    after = in_london(day, "after", wall(2026, 11, 1, 18), wall(2026, 11, 1, 20))

    shown_before = text_of(render("{% event_times event %}", event=before))
    shown_after = text_of(render("{% event_times event %}", event=after))

    assert "18:00 – 20:00 BST (UTC+1)" in shown_before
    assert "17:00 – 19:00 UTC" in shown_before
    assert "18:00 – 20:00 GMT (UTC+0)" in shown_after
    assert "18:00 – 19:00 UTC" not in shown_after
    assert "18:00 – 20:00 UTC" in shown_after
    assert "Local time in Europe/London" in shown_after


def test_it_shows_each_end_of_a_dst_crossing_event_with_its_offset(day):
    # Los Angeles, night of 31 October to 1 November 2026: clocks go back at 02:00.
    vigil = make_event(
        day,
        "vigil",
        city="Los Angeles",
        country="US",
        time_zone="America/Los_Angeles",
        starts_at=wall(2026, 10, 31, 23),
        ends_at=wall(2026, 11, 1, 4),
    )
    html = render("{% event_times event %}", event=vigil)
    shown = text_of(html)

    assert "23:00 PDT (UTC−7) –" in shown
    assert "04:00 PST (UTC−8)" in shown
    assert "Nov. 1, 2026, 04:00" in shown  # the end is on the next day
    # Six hours in UTC, 06:00 to 12:00, though the wall clock shows five.
    assert "Nov. 1, 2026, 06:00 – 12:00 UTC" in shown
    assert 'datetime="2026-11-01T06:00:00Z"' in html
    assert 'data-end="2026-11-01T12:00:00Z"' in html

    # The same instants in Stockholm, which left summer time a week earlier (CET, +1).
    start = times.in_zone(vigil.starts_at, "Europe/Stockholm")
    end = times.in_zone(vigil.ends_at, "Europe/Stockholm")
    assert (start.local.hour, start.label) == (7, "CET (UTC+1)")
    assert (end.local.hour, end.label) == (13, "CET (UTC+1)")
    assert end.utc - start.utc == datetime.timedelta(hours=6)


def test_it_shows_a_dst_crossing_instant_in_spring_in_both_zones():
    # 29 March 2026, 01:30 UTC: Stockholm has just gone to CEST, London to BST; the
    # same instant half an hour earlier was still CET / GMT in both.
    after = datetime.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    before = datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert times.in_zone(after, "Europe/Stockholm").label == "CEST (UTC+2)"
    assert times.in_zone(before, "Europe/Stockholm").label == "CET (UTC+1)"
    assert times.in_zone(after, "Europe/London").label == "BST (UTC+1)"
    assert times.in_zone(before, "Europe/London").label == "GMT (UTC+0)"
    assert times.in_zone(after, "America/Los_Angeles").label == "PDT (UTC−7)"


def test_it_gives_a_hook_for_the_readers_own_time(day):
    event = in_london(day, "hook", wall(2026, 10, 20, 18), wall(2026, 10, 20, 20))
    html = render("{% event_times event %}", language="fa", event=event)

    hook = re.search(r"<time data-local[^>]*>", html).group(0)
    assert 'datetime="2026-10-20T17:00:00Z"' in hook
    assert 'data-end="2026-10-20T19:00:00Z"' in hook
    assert 'data-zone="Europe/London"' in hook
    assert 'data-locale="fa-AF"' in hook
    # Hidden until local-times.js fills it: without JavaScript nothing empty shows.
    assert re.search(r'<p class="event-times-local" hidden>', html)
    assert "<script" not in html


def test_it_ships_the_local_time_script():
    source = (
        Path(times.__file__).resolve().parents[1] / "static" / "hamseda" / "local-times.js"
    ).read_text()
    assert "Intl.DateTimeFormat" in source
    assert "data-local" in source
    assert "http" not in source


def test_it_shows_kabul_with_its_half_hour_offset():
    moment = times.in_zone(datetime.datetime(2026, 3, 15, 8, tzinfo=UTC), "Asia/Kabul")
    assert moment.local.hour == 12
    assert moment.local.minute == 30
    assert moment.label == "UTC+4:30"


def test_it_falls_back_to_utc_for_a_zone_that_is_gone():
    moment = times.in_zone(datetime.datetime(2026, 3, 15, 8, tzinfo=UTC), "Mars/Olympus")
    assert moment.local.hour == 8
    assert moment.label == "UTC"


def test_it_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        times.in_zone(wall(2026, 3, 15, 8), "Europe/London")


@given(st.text(max_size=80))
def test_it_never_fails_on_an_odd_zone_name(name):
    assert times.is_valid_zone(name) in (True, False)
    assert times.zone(name) is not None


def test_it_writes_a_date_of_a_datetime_in_the_given_zone():
    moment = datetime.datetime(2026, 3, 20, 21, tzinfo=UTC)
    assert render("{% local_date value %}", value=moment) == "March 20, 2026"
    assert render('{% local_date value "Asia/Kabul" %}', value=moment) == "March 21, 2026"
    assert (
        render('{% local_date value "Asia/Kabul" %}', language="fa", value=moment)
        == "۱ حمل ۱۴۰۵ (21 مارچ 2026)"
    )
    assert render("{% local_date value %}", value=None) == ""
