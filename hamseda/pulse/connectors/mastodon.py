"""Mastodon: the public timeline of a hashtag on one instance.

`GET {instance}/api/v1/timelines/tag/{hashtag}?limit=40` returns the newest statuses
first. The hashtag goes into the path percent-encoded as UTF-8, so a Dari or Pashto
hashtag (#آزادی‌بیان, with its zero-width non-joiner) reaches the instance intact.

- The first fetch pages back (`max_id`, from the `Link: <…>; rel="next"` header) until
  `backfill` ago or the end of the timeline.
- Later fetches go forward from the newest status seen with `min_id`, which returns
  the statuses immediately newer than it; each page moves `newest_seen` on, so a
  fetch stopped half-way loses nothing.

An instance shows the posts it knows: its own, and those of accounts its users follow.
Watching a hashtag across the fediverse means adding a few large instances; a post
seen by two instances is one post (Post.platform_id is the status URI, not the
instance's own number).
"""

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.pulse.connectors.http import Client, Refused
from hamseda.pulse.connectors.paging import Page, dump_cursor, load_cursor
from hamseda.pulse.models import Source

PAGE_SIZE = 40
_LINK = re.compile(r"<([^>]*)>\s*;\s*rel=\"?([a-z]+)\"?", re.IGNORECASE)


def timeline_url(source: Source) -> str:
    return f"{source.base_url.rstrip('/')}/api/v1/timelines/tag/{quote(source.query, safe='')}"


def instance_name(source: Source) -> str:
    return urlsplit(source.base_url).netloc or source.base_url


def link_param(link_header: str, rel: str, name: str) -> str:
    """A query parameter of the `rel` link in a Link header ("" if absent)."""
    for url, found_rel in _LINK.findall(link_header or ""):
        if found_rel.lower() == rel:
            values = parse_qs(urlsplit(url).query).get(name)
            return values[0] if values else ""
    return ""


def _statuses(data: object, service: str) -> list[dict]:
    if not isinstance(data, list):
        raise Refused(
            _("%(service)s sent something that is not a list of posts.") % {"service": service}
        )
    return [status for status in data if isinstance(status, dict) and status.get("id")]


def _parse(statuses: list[dict], problems: list[str]) -> list:
    """PostRecords of the statuses; a status that cannot be read is described in
    `problems` and skipped, not allowed to stop the fetch."""
    from hamseda.pulse.formats.mastodon import parse_statuses

    return parse_statuses(statuses, problems)


def pages(
    source: Source,
    client: Client,
    *,
    token: str = "",
    backfill: timedelta,
    now: datetime | None = None,
) -> Iterator[Page]:
    now = now or timezone.now()
    service = instance_name(source)
    url = timeline_url(source)
    state = load_cursor(source.page_cursor)
    if source.newest_seen and not state:
        yield from _forward(source, client, url, service, token)
        return
    # Paging back: the first fetch, or one that stopped half-way through it.
    max_id = state.get("max_id", "")
    pending = state.get("newest", "")
    oldest_wanted = now - backfill
    while True:
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        if max_id:
            params["max_id"] = max_id
        answer = client.get_json(url, params=params, token=token, service=service)
        statuses = _statuses(answer.data, service)
        problems: list[str] = []
        records = _parse(statuses, problems)
        if statuses and not pending:
            pending = str(statuses[0]["id"])  # newest first
        asked_max_id = max_id
        max_id = link_param(answer.headers.get("link", ""), "next", "max_id")
        if not max_id and statuses:
            max_id = str(statuses[-1]["id"])
        too_old = any(record.created_at < oldest_wanted for record in records)
        # An instance that ignores max_id would send the same page forever.
        moved = max_id != asked_max_id
        if statuses and max_id and moved and not too_old:
            yield Page(
                records,
                newest_seen=source.newest_seen,
                page_cursor=dump_cursor(max_id=max_id, newest=pending),
                caught_up=False,
                received=len(statuses),
                notes=problems,
            )
            continue
        yield Page(
            records,
            newest_seen=pending or source.newest_seen,
            page_cursor="",
            caught_up=True,
            received=len(statuses),
            notes=problems,
        )
        return


def _forward(source: Source, client: Client, url: str, service: str, token: str) -> Iterator[Page]:
    min_id = source.newest_seen
    while True:
        answer = client.get_json(
            url, params={"limit": PAGE_SIZE, "min_id": min_id}, token=token, service=service
        )
        statuses = _statuses(answer.data, service)
        if statuses:
            # Newest first; the `prev` link names the same id where an instance sends it.
            min_id = link_param(answer.headers.get("link", ""), "prev", "min_id") or str(
                statuses[0]["id"]
            )
        caught_up = len(statuses) < PAGE_SIZE
        problems: list[str] = []
        yield Page(
            _parse(statuses, problems),
            newest_seen=min_id,
            page_cursor="",
            caught_up=caught_up,
            received=len(statuses),
            notes=problems,
        )
        if caught_up:
            return
