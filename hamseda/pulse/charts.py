"""The pulse dashboard's charts, drawn on the server as inline SVG.

Readable without JavaScript and under the strict CSP: nothing but SVG elements and
presentation attributes (no style attributes, no scripts). Each chart is an
`<svg role="img">` named by its `<title>` and summed up by its `<desc>`; the page puts
the same figures in a table under it (pulse/_chart.html), and every chart's data can be
downloaded as CSV or JSON.

Time runs left to right in every language, as charts usually do in Dari and Pashto
too; horizontal bar charts mirror in a right-to-left page (labels on the right, bars
growing leftwards), like petitions.charts. Numbers use Eastern Arabic-Indic digits
where the campaign chose them for its Dari and Pashto pages (Campaign.eastern_digits,
as on its kit images). No font is named: the text takes the page's own (Vazirmatn for
Arabic script, served by the install).

Colours are the site's (petitions.charts) and one per platform, each dark enough to
read against white.
"""

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from hamseda.petitions.charts import CONFIRMED_FILL, SIGNED_FILL, TEXT_FILL
from hamseda.pulse.analytics import PLATFORMS, Bucket, DayPair, Milestone, Share
from hamseda.pulse.readable import Style, isolate

PLATFORM_FILLS = {"x": "#1b1f23", "bluesky": "#0b63c4", "mastodon": "#6b45c9"}
GRID_FILL = "#d0d7de"
MUTED_FILL = "#4b5563"
MILESTONE_FILL = "#a3400b"
SECOND_FILL = "#a3400b"  # the second series of a two-panel chart (signatures, X's count)

# Drawing boxes in SVG user units; the stylesheet scales them to the column's width
# (and no narrower than a phone can read: the box then scrolls sideways).
WIDTH = 640
FONT_SIZE = 14
SMALL = 12
LEFT = 58  # room for the figures of the vertical axis
RIGHT = 14
LEGEND = 26
AXIS_BOTTOM = 38  # two rows of time labels
PLOT_HEIGHT = 170
# Bar charts: a name above each bar.
BARS_WIDTH = 360
BARS_VALUE_WIDTH = 110  # room for "12,345 (45.6%)" after the longest bar
BARS_ROW = 46
BARS_FONT_SIZE = 14
BAR_HEIGHT = 16
GAP = 6


# --- SVG pieces ---------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate, short: 12.0 → "12", 12.25 → "12.2"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width, 0))}" '
        f'height="{_n(max(height, 0))}" fill="{fill}"/>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, *, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{stroke}" stroke-width="1"{dash}/>'
    )


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int | None = None,
    fill: str = TEXT_FILL,
    direction: str | None = None,
    bold: bool = False,
) -> str:
    attributes = [f'x="{_n(x)}"', f'y="{_n(y)}"', f'text-anchor="{anchor}"', f'fill="{fill}"']
    if size:
        attributes.append(f'font-size="{size}"')
    if direction:
        # Its own direction inside the chart's, isolated so that "5 مارچ" or a
        # Pashto hashtag reads in its script's order whatever the chart's direction.
        attributes.append(f'direction="{direction}" unicode-bidi="isolate"')
    if bold:
        attributes.append('font-weight="700"')
    return f'<text {" ".join(attributes)} dominant-baseline="middle">{escape(content)}</text>'


def _svg(
    chart_id: str,
    width: int,
    height: float,
    title: str,
    desc: str,
    body: list[str],
    *,
    rtl: bool = False,
    bars: bool = False,
) -> SafeString:
    """The whole chart. Every text in `body` went through escape() (_text), and the
    title and description are escaped here, so the markup is safe to put in a page."""
    direction = "rtl" if rtl else "ltr"
    kind = "pulse-bars" if bars else "pulse-time"
    return SafeString(
        f'<svg class="pulse-svg {kind}" viewBox="0 0 {width} {_n(height)}" direction="{direction}" '
        f'font-size="{FONT_SIZE}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f'<g aria-hidden="true">{"".join(body)}</g></svg>'
    )


