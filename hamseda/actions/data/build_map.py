"""Build `world-110m.json`, the base map of `hamseda.actions.maps`, from Natural Earth.

The source is Natural Earth's 1:110m country boundaries (public domain) as TopoJSON,
redistributed by the npm package world-atlas (ISC licence, see README.md here). Rerun
it after updating the source:

    cd /tmp && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python hamseda/actions/data/build_map.py /tmp/package/countries-110m.json

Steps:
1. Decode the TopoJSON arcs: each arc is a list of quantized, delta-encoded points;
   summing the deltas and applying the topology's `transform` gives degrees.
2. Join each polygon ring from its arcs (a negative index ~i means arc i reversed;
   consecutive arcs share their end point, which is dropped once).
   Rings that cross the antimeridian are unwrapped (see `unwrap`).
3. Project with Web Mercator, clamped to ±85.05° latitude like web maps, in map units of
   SCALE per degree of longitude, the origin at the top-left (180°W, 85.05°N): x grows
   east, y south, as SVG wants. The whole world is WIDTH × WIDTH units.
4. Round to whole units, drop repeated points and rings left with fewer than three,
   and write each polygon as [min x, min y, max x, max y, SVG path data] with relative
   moves ("M x y l dx dy …z"), so `maps.py` only filters by bounding box and joins
   strings at request time.
"""

import json
import math
import sys
from pathlib import Path

SCALE = 10  # map units per degree of longitude: 0.1°, finer than the 1:110m data
WIDTH = 360 * SCALE
MAX_LATITUDE = math.degrees(math.atan(math.sinh(math.pi)))  # 85.0511…: a square world
OUT = Path(__file__).with_name("world-110m.json")


def project(longitude: float, latitude: float) -> tuple[float, float]:
    latitude = max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude))
    x = (longitude + 180) * SCALE
    mercator = math.log(math.tan(math.pi / 4 + math.radians(latitude) / 2))  # -π…π
    y = (math.pi - mercator) / (2 * math.pi) * WIDTH
    return x, y


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc if not points else arc[1:])
    return unwrap(points)


def unwrap(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The ring with no jump of more than 180° in longitude between neighbours: Fiji and
    Chukotka cross the antimeridian, and their rings jump from 180° to -180°. Shifting
    the rest of the ring by 360° keeps them in one piece, past the map's edge; maps.py
    draws such shapes again one world-width to the left or right when the view needs
    it. (Antarctica's only jump is its closing point, which then doubles its neighbour
    and is dropped, so its ring closes along the bottom of the map as it should.)"""
    shift = 0.0
    unwrapped = []
    previous = None
    for longitude, latitude in points:
        if previous is not None:
            step = longitude + shift - previous
            if step > 180:
                shift -= 360
            elif step < -180:
                shift += 360
        previous = longitude + shift
        unwrapped.append((previous, latitude))
    return unwrapped


def polygons(topology: dict):
    arcs = decode_arcs(topology)
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry["type"] == "Polygon":
            parts = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            parts = geometry["arcs"]
        else:
            continue
        for part in parts:
            # Holes (lakes, enclaves such as Lesotho in South Africa) are rings of the
            # same path wound the other way, so SVG's default fill-rule (nonzero)
            # leaves them empty and still fills the enclave's own polygon.
            yield [ring(indexes, arcs) for indexes in part]


def path_of(rings: list) -> tuple[list[int], str] | None:
    xs: list[int] = []
    ys: list[int] = []
    pieces = []
    for points in rings:
        projected = []
        for longitude, latitude in points:
            x, y = project(longitude, latitude)
            point = (round(x), round(y))
            if not projected or projected[-1] != point:
                projected.append(point)
        if len(projected) > 1 and projected[0] == projected[-1]:
            projected.pop()
        if len(set(projected)) < 3:
            continue
        (x0, y0), rest = projected[0], projected[1:]
        steps = []
        px, py = x0, y0
        for x, y in rest:
            steps.append(f"{x - px} {y - py}")
            px, py = x, y
        pieces.append(f"M{x0} {y0}l" + " ".join(steps) + "z")
        xs += [x for x, _ in projected]
        ys += [y for _, y in projected]
    if not pieces:
        return None
    return [min(xs), min(ys), max(xs), max(ys)], "".join(pieces)


def build(source: Path) -> dict:
    topology = json.loads(source.read_text())
    shapes = []
    for rings in polygons(topology):
        found = path_of(rings)
        if found is not None:
            box, d = found
            shapes.append([*box, d.replace(" -", "-")])
    return {
        "source": "Natural Earth 1:110m Admin 0 countries, via world-atlas 2.0.2 (public domain)",
        "projection": "Web Mercator",
        "scale": SCALE,
        "width": WIDTH,
        "polygons": shapes,
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} path/to/countries-110m.json")
    data = build(Path(sys.argv[1]))
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(data['polygons'])} polygons, {OUT.stat().st_size // 1024} KB")
