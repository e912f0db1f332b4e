"""The delivery document's charts, drawn on the server as SVG for WeasyPrint.

WeasyPrint draws SVG text without shaping Arabic script (letters come out unjoined and
in the wrong order), so no chart holds words: the timeline's labels are dates and
figures, and the country chart is an HTML table whose cells hold the names (shaped by
Pango like all other text) next to SVG bars. Colours are the site's (petitions.charts).
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from hamseda.petitions.charts import CONFIRMED_FILL, SIGNED_FILL, TEXT_FILL

# The timeline's drawing box in SVG user units; the document scales it to the text width.
TIMELINE_WIDTH = 680
TIMELINE_HEIGHT = 260
# Room for the figures on the left and the dates below.
AXIS_LEFT = 64
AXIS_BOTTOM = 28
TOP = 12
RIGHT = 36  # half a date label: the last one is centred on the right end
DATE_LABELS = 6
# The room a date label takes ("2025-03-05" at 11 units), with a gap.
DATE_LABEL_WIDTH = 80
COUNTRY_BARS = 12
GRID_FILL = "#d0d7de"


@dataclass(frozen=True)
class CountryBar:
    name: str
    code: str
    count: int
    # Percent of the largest country's count: the bar's length, out of 100, and where
    # it starts (at the right end in a right-to-left document, so it grows leftwards).
    length: float
    x: float
    # Percent of all confirmed signatures, for the label.
    share: str


def country_bars(
    rows: list[tuple[str, str, int]], total: int, *, rtl: bool = False
) -> list[CountryBar]:
    """The largest COUNTRY_BARS countries of (name, code, count) rows, sorted largest
    first, as bars measured against the largest."""
    rows = sorted(rows, key=lambda row: (-row[2], row[0]))[:COUNTRY_BARS]
    peak = max([count for _name, _code, count in rows] or [1]) or 1
    bars = []
    for name, code, count in rows:
        length = round(count * 100 / peak, 2)
        bars.append(
            CountryBar(
                name=name,
                code=code,
                count=count,
                length=length,
                x=round(100 - length, 2) if rtl else 0,
                share=share(count, total),
            )
        )
    return bars


def share(count: int, total: int) -> str:
    """ "12.3" (percent, one decimal), "<0.1" for a tiny non-zero share."""
    if not total:
        return "0"
    percent = count * 100 / total
    if 0 < percent < 0.1:
        return "<0.1"
    return f"{percent:.1f}"


def _nice_step(peak: int, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 × a power of ten) giving about `ticks` gridlines."""
    raw = max(peak / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def timeline(days: list[tuple[date, int]]) -> dict | None:
    """A cumulative line (filled below) of confirmed signatures by UTC day, from the
    DailyCount rows (day, count), oldest first. None if there are no days.

    The line starts at zero the day before the first signature, and days without
    signatures keep the total level, so gaps in the rows are gaps in time."""
    if not days:
        return None
    days = sorted(days)
    start = days[0][0] - timedelta(days=1)
    end = days[-1][0]
    span_days = max((end - start).days, 1)
    total = sum(count for _day, count in days)
    step = _nice_step(total)
    top_value = step * math.ceil(total / step)
    plot_width = TIMELINE_WIDTH - AXIS_LEFT - RIGHT
    plot_height = TIMELINE_HEIGHT - TOP - AXIS_BOTTOM
    bottom = TOP + plot_height

    def x(day: date) -> float:
        return round(AXIS_LEFT + (day - start).days * plot_width / span_days, 1)

    def y(value: int) -> float:
        return round(bottom - value * plot_height / top_value, 1)

    points = [(x(start), y(0))]
    running = 0
    for day, count in days:
        # A step: the total holds until the day's signatures arrive.
        points.append((x(day), y(running)))
        running += count
        points.append((x(day), y(running)))
    line = " ".join(f"{px},{py}" for px, py in points)
    area = f"{line} {x(end)},{bottom} {x(start)},{bottom}"
    ticks = [{"y": y(value), "label": f"{value:,}"} for value in range(0, top_value + 1, step)]
    # Labels a whole number of days apart, and the last day too if it has room.
    label_step = max(1, math.ceil(span_days / (DATE_LABELS - 1)))
    label_days = [start + timedelta(days=k) for k in range(0, span_days + 1, label_step)]
    if x(end) - x(label_days[-1]) >= DATE_LABEL_WIDTH:
        label_days.append(end)
    dates = [{"x": x(day), "label": day.isoformat()} for day in label_days]
    peak_day, peak_count = max(days, key=lambda item: (item[1], item[0]))
    return {
        "width": TIMELINE_WIDTH,
        "height": TIMELINE_HEIGHT,
        "left": AXIS_LEFT,
        "right": TIMELINE_WIDTH - RIGHT,
        "top": TOP,
        "bottom": bottom,
        "line": line,
        "area": area,
        "ticks": ticks,
        "dates": dates,
        "date_y": bottom + 18,
        "label_x": AXIS_LEFT - 6,
        "tick_end": bottom + 4,
        "first_day": days[0][0],
        "last_day": end,
        "peak_day": peak_day,
        "peak_count": peak_count,
        "total": total,
        "fills": {
            "line": CONFIRMED_FILL,
            "area": SIGNED_FILL,
            "text": TEXT_FILL,
            "grid": GRID_FILL,
        },
    }
