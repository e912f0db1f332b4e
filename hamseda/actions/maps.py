"""The offline map of a day of action: an inline SVG of the world, zoomed to where the
events are, with a marker per place (docs/actions.md, "Calendars, dates and the map").

No tiles, scripts or fonts from elsewhere (PRIVACY.md rule 6): the base map is Natural
Earth's 1:110m countries (public domain), projected once by `data/build_map.py` into
`data/world-110m.json` as SVG path data with a bounding box per polygon. A request only
picks the polygons that touch the view and joins their strings.

Steps of `day_map_context`:
1. Take the day's published events that have coordinates; one marker per place.
2. Longitudes: the shortest stretch of the circle holding all of them, found as the
   complement of the widest empty gap — so Auckland and Los Angeles give a view across
   the Pacific, not one across Africa and Asia. It may run past 180°E (x beyond the
   map's width), and shapes are then drawn a second time one world-width to the right.
3. Latitudes: Web Mercator y of the markers (clamped at ±85°, so the poles still land
   on the map).
4. Add a margin, widen to at least MIN_SPAN degrees (one city alone still shows its
   country), and stretch to ASPECT so every map has the same shape on the page.
"""

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from hamseda.actions.models import DayOfAction, PublicationState

DATA = Path(__file__).with_name("data") / "world-110m.json"
MIN_SPAN = 30.0  # degrees of longitude
PADDING = 3.0  # degrees at least between a marker and the edge
MARGIN = 0.08  # of the markers' extent east and west, on each side
V_MARGIN = 0.12  # north and south, where the map is shallower
ASPECT = 2.0  # width / height of every map


@dataclass(frozen=True)
class World:
    scale: int  # map units per degree of longitude
    width: int  # the world's width (and height) in map units
    polygons: tuple[tuple[int, int, int, int, str], ...]


@cache
def world() -> World:
    """The base map, read once per process."""
    data = json.loads(DATA.read_text())
    return World(
        scale=data["scale"],
        width=data["width"],
        polygons=tuple(tuple(polygon) for polygon in data["polygons"]),
    )


def project(longitude: float, latitude: float) -> tuple[float, float]:
    """Web Mercator in map units, as data/build_map.py projects the base map."""
    base = world()
    limit = math.degrees(math.atan(math.sinh(math.pi)))
    latitude = max(-limit, min(limit, latitude))
    x = ((longitude + 180) % 360) * base.scale
    mercator = math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))
    y = (math.pi - mercator) / (2 * math.pi) * base.width
    return x, y


@dataclass(frozen=True)
class Place:
    city: str
    x: float
    y: float


def _longitude_span(xs: list[float], width: float) -> tuple[float, float]:
    """(west, east) in map units with east ≥ west, east possibly beyond `width`: the
    shortest stretch of the circle that holds every x (step 2 of the module docstring)."""
    ordered = sorted(set(xs))
    if len(ordered) == 1:
        return ordered[0], ordered[0]
    gaps = [(ordered[i + 1] - ordered[i], i) for i in range(len(ordered) - 1)]
    gaps.append((ordered[0] + width - ordered[-1], len(ordered) - 1))
    _gap, before = max(gaps)
    west = ordered[(before + 1) % len(ordered)]
    east = ordered[before]
    if east < west:
        east += width
    return west, east


def view_box(places: list[Place]) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the view around the places (steps 2–4)."""
    base = world()
    west, east = _longitude_span([place.x for place in places], base.width)
    north = min(place.y for place in places)
    south = max(place.y for place in places)
    padding = 2 * PADDING * base.scale
    width = max((east - west) * (1 + 2 * MARGIN), east - west + padding, MIN_SPAN * base.scale)
    height = max((south - north) * (1 + 2 * V_MARGIN), south - north + padding, width / ASPECT)
    # Now width / height = ASPECT, unless the world itself is too small for it.
    width = min(max(width, height * ASPECT), base.width)
    height = min(height, base.width)
    x = (west + east) / 2 - width / 2
    y = (north + south) / 2 - height / 2
    # Keep the view on the map vertically: nothing lies beyond ±85°.
    y = max(0.0, min(y, base.width - height))
    if x < 0:  # a view starting west of 180°W is the same view one world to the right
        x += base.width
    return x, y, width, height


def _shapes(x: float, width: float) -> list[dict]:
    """The polygons that touch the horizontal stretch [x, x + width], grouped by how
    far they are shifted (a whole world-width left or right, for views across 180°).
    Polygons wholly outside are dropped; SVG clips the rest to the viewBox."""
    base = world()
    groups = []
    for shift in (-base.width, 0, base.width, 2 * base.width):
        paths = [
            d
            for min_x, _min_y, max_x, _max_y, d in base.polygons
            if min_x + shift <= x + width and max_x + shift >= x
        ]
        if paths:
            groups.append({"shift": shift, "d": "".join(paths)})
    return groups


def published_places(day: DayOfAction) -> list[Place]:
    """One place per distinct position of the day's published events, in start order."""
    rows = (
        day.events.filter(
            state=PublicationState.PUBLISHED, latitude__isnull=False, longitude__isnull=False
        )
        .order_by("starts_at", "pk")
        .values_list("city", "latitude", "longitude")
    )
    places: dict[tuple, Place] = {}
    for city, latitude, longitude in rows:
        if latitude is None or longitude is None:  # excluded by the query; for the types
            continue
        x, y = project(float(longitude), float(latitude))
        places.setdefault((round(x, 1), round(y, 1)), Place(city=city, x=x, y=y))
    return list(places.values())


def day_map_context(day: DayOfAction) -> dict | None:
    """What actions/tags/day_map.html draws, or None when no event has coordinates."""
    if day is None or day.pk is None:
        return None
    places = published_places(day)
    if not places:
        return None
    base = world()
    x, y, width, height = view_box(places)
    radius = width / 110
    markers = []
    # West to east, the order a reader scans the map (and hears the cities in).
    shifted = sorted(
        ((place.x if place.x >= x else place.x + base.width, place) for place in places),
        key=lambda item: item[0],
    )
    for px, place in shifted:
        # A label runs east of its marker, or west of it in the view's eastern third,
        # where it would run off the edge.
        east_side = px > x + width * 2 / 3
        markers.append(
            {
                "city": place.city,
                "x": f"{px:.1f}",
                "y": f"{place.y:.1f}",
                "label_x": f"{px + radius * (-1.6 if east_side else 1.6):.1f}",
                "label_y": f"{place.y + radius * 0.6:.1f}",
                "anchor": "end" if east_side else "start",
            }
        )
    cities = list(dict.fromkeys(place.city for _px, place in shifted))
    return {
        "view_box": f"{x:.1f} {y:.1f} {width:.1f} {height:.1f}",
        "background": {"x": f"{x:.1f}", "y": f"{y:.1f}", "w": f"{width:.1f}", "h": f"{height:.1f}"},
        "shapes": _shapes(x, width),
        "markers": markers,
        "radius": f"{radius:.1f}",
        "font_size": f"{radius * 2.2:.1f}",
        "label": _("Map of the events: %(cities)s") % {"cities": ", ".join(cities)},
    }


def render_day_map(day: DayOfAction) -> SafeString:
    context = day_map_context(day)
    if context is None:
        return mark_safe("")
    return render_to_string("actions/tags/day_map.html", context)
