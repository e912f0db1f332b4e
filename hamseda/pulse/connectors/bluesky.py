"""Bluesky: `app.bsky.feed.searchPosts` on a public AppView.

`GET {base}/xrpc/app.bsky.feed.searchPosts?q=%23tag&sort=latest&limit=100` returns the
latest posts first, with an opaque `cursor` for the next (older) page. Search has no
"since" parameter, so a later fetch pages until it meets posts indexed before the
newest one seen (less a margin, since the order is by time and not strict), then
stops; the overlap is dropped by dedup. The first fetch pages back `backfill` far.

No account is needed: the public AppView (https://public.api.bsky.app) answers
anonymous reads. Live posts come through Jetstream instead (connectors.jetstream).
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.pulse.connectors.http import Client, Refused
from hamseda.pulse.connectors.paging import Page, dump_cursor, load_cursor, parse_time, search_query
from hamseda.pulse.models import Source

DEFAULT_BASE = "https://public.api.bsky.app"
PATH = "/xrpc/app.bsky.feed.searchPosts"
PAGE_SIZE = 100
# Posts are sorted by time, but a post indexed a little late can sit among older ones.
OVERLAP = timedelta(minutes=10)


def base_url(source: Source) -> str:
    return (source.base_url or DEFAULT_BASE).rstrip("/")


def _post_time(post: object) -> datetime | None:
    """When the AppView indexed a post (its own clock), else when it says it was made."""
    if not isinstance(post, dict):
        return None
    record = post["record"] if isinstance(post.get("record"), dict) else {}
    return parse_time(post.get("indexedAt")) or parse_time(record.get("createdAt"))


def pages(
    source: Source, client: Client, *, backfill: timedelta, now: datetime | None = None
) -> Iterator[Page]:
    from hamseda.pulse.formats import FormatError
    from hamseda.pulse.formats.bluesky import parse_search_page

    now = now or timezone.now()
    state = load_cursor(source.page_cursor)
    seen = parse_time(source.newest_seen)
    stop_at = seen - OVERLAP if seen is not None else now - backfill
    cursor = state.get("cursor", "")
    pending = parse_time(state.get("newest", "")) or seen
    while True:
        params: dict[str, str | int] = {
            "q": search_query(source),
            "sort": "latest",
            "limit": PAGE_SIZE,
        }
        if cursor:
            params["cursor"] = cursor
        answer = client.get_json(base_url(source) + PATH, params=params, service="Bluesky")
        page = answer.data
        if not isinstance(page, dict) or not isinstance(page.get("posts", []), list):
            raise Refused(_("Bluesky sent something that is not a page of search results."))
        posts = page.get("posts") or []
        times = [moment for moment in map(_post_time, posts) if moment is not None]
        if times:
            newest = max(times)
            pending = newest if pending is None else max(pending, newest)
        asked_cursor = cursor
        cursor = str(page.get("cursor") or "")
        if cursor == asked_cursor:
            cursor = ""  # The same page again: stop rather than loop.
        problems: list[str] = []
        try:
            records = parse_search_page(page, problems)
        except FormatError as error:
            raise Refused(str(error)) from None
        reached_seen = any(moment <= stop_at for moment in times)
        pending_text = pending.isoformat() if pending is not None else ""
        if cursor and posts and not reached_seen:
            yield Page(
                records,
                newest_seen=source.newest_seen,
                page_cursor=dump_cursor(cursor=cursor, newest=pending_text),
                caught_up=False,
                received=len(posts),
                notes=problems,
            )
            continue
        yield Page(
            records,
            newest_seen=pending_text or source.newest_seen,
            page_cursor="",
            caught_up=True,
            received=len(posts),
            notes=problems,
        )
        return
