"""The offline SVG map of a day of action."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.actions import maps, services
from tests.actions.scene_dates import NOW, make_campaign, make_day, make_event, three_cities, wall


@pytest.fixture
def day(org):
    return make_day(make_campaign(org.organization))


def render(day) -> str:
    return Template("{% load action_dates %}{% day_map day %}").render(Context({"day": day}))


def svg_of(html: str) -> ET.Element:
    svg = re.search(r"<svg.*</svg>", html, re.S)
    assert svg, html
    return ET.fromstring(svg.group(0))  # noqa: S314 - our own SVG, parsed in a test.


def view_box(svg: ET.Element) -> tuple[float, float, float, float]:
    x, y, width, height = map(float, svg.get("viewBox").split())
    return x, y, width, height


def markers(svg: ET.Element) -> list[tuple[str, float, float]]:
    found = []
    for group in svg.iter("g"):
        circle = group.find("circle")
        found.append((group.find("title").text, float(circle.get("cx")), float(circle.get("cy"))))
    return found


def inside(svg: ET.Element) -> bool:
    x, y, width, height = view_box(svg)
    return all(x <= cx <= x + width and y <= cy <= y + height for _city, cx, cy in markers(svg))


def place(day, slug, city, latitude, longitude, time_zone="UTC"):
    return make_event(
        day,
        slug,
        city=city,
        country="US",
        time_zone=time_zone,
        starts_at=wall(2026, 3, 15, 12),
        ends_at=wall(2026, 3, 15, 14),
        latitude=latitude,
        longitude=longitude,
    )


def test_it_draws_the_three_cities_over_the_north_atlantic(day):
    three_cities(day)
    html = render(day)
    svg = svg_of(html)

    assert svg.get("role") == "img"
    assert "San Francisco" in svg.get("aria-label")
    assert svg.find("title").text == svg.get("aria-label")
    assert [city for city, _x, _y in markers(svg)] == ["San Francisco", "London", "Stockholm"]
    assert inside(svg)
    # A view of the North Atlantic: from west of San Francisco to east of Stockholm, a
    # third of the world wide, not all of it.
    x, _y, width, _height = view_box(svg)
    world = maps.world().width
    assert x < maps.project(-122.4, 37.8)[0]
    assert x + width > maps.project(18.1, 59.3)[0]
    assert width < world / 2
    assert "http" not in html
    assert "<script" not in html
    assert "style=" not in html


def test_it_draws_nothing_without_coordinates(day):
    place(day, "no-place", "Nowhere", None, None)
    assert render(day).strip() == ""


def test_it_skips_drafts_and_cancelled_events(day):
    make_event(
        day,
        "draft",
        city="Oslo",
        country="NO",
        time_zone="Europe/Oslo",
        starts_at=wall(2026, 3, 15, 12),
        ends_at=wall(2026, 3, 15, 13),
        latitude=59.9,
        longitude=10.7,
        publish=False,
    )
    cancelled = place(day, "cancelled", "Berlin", 52.52, 13.4)
    services.cancel_event(cancelled, now=NOW)
    assert render(day).strip() == ""


def test_it_crosses_the_pacific_for_auckland_and_los_angeles(day):
    place(day, "auckland", "Auckland", -36.85, 174.76, "Pacific/Auckland")
    place(day, "los-angeles", "Los Angeles", 34.05, -118.24, "America/Los_Angeles")
    svg = svg_of(render(day))

    assert inside(svg)
    x, _y, width, _height = view_box(svg)
    world = maps.world().width
    # Across the antimeridian (about 67° of longitude, widened to the map's shape), not
    # across Greenwich (293°).
    greenwich = maps.project(0, 0)[0]
    assert not x <= greenwich <= x + width
    assert not x <= greenwich + world <= x + width
    assert x + width > world  # the view runs past 180°E …
    assert any("translate(3600 0)" in (path.get("transform") or "") for path in svg.iter("path"))


def test_it_escapes_city_names(day):
    place(day, "odd", 'Kabul <b>"&', 34.53, 69.17, "Asia/Kabul")
    html = render(day)
    assert "<b>" not in html
    assert markers(svg_of(html))[0][0] == 'Kabul <b>"&'


def test_it_keeps_the_base_map_small():
    assert maps.DATA.stat().st_size < 300_000
    assert len(maps.world().polygons) > 100


coordinates = st.tuples(
    st.decimals(min_value=-90, max_value=90, places=5),
    st.decimals(min_value=-180, max_value=180, places=5),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(points=st.lists(coordinates, min_size=1, max_size=4))
def test_it_keeps_every_marker_inside_the_view(day, points):
    day.events.all().delete()
    for number, (latitude, longitude) in enumerate(points):
        place(day, f"place-{number}", f"City {number}", latitude, longitude)
    svg = svg_of(render(day))
    assert inside(svg)
    _x, _y, width, height = view_box(svg)
    assert 0 < width <= maps.world().width
    assert 0 < height <= maps.world().width


def test_it_handles_the_poles_and_the_antimeridian_itself(day):
    place(day, "north", "North Pole", 90, 180)
    place(day, "south", "South Pole", -90, -180)
    svg = svg_of(render(day))
    assert inside(svg)
