"""The SVG charts: well-formed, accessible, inside the CSP, mirrored where they should
be, with Eastern digits where the campaign uses them."""

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation

from hamseda.pulse import charts
from hamseda.pulse.analytics import Bucket, DayPair, Milestone, Share
from hamseda.pulse.readable import Style, isolate

NS = "{http://www.w3.org/2000/svg}"
START = datetime(2025, 3, 1, tzinfo=UTC)
EN = Style("en", eastern_digits=False)
FA = Style("fa", eastern_digits=True)


def parse(svg) -> ET.Element:
    assert svg is not None
    return ET.fromstring(str(svg))  # noqa: S314 - our own SVG, parsed in a test.


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{NS}text")]


def assert_accessible(root: ET.Element, chart_id: str) -> None:
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
    assert root.find(f"{NS}title").get("id") == f"{chart_id}-title"
    assert root.find(f"{NS}desc").get("id") == f"{chart_id}-desc"
    assert root.find(f"{NS}desc").text.strip()
    # The strict CSP: no style attributes, no scripts, nothing loaded from elsewhere.
    for node in root.iter():
        assert "style" not in node.attrib
        assert not node.tag.endswith("script")
        assert "href" not in "".join(node.attrib)


def hours(*counts: tuple[int, int, int]) -> list[Bucket]:
    return [
        Bucket(START + timedelta(hours=k), dict(zip(("x", "bluesky", "mastodon"), c, strict=True)))
        for k, c in enumerate(counts)
    ]


def test_columns_stack_the_platforms_of_each_hour():
    buckets = hours((2, 1, 0), (0, 0, 0), (1, 0, 3))
    root = parse(
        charts.platform_columns(buckets, chart_id="c", title="Per hour", hourly=True, style=EN)
    )
    assert_accessible(root, "c")
    fills = [rect.get("fill") for rect in root.iter(f"{NS}rect")]
    platform_fills = list(charts.PLATFORM_FILLS.values())
    # Four stacked pieces (2+1, then 1+3) and a legend square per platform.
    assert len([fill for fill in fills if fill in platform_fills]) == 4 + 3
    desc = root.find(f"{NS}desc").text
    assert "7 posts in 3 hours" in desc
    assert "with 4 posts" in desc
    assert "X" in texts(root)


def test_charts_of_nothing_are_not_drawn():
    assert charts.platform_columns([], chart_id="c", title="t", hourly=True, style=EN) is None
    assert (
        charts.platform_columns(hours((0, 0, 0)), chart_id="c", title="t", hourly=True, style=EN)
        is None
    )
    assert charts.share_bars([], chart_id="c", title="t", style=EN) is None
    assert charts.cumulative_line([], [], None, chart_id="c", title="t", style=EN) is None
    assert charts.two_panels([], chart_id="c", title="t", names=("a", "b"), style=EN,
                             shared_scale=True) is None  # fmt: skip


def test_the_cumulative_line_marks_when_milestones_were_passed():
    vertices = [
        (START, 0),
        (START + timedelta(hours=1), 3),
        (START + timedelta(hours=5, minutes=30), 5),
        (START + timedelta(hours=6), 7),
        (START + timedelta(days=2, hours=1), 12),
    ]
    milestones = [
        Milestone(5, START + timedelta(hours=5)),
        Milestone(10, START + timedelta(days=2)),
        Milestone(20, None),  # within twice the total: drawn, "not yet"
        Milestone(1000, None),  # far beyond: left off the scale
    ]
    span = (START, START + timedelta(days=2))
    with translation.override("en"):
        root = parse(
            charts.cumulative_line(
                vertices, milestones, span, chart_id="m", title="So far", style=EN
            )
        )
    assert_accessible(root, "m")
    assert len(list(root.iter(f"{NS}circle"))) == 2
    labels = texts(root)
    assert any("5" in label and "1 March" in label for label in labels)
    assert any("10" in label and "3 March" in label for label in labels)
    assert isolate("20") + ": not yet" in labels
    assert not any("1,000" in label for label in labels)
    desc = root.find(f"{NS}desc").text
    assert "12 posts from 1 March to 3 March." in desc
    assert "10 passed on 3 March, 00:00 UTC." in desc