def nice_step(peak: float, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 × a power of ten) giving about `ticks` gridlines."""
    raw = max(peak / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def _value_axis(
    peak: float, style: Style, top: float, height: float, left: float, right: float
) -> tuple[int, list[str]]:
    """Gridlines and their figures for values 0..peak; returns the top value too."""
    step = nice_step(peak)
    top_value = max(step * math.ceil(peak / step), step)
    parts = []
    for value in range(0, top_value + 1, step):
        y = top + height - value * height / top_value
        parts.append(_line(left, y, right, y, GRID_FILL))
        parts.append(
            _text(left - 6, y, style.number(value), anchor="end", size=SMALL, direction="ltr")
        )
    return top_value, parts


def _visual(side: str, style: Style) -> str:
    """The text-anchor that pins the `edge` ("left" or "right") of a text in the page's
    direction to its x, in a left-to-right chart: an anchor names the start or the end
    of the text in its own direction, and a right-to-left text starts on the right."""
    starts_left = not style.rtl
    return "start" if (side == "left") == starts_left else "end"


def _fitting(x: float, text: str, style: Style, first: bool) -> str:
    """Centre a time label on its tick, unless it would stick out of the chart: then
    pin its edge to the tick (the first label of an axis always starts there)."""
    half = len(text) * SMALL * 0.3  # about half its width
    if first or x - half < 2:
        return _visual("left", style)
    if x + half > WIDTH - 2:
        return _visual("right", style)
    return "middle"


def _legend(items: Sequence[tuple[str, str]], style: Style, y: float = 12) -> list[str]:
    """Coloured squares and names in a row from the left (time charts stay LTR)."""
    parts = []
    x = float(LEFT)
    for name, fill in items:
        parts.append(_rect(x, y - 6, 12, 12, fill))
        parts.append(
            _text(
                x + 17,
                y,
                name,
                anchor=_visual("left", style),
                size=SMALL,
                direction=style.direction,
            )
        )
        x += 17 + 8 * len(name) + 22
    return parts


def _label_step(count: int, room: float, width: float, steps: Sequence[int]) -> int:
    """The smallest step in `steps` that keeps labels `room` units apart."""
    per = width / max(count, 1)
    for step in steps:
        if step * per >= room:
            return step
    return steps[-1]


# --- Charts -------------------------------------------------------------------------------


def platform_columns(
    buckets: list[Bucket], *, chart_id: str, title: str, hourly: bool, style: Style
) -> SafeString | None:
    """Posts per hour or day, one column per bucket, stacked by platform (X at the
    bottom). None when there is nothing to draw."""
    if not buckets or not any(bucket.total for bucket in buckets):
        return None
    top, height = LEGEND + 8, PLOT_HEIGHT
    bottom = top + height
    right = WIDTH - RIGHT
    plot_width = right - LEFT
    peak = max(bucket.total for bucket in buckets)
    top_value, parts = _value_axis(peak, style, top, height, LEFT, right)
    slot = plot_width / len(buckets)
    bar = max(slot * 0.8, 0.6)
    for index, bucket in enumerate(buckets):
        x = LEFT + index * slot + (slot - bar) / 2
        y = float(bottom)
        for platform in PLATFORMS:
            posts = bucket.by_platform.get(platform, 0)
            if posts:
                h = posts * height / top_value
                y -= h
                parts.append(_rect(x, y, bar, h, PLATFORM_FILLS[platform]))
    parts += _time_labels([bucket.start for bucket in buckets], hourly, style, bottom, slot)
    parts += _legend([(_platform_label(p), PLATFORM_FILLS[p]) for p in PLATFORMS], style)
    busiest = max(buckets, key=lambda bucket: (bucket.total, bucket.start))
    when = (
        style.moment(busiest.start)
        if isinstance(busiest.start, datetime)
        else style.day(busiest.start)
    )
    desc = _(
        "%(posts)s posts in %(buckets)s %(unit)s; the busiest was %(when)s with %(peak)s posts."
    ) % {
        "posts": style.number(sum(bucket.total for bucket in buckets)),
        "buckets": style.number(len(buckets)),
        "unit": _("hours") if hourly else _("days"),
        "when": when,
        "peak": style.number(busiest.total),
    }
    return _svg(chart_id, WIDTH, bottom + AXIS_BOTTOM, title, desc, parts)


def _platform_label(platform: str) -> str:
    from hamseda.pulse.analytics import platform_name

    return platform_name(platform)


def _time_labels(starts: list, hourly: bool, style: Style, bottom: float, slot: float) -> list[str]:
    """Ticks and labels under a time axis: hours (with the date under midnight) or days."""
    parts = []
    plot_width = slot * len(starts)
    first_row, second_row = bottom + 11, bottom + 27
    if hourly:
        step = _label_step(len(starts), 40, plot_width, (1, 2, 3, 6, 12, 24))
        # The first hour's date too, unless the first midnight's label comes too soon
        # after it to fit.
        midnights = [index for index, moment in enumerate(starts) if moment.hour == 0]
        first_dated = not midnights or midnights[0] * slot >= 100
        for index, moment in enumerate(starts):
            x = LEFT + (index + 0.5) * slot
            if moment.hour % step == 0:
                parts.append(_line(x, bottom, x, bottom + 4, MUTED_FILL))
                parts.append(_text(x, first_row, style.hour(moment), anchor="middle", size=SMALL))
            if moment.hour == 0 or (index == 0 and first_dated):
                parts.append(
                    _text(
                        x,
                        second_row,
                        style.day(moment.date()),
                        anchor=_fitting(x, style.day(moment.date()), style, index == 0),
                        size=SMALL,
                        direction=style.direction,
                    )
                )
    else:
        step = _label_step(len(starts), 96, plot_width, (1, 2, 7, 14, 28, 56, 91, 182, 364))
        for index, day in enumerate(starts):
            if index % step:
                continue
            x = LEFT + (index + 0.5) * slot
            parts.append(_line(x, bottom, x, bottom + 4, MUTED_FILL))
            anchor = _fitting(x, style.day(day), style, index == 0 and step > 1)
            parts.append(
                _text(
                    x,
                    first_row,
                    style.day(day),
                    anchor=anchor,
                    size=SMALL,
                    direction=style.direction,
                )
            )
    parts.append(_line(LEFT, bottom, LEFT + plot_width, bottom, MUTED_FILL))
    return parts


def cumulative_line(
    vertices: list[tuple[datetime, int]],
    milestones: list[Milestone],
    span: tuple[datetime, datetime] | None,
    *,
    chart_id: str,
    title: str,
    style: Style,
) -> SafeString | None:
    """The running total of posts over the campaign's span through `vertices` (moment,
    posts so far; analytics.Figures.curve), with each milestone drawn as a dashed line
    and a dot where (and when) it was passed. The scale reaches the next milestone not
    yet passed if it is within twice the total, so the distance still to go shows."""
    if not vertices or span is None or not vertices[-1][1]:
        return None
    first, last = span
    end = last + timedelta(hours=1)
    top, height = LEGEND + 8, PLOT_HEIGHT
    bottom = top + height
    right = WIDTH - RIGHT
    plot_width = right - LEFT
    total = max(value for _moment, value in vertices)
    upcoming = [m.count for m in milestones if m.passed_at is None and m.count <= 2 * total]
    peak = max(total, upcoming[0] if upcoming else 0)
    top_value, parts = _value_axis(peak, style, top, height, LEFT, right)
    hours = max((end - first) / timedelta(hours=1), 1)

    def x_of(moment: datetime) -> float:
        return LEFT + (moment - first) / timedelta(hours=1) * plot_width / hours

    def y_of(value: int) -> float:
        return bottom - value * height / top_value

    # One vertex per drawn unit across is enough: a long campaign has more hours than
    # the chart has units, and the SVG stays small.
    path: dict[int, tuple[float, float]] = {}
    for moment, value in vertices:
        x = x_of(moment)
        path[round(x)] = (x, y_of(value))
    points = [(float(LEFT), float(bottom)), *path.values(), (x_of(end), y_of(total))]
    line = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    area = f"{line} {_n(x_of(end))},{_n(bottom)}"
    parts.append(f'<polygon points="{area}" fill="{SIGNED_FILL}"/>')
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="{CONFIRMED_FILL}" stroke-width="2"/>'
    )
    described = []
    for milestone in milestones:
        if milestone.count > top_value:
            continue
        y = y_of(milestone.count)
        parts.append(_line(LEFT, y, right, y, MILESTONE_FILL, dashed=True))
        if milestone.passed_at is not None:
            x = x_of(milestone.passed_at + timedelta(minutes=30))
            parts.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4.5" fill="{MILESTONE_FILL}" '
                f'stroke="#ffffff" stroke-width="1.5"/>'
            )
            # Not "4,000 · 29 March": next to Eastern digits the dot reads as a zero.
            label = _("%(count)s on %(day)s") % {
                "count": isolate(style.number(milestone.count)),
                "day": isolate(style.day(milestone.passed_at.date())),
            }
            described.append(
                _("%(count)s passed on %(when)s.")
                % {
                    "count": style.number(milestone.count),
                    "when": style.moment(milestone.passed_at),
                }
            )
        else:
            x = right - 4
            label = _("%(count)s: not yet") % {"count": isolate(style.number(milestone.count))}
            described.append(
                _("%(count)s: not yet") % {"count": style.number(milestone.count)} + "."
            )
        # The label sits above the dashed line, left of the dot when the dot is in the
        # right half, so that it stays inside the chart.
        side = "right" if x > LEFT + plot_width / 2 else "left"
        offset = -8 if side == "right" else 8
        # Left of the dot, the label's right edge is pinned, and the other way round.
        anchor = _visual("right" if side == "right" else "left", style)
        parts.append(
            _text(
                x + offset,
                y - 9,
                label,
                anchor=anchor,
                size=SMALL,
                fill=MILESTONE_FILL,
                direction=style.direction,
                bold=True,
            )
        )
    days = [first.date() + timedelta(days=k) for k in range((last.date() - first.date()).days + 1)]
    slot = plot_width * 24 / hours
    parts += _day_axis(days, first, slot, style, bottom, x_of)
    parts += _legend([(_("Posts so far"), CONFIRMED_FILL)], style)
    desc = " ".join(
        [
            _("%(total)s posts from %(first)s to %(last)s.")
            % {
                "total": style.number(total),
                "first": style.day(first.date()),
                "last": style.day(last.date()),
            },
            *described,
        ]
    )
    return _svg(chart_id, WIDTH, bottom + AXIS_BOTTOM, title, desc, parts)


def _day_axis(days: list[date], first: datetime, slot: float, style: Style, bottom, x_of) -> list:
    """Day labels under a continuous time axis (the cumulative line)."""
    parts = [_line(LEFT, bottom, WIDTH - RIGHT, bottom, MUTED_FILL)]
    step = _label_step(len(days), 96, slot * len(days), (1, 2, 7, 14, 28, 56, 91, 182, 364))
    for index, day in enumerate(days):
        if index % step:
            continue
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=first.tzinfo)
        x = max(x_of(midnight), LEFT)
        parts.append(_line(x, bottom, x, bottom + 4, MUTED_FILL))
        parts.append(
            _text(
                x,
                bottom + 13,
                style.day(day),
                anchor=_fitting(x, style.day(day), style, index == 0),
                size=SMALL,
                direction=style.direction,
            )
        )
    return parts


def share_bars(
    rows: list[Share],
    *,
    chart_id: str,
    title: str,
    style: Style,
    fills: dict[str, str] | None = None,
) -> SafeString | None:
    """Horizontal bars, one per row, longest first as given: each row's name on a line
    of its own, then its bar with the figure and its percentage after it. Narrow
    (BARS_WIDTH), so that it fits a phone without scrolling; mirrored in a
    right-to-left page. `fills` colours rows by key (platforms), else the site's colour."""
    if not rows or not any(row.posts for row in rows):
        return None
    peak = max(row.posts for row in rows) or 1
    span = BARS_WIDTH - BARS_VALUE_WIDTH

    def at(x: float, width: float = 0) -> float:
        """`x` (the left end of something `width` long) in the chart's direction."""
        return BARS_WIDTH - x - width if style.rtl else x

    parts = []
    described = []
    for index, row in enumerate(rows):
        y = index * BARS_ROW
        length = max(row.posts * span / peak, 1 if row.posts else 0)
        fill = (fills or {}).get(row.key, CONFIRMED_FILL)
        parts.append(_text(at(0), y + 10, isolate(row.name), size=BARS_FONT_SIZE))
        bar_y = y + 21
        parts.append(_rect(at(0, length), bar_y, length, BAR_HEIGHT, fill))
        figure = f"{style.number(row.posts)} ({style.percent(row.percent)})"
        parts.append(
            _text(
                at(length + GAP),
                bar_y + BAR_HEIGHT / 2,
                figure,
                # The figures read left to right in every language, so in a mirrored
                # chart they end, rather than start, next to their bar.
                anchor="end" if style.rtl else "start",
                size=SMALL,
                direction="ltr",
            )
        )
        described.append(
            _("%(name)s: %(posts)s posts (%(percent)s).")
            % {
                "name": row.name,
                "posts": style.number(row.posts),
                "percent": style.percent(row.percent),
            }
        )
    height = BARS_ROW * len(rows)
    return _svg(
        chart_id, BARS_WIDTH, height, title, " ".join(described), parts, rtl=style.rtl, bars=True
    )


