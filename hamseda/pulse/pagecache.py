"""Short-lived caches of the public pulse pages: the dashboard and its chart downloads.

On the day of action many people open the same dashboard; its figures come from the
aggregate tables (cheap) but drawing a dozen charts is not free. The public HTML and each
download are kept per campaign and language for DASHBOARD_SECONDS, so the figures may be
that much behind the aggregates. Saving the settings or hiding a post drops them at once
(`forget`), so a hidden post leaves the wall, and a dashboard made organiser-only stops
being served, without waiting. Organisers' own views are never cached.
"""

from collections.abc import Callable

from django.core.cache import cache

from hamseda.languages import CODES

DASHBOARD_SECONDS = 30
# Every chart with downloads, in the dashboard's order (pulse.downloads.CHARTS).
CHART_NAMES = (
    "hourly",
    "daily",
    "cumulative",
    "milestones",
    "languages",
    "hashtags",
    "platforms",
    "kinds",
    "x-counts",
    "signatures",
)
FORMATS = ("csv", "json")


def page_key(slug: str, language: str) -> str:
    return f"hamseda:pulse:{slug}:{language}"


def data_key(slug: str, chart: str, fmt: str, language: str) -> str:
    return f"hamseda:pulse:{slug}:{chart}.{fmt}:{language}"


def cached(key: str, make: Callable[[], bytes]) -> bytes:
    """The bytes under `key`, made by `make()` when missing."""
    value = cache.get(key)
    if value is None:
        value = make()
        cache.set(key, value, DASHBOARD_SECONDS)
    return value


def forget(slug: str) -> None:
    """Drop every cached page and download of a campaign's dashboard. With a
    per-process cache (no HAMSEDA_REDIS_URL) other processes keep theirs until they
    expire, DASHBOARD_SECONDS later."""
    keys = [page_key(slug, code) for code in CODES]
    keys += [
        data_key(slug, chart, fmt, code)
        for chart in CHART_NAMES
        for fmt in FORMATS
        for code in CODES
    ]
    cache.delete_many(keys)