def test_a_long_campaign_draws_a_small_line():
    vertices = [(START + timedelta(hours=k), 10 * k) for k in range(24 * 90)]
    span = (START, vertices[-1][0])
    root = parse(charts.cumulative_line(vertices, [], span, chart_id="l", title="t", style=EN))
    line = root.find(f"{NS}g/{NS}polyline").get("points").split()
    assert len(line) <= charts.WIDTH + 3
    assert len(str(charts.platform_columns(
        [Bucket(START.date() + timedelta(days=k), {"x": k, "bluesky": 1, "mastodon": 0})
         for k in range(365)], chart_id="d", title="t", hourly=False, style=EN,
    ))) < 120_000  # fmt: skip


def shares() -> list[Share]:
    return [
        Share("en", "English", 30, 60.0),
        Share("fa", "دری", 19, 38.0),
        Share("xx", "<b>&", 1, 0.04),
    ]


def test_bars_are_mirrored_in_a_right_to_left_page():
    ltr = parse(charts.share_bars(shares(), chart_id="b", title="Languages", style=EN))
    rtl = parse(charts.share_bars(shares(), chart_id="b", title="Languages", style=FA))
    assert_accessible(ltr, "b")
    assert ltr.get("direction") == "ltr"
    assert rtl.get("direction") == "rtl"
    ltr_bar = next(ltr.iter(f"{NS}rect"))
    rtl_bar = next(rtl.iter(f"{NS}rect"))
    assert float(ltr_bar.get("x")) == 0
    # Mirrored: the longest bar ends at the right edge.
    end = float(rtl_bar.get("x")) + float(rtl_bar.get("width"))
    assert end == pytest.approx(charts.BARS_WIDTH)
    # The names are escaped, and kept apart from their neighbours by isolates.
    assert isolate("<b>&") in texts(ltr)


def test_bars_use_eastern_digits_for_a_dari_page_of_a_campaign_that_chose_them():
    rtl = parse(charts.share_bars(shares(), chart_id="b", title="t", style=FA))
    figures = [text for text in texts(rtl) if "(" in text]
    assert figures[0] == "۳۰ (۶۰٫۰٪)"
    assert figures[2] == "۱ (<۰٫۱٪)"
    latin = Style("fa", eastern_digits=False)
    assert Style("en", eastern_digits=True).number(1234) == "1,234"
    assert latin.number(1234) == "1,234"
    assert FA.number(1234) == "۱٬۲۳۴"


def test_two_panels_have_their_own_scales_or_one_shared():
    days = [DayPair(date(2025, 3, 1) + timedelta(days=k), 1000 * k, k) for k in range(1, 4)]

    def tallest(root, fill):
        return max(float(r.get("height")) for r in root.iter(f"{NS}rect") if r.get("fill") == fill)

    own = parse(charts.two_panels(days, chart_id="s", title="t", names=("Posts", "Signatures"),
                                  style=EN, shared_scale=False))  # fmt: skip
    shared = parse(charts.two_panels(days, chart_id="s", title="t", names=("X", "Collected"),
                                     style=EN, shared_scale=True))  # fmt: skip
    assert_accessible(own, "s")
    # Each panel's tallest column fills its panel on its own scale…
    assert tallest(own, charts.SECOND_FILL) == pytest.approx(tallest(own, charts.CONFIRMED_FILL))
    # …while on one scale 3 is a sliver beside 3,000.
    assert tallest(shared, charts.SECOND_FILL) < tallest(shared, charts.CONFIRMED_FILL) / 100
    assert "Signatures: 6 in all, at most 3 in a day." in own.find(f"{NS}desc").text


def test_dari_dates_read_in_dari():
    with translation.override("fa"):
        label = FA.day(date(2025, 3, 5))
        moment = FA.moment(START + timedelta(hours=14))
    assert label.startswith("۵ ")
    assert "۱۴:۰۰" in moment