def two_panels(
    days: list[DayPair],
    *,
    chart_id: str,
    title: str,
    names: tuple[str, str],
    style: Style,
    shared_scale: bool,
) -> SafeString | None:
    """Two series by UTC day as two panels of columns, one above the other, over the
    same days: each panel with its own scale (posts and signatures are different
    things), or one scale for both (`shared_scale`, two counts of the same posts)."""
    if not days or not any(day.first or day.second for day in days):
        return None
    right = WIDTH - RIGHT
    plot_width = right - LEFT
    panel = PLOT_HEIGHT * 0.62
    slot = plot_width / len(days)
    bar = max(slot * 0.8, 0.6)
    shared_peak = max(max(d.first for d in days), max(d.second for d in days))
    parts: list[str] = []
    described = []
    top: float = LEGEND + 8
    for which, (name, fill) in enumerate(zip(names, (CONFIRMED_FILL, SECOND_FILL), strict=True)):
        values = [day.first if which == 0 else day.second for day in days]
        peak = shared_peak if shared_scale else max(values)
        bottom = top + panel
        top_value, axis = _value_axis(max(peak, 1), style, top, panel, LEFT, right)
        parts += axis
        for index, value in enumerate(values):
            if value:
                h = value * panel / top_value
                parts.append(
                    _rect(LEFT + index * slot + (slot - bar) / 2, bottom - h, bar, h, fill)
                )
        parts.append(_line(LEFT, bottom, right, bottom, MUTED_FILL))
        parts.append(
            _text(
                LEFT,
                top - 10,
                name,
                anchor=_visual("left", style),
                size=SMALL,
                direction=style.direction,
                bold=True,
            )
        )
        described.append(
            _("%(name)s: %(total)s in all, at most %(peak)s in a day.")
            % {"name": name, "total": style.number(sum(values)), "peak": style.number(max(values))}
        )
        top = bottom + 30
    bottom = top - 30
    parts += _time_labels([day.day for day in days], False, style, bottom, slot)[:-1]
    return _svg(chart_id, WIDTH, bottom + AXIS_BOTTOM - 14, title, " ".join(described), parts)
