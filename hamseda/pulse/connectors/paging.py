"""What a connector hands back for each page, how a paging session is remembered, and
the search query the search connectors (X, Bluesky) send.

A connector is a generator of `Page`s. Each page says what the Source's `newest_seen`
and `page_cursor` become once its posts are stored; pulse.fetch stores the posts and
those two values in one transaction, so a fetch that dies between pages resumes after
the last stored page (at most one page is asked again, and dedup makes that harmless).

While a connector pages back through older posts, the newest post of the first page is
kept in the cursor ("pending"), not in `newest_seen`: only when paging back is finished
may the next fetch start after it, otherwise the pages not yet read would be skipped.
"""

from dataclasses import dataclass, field
from datetime import datetime

import orjson

from hamseda.pulse.models import Source
from hamseda.pulse.records import PostRecord


def search_query(source: Source) -> str:
    """The query for a source: `#tag`, or a keyword as an exact phrase. X and Bluesky
    both read this syntax; Mastodon follows a tag timeline instead."""
    if source.is_hashtag:
        return f"#{source.query}"
    return '"' + source.query.replace('"', " ").strip() + '"'


@dataclass
class Page:
    records: list[PostRecord]
    newest_seen: str
    page_cursor: str
    # True on the last page: the source is up to date.
    caught_up: bool
    # Raw items the platform sent on this page (for progress: records may be fewer
    # when a parser skips an item).
    received: int = 0
    notes: list[str] = field(default_factory=list)


def load_cursor(value: str) -> dict[str, str]:
    """The paging state saved in Source.page_cursor ({} when not paging)."""
    if not value:
        return {}
    try:
        state = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(state, dict):
        return {}
    return {str(key): str(item) for key, item in state.items() if isinstance(item, str | int)}


def dump_cursor(**state: str) -> str:
    """Paging state for Source.page_cursor (500 characters at most; a platform's page
    token that does not fit is dropped, and paging restarts from the newest post)."""
    value = orjson.dumps({key: item for key, item in state.items() if item}).decode()
    return value if len(value) <= 500 else ""


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time from a platform's JSON, aware; None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
