"""Every chart's figures as a table, and that table as CSV or JSON.

The dashboard's tables and the downloads come from the same `Table`, so what a reader
downloads is what the chart shows. Column names are stable English identifiers (scripts
and spreadsheets rely on them); the names of languages, platforms and kinds are in the
reader's language, which is why downloads are per language. Times are UTC, in ISO 8601.

CSV files start with a byte-order mark (spreadsheet programs then read Dari and Pashto
correctly) and text cells that a spreadsheet would run as a formula get a leading
apostrophe, as in the organisers' other CSV downloads (petitions.delivery.aggregates).
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

import orjson

from hamseda.petitions.delivery.aggregates import spreadsheet_safe
from hamseda.pulse import pagecache
from hamseda.pulse.analytics import PLATFORMS, Figures, Share

# Every chart's name, in the dashboard's order (kept in pagecache, which drops them all).
CHARTS = pagecache.CHART_NAMES
FORMATS = pagecache.FORMATS


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list]


def _share_table(key: str, shares: list[Share]) -> Table:
    return Table(
        [key, "name", "posts", "percent"],
        [[share.key, share.name, share.posts, share.percent] for share in shares],
    )


def table(figures: Figures, chart: str) -> Table:
    """The figures of one chart (one of CHARTS; KeyError for any other)."""
    if chart in ("hourly", "daily"):
        buckets = figures.hourly() if chart == "hourly" else figures.daily()
        return Table(
            ["hour" if chart == "hourly" else "day", *PLATFORMS, "total"],
            [
                [bucket.start, *(bucket.by_platform[p] for p in PLATFORMS), bucket.total]
                for bucket in buckets
            ],
        )
    if chart == "cumulative":
        return Table(
            ["hour", "posts", "cumulative"],
            [[point.hour, point.posts, point.cumulative] for point in figures.cumulative()],
        )
    if chart == "milestones":
        return Table(
            ["count", "passed_at"],
            [[milestone.count, milestone.passed_at] for milestone in figures.milestones()],
        )
    if chart == "languages":
        return _share_table("language", figures.languages())
    if chart == "hashtags":
        return _share_table("hashtag", figures.hashtags())
    if chart == "platforms":
        authors = figures.totals.authors_by_platform
        shares = figures.platform_shares()
        return Table(
            ["platform", "name", "posts", "percent", "authors"],
            [[s.key, s.name, s.posts, s.percent, authors.get(s.key, 0)] for s in shares],
        )
    if chart == "kinds":
        return _share_table("kind", figures.kind_shares())
    if chart == "x-counts":
        return Table(
            ["day", "x_count", "collected"],
            [[pair.day, pair.first, pair.second] for pair in figures.x_counts()],
        )
    if chart == "signatures":
        return Table(
            ["day", "posts", "signatures"],
            [[pair.day, pair.first, pair.second] for pair in figures.signatures()],
        )
    raise KeyError(chart)


def _plain(value):
    """A cell as JSON and CSV write it: ISO times in UTC, "" for nothing."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_csv(data: Table) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(data.columns)
    for row in data.rows:
        cells = [_plain(cell) for cell in row]
        writer.writerow(
            [
                spreadsheet_safe(cell) if isinstance(cell, str) else ("" if cell is None else cell)
                for cell in cells
            ]
        )
    return out.getvalue().encode()


def as_json(data: Table, *, campaign: str, chart: str, updated_at: datetime | None) -> bytes:
    return orjson.dumps(
        {
            "campaign": campaign,
            "chart": chart,
            "updated_at": _plain(updated_at) if updated_at else None,
            "columns": data.columns,
            "rows": [
                dict(zip(data.columns, (_plain(cell) for cell in row), strict=True))
                for row in data.rows
            ],
        }
    )
