"""Server-drawn SVG bar charts for the organisers' pages: no JavaScript, and nothing
but SVG presentation attributes (the CSP forbids inline styles). The geometry is
computed here; petitions/organize/_source_chart.html draws it, with a title and a
description for screen readers, under the table that holds the same figures.
"""

from dataclasses import dataclass

# The drawing box in SVG user units, drawn at this size in CSS pixels (scaled down,
# the labels would be too small to read on a phone, where the chart scrolls sideways
# in its box instead).
WIDTH = 560
FONT_SIZE = 14
LEGEND_HEIGHT = 30
ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 180  # room for a channel's name
VALUE_WIDTH = 100  # room for "12345 / 9876" after the longest bar
GAP = 6

# The stylesheet's --brand, and a light tint of it (fill is a presentation attribute,
# where CSS variables are not reliably supported).
SIGNED_FILL = "#b9d8cd"
CONFIRMED_FILL = "#1f6f5c"
TEXT_FILL = "#1b1f23"


@dataclass(frozen=True)
class Bar:
    label: str
    signed: int
    confirmed: int
    # Where things go: the label's x, the row's y (top), each bar's x and length, the
    # figures' x. Text anchors at "start" in the chart's direction.
    label_x: float
    y: float
    signed_x: float
    signed_width: float
    confirmed_x: float
    confirmed_width: float
    value_x: float

    @property
    def bar_y(self) -> float:
        return self.y + (ROW_HEIGHT - BAR_HEIGHT) / 2

    @property
    def text_y(self) -> float:
        return self.y + ROW_HEIGHT / 2


def bar_chart(rows, *, rtl: bool = False) -> dict:
    """Horizontal bars, one per row (each with `label`, `signed` and `confirmed`): the
    confirmed part drawn over the signed one. In a right-to-left page the chart is
    mirrored: labels on the right, bars growing to the left."""
    rows = list(rows)
    peak = max([row.signed for row in rows] or [0]) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH

    def at(x: float, width: float = 0) -> float:
        """`x` (the left end of something `width` long) in the chart's direction."""
        return round(WIDTH - x - width, 1) if rtl else round(x, 1)

    bars = []
    for i, row in enumerate(rows):
        signed = round(row.signed * span / peak, 1)
        confirmed = round(row.confirmed * span / peak, 1)
        bars.append(
            Bar(
                label=row.label,
                signed=row.signed,
                confirmed=row.confirmed,
                label_x=at(0),
                y=LEGEND_HEIGHT + i * ROW_HEIGHT,
                signed_x=at(LABEL_WIDTH, signed),
                signed_width=signed,
                confirmed_x=at(LABEL_WIDTH, confirmed),
                confirmed_width=confirmed,
                value_x=at(LABEL_WIDTH + signed + GAP),
            )
        )
    legend_y = (LEGEND_HEIGHT - BAR_HEIGHT) / 2
    return {
        "width": WIDTH,
        "font_size": FONT_SIZE,
        "height": LEGEND_HEIGHT + ROW_HEIGHT * len(bars),
        "direction": "rtl" if rtl else "ltr",
        # The figures ("25 / 20") are laid out left to right in every language, so in
        # a mirrored chart they end, rather than start, next to their bar.
        "value_anchor": "end" if rtl else "start",
        "bars": bars,
        "legend": {
            "y": legend_y,
            "text_y": LEGEND_HEIGHT / 2,
            "signed_x": at(LABEL_WIDTH, BAR_HEIGHT),
            "signed_text_x": at(LABEL_WIDTH + BAR_HEIGHT + GAP),
            "confirmed_x": at(LABEL_WIDTH + 150, BAR_HEIGHT),
            "confirmed_text_x": at(LABEL_WIDTH + 150 + BAR_HEIGHT + GAP),
            "size": BAR_HEIGHT,
        },
        "fills": {"signed": SIGNED_FILL, "confirmed": CONFIRMED_FILL, "text": TEXT_FILL},
    }
