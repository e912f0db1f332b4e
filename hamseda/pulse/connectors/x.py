"""X API v2: recent search for a source's posts, and X's own hourly counts.

`GET {base}/2/tweets/search/recent` returns the newest posts first, up to 100 a page,
with `meta.newest_id` and, while older ones remain, `meta.next_token`. The first fetch
pages back as far as recent search reaches (seven days); later fetches ask with
`since_id` = the newest post seen, so only new posts come back.

Retweets are kept, not filtered out with `-is:retweet`: a retweet is someone spreading
the hashtag, and the dashboard counts it as a repost (docs/pulse.md, "What counts").

`GET {base}/2/tweets/counts/recent?granularity=hour` is X's count of every matching
post per hour over the same seven days; recent search may return fewer (X samples
under load, and deleted or protected posts are not returned), so the dashboard shows
both. Both endpoints need a bearer token of an app whose plan includes them
(docs/pulse-fetching.md).
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.pulse.connectors.http import Client, Refused
from hamseda.pulse.connectors.paging import Page, dump_cursor, load_cursor, parse_time, search_query
from hamseda.pulse.models import Source
from hamseda.pulse.records import ascii_digits

DEFAULT_BASE = "https://api.x.com"
SEARCH_PATH = "/2/tweets/search/recent"
COUNTS_PATH = "/2/tweets/counts/recent"
PAGE_SIZE = 100
TWEET_FIELDS = (
    "created_at,lang,public_metrics,entities,referenced_tweets,author_id,edit_history_tweet_ids"
)
EXPANSIONS = "author_id,referenced_tweets.id"
USER_FIELDS = "username"
# Recent search refuses a since_id older than its seven days (HTTP 400); past this age
# the fetch asks without one, and dedup drops what was already stored.
SINCE_ID_HORIZON = timedelta(days=6, hours=23)
# Snowflake ids carry their creation time: milliseconds since this epoch, shifted.
_SNOWFLAKE_EPOCH_MS = 1288834974657
COUNT_PAGES = 3


def base_url(source: Source) -> str:
    return (source.base_url or DEFAULT_BASE).rstrip("/")


def id_time(tweet_id: str) -> datetime | None:
    """When a post was made, from its id (X ids are snowflakes)."""
    if not ascii_digits(tweet_id):
        return None
    milliseconds = (int(tweet_id) >> 22) + _SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def newer_id(first: str, second: str) -> str:
    """The newer of two post ids ("" counts as none)."""
    candidates = [value for value in (first, second) if ascii_digits(value)]
    return max(candidates, key=int) if candidates else ""


def pages(
    source: Source, client: Client, *, token: str, now: datetime | None = None
) -> Iterator[Page]:
    from hamseda.pulse.formats import FormatError
    from hamseda.pulse.formats.x import parse_page

    now = now or timezone.now()
    state = load_cursor(source.page_cursor)
    since_id = source.newest_seen
    made = id_time(since_id)
    if made is not None and made < now - SINCE_ID_HORIZON:
        since_id = ""
    next_token = state.get("next", "")
    pending = state.get("newest", "")
    while True:
        params: dict[str, str | int] = {
            "query": search_query(source),
            "max_results": PAGE_SIZE,
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if next_token:
            params["next_token"] = next_token
        answer = client.get_json(
            base_url(source) + SEARCH_PATH, params=params, token=token, service="X"
        )
        page = answer.data
        if not isinstance(page, dict):
            raise Refused(_("X sent something that is not a page of search results."))
        meta = page["meta"] if isinstance(page.get("meta"), dict) else {}
        pending = newer_id(pending, str(meta.get("newest_id") or ""))
        asked_token = next_token
        next_token = str(meta.get("next_token") or "")
        if next_token == asked_token:
            next_token = ""  # The same page again: stop rather than loop.
        problems: list[str] = []
        try:
            records = parse_page(page, problems)
        except FormatError as error:
            raise Refused(str(error)) from None
        received = len(page.get("data") or [])
        if next_token:
            yield Page(
                records,
                newest_seen=source.newest_seen,
                page_cursor=dump_cursor(next=next_token, newest=pending),
                caught_up=False,
                received=received,
                notes=problems,
            )
            continue
        yield Page(
            records,
            newest_seen=newer_id(pending, source.newest_seen),
            page_cursor="",
            caught_up=True,
            received=received,
            notes=problems,
        )
        return


def counts(source: Source, client: Client, *, token: str) -> list[tuple[datetime, int]]:
    """X's hourly counts of posts matching the source's query, oldest first."""
    found: dict[datetime, int] = {}
    next_token = ""
    for _page in range(COUNT_PAGES):
        params: dict[str, str | int] = {"query": search_query(source), "granularity": "hour"}
        if next_token:
            params["next_token"] = next_token
        answer = client.get_json(
            base_url(source) + COUNTS_PATH, params=params, token=token, service="X"
        )
        page = answer.data
        if not isinstance(page, dict):
            raise Refused(_("X sent something that is not a list of counts."))
        for bucket in page.get("data") or []:
            if not isinstance(bucket, dict):
                continue
            start = parse_time(bucket.get("start"))
            count = bucket.get("tweet_count")
            if start is None or not isinstance(count, int) or count < 0:
                continue
            hour = start.astimezone(UTC)
            if hour.minute or hour.second or hour.microsecond:
                # The first bucket starts seven days ago to the second: a part of an
                # hour, which must not overwrite the whole hour stored earlier.
                continue
            found[hour] = found.get(hour, 0) + count
        meta = page["meta"] if isinstance(page.get("meta"), dict) else {}
        next_token = str(meta.get("next_token") or "")
        if not next_token:
            break
    return sorted(found.items())
