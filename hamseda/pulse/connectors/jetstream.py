"""Bluesky live: the posts of a campaign's hashtags as they are written, via Jetstream.

Jetstream (https://github.com/bluesky-social/jetstream) turns the network's firehose
into JSON over a websocket. We subscribe to `wantedCollections=app.bsky.feed.post`
and keep, of every post created or updated, those whose facets or text carry one of
the campaign's hashtags; deletions are kept for posts the campaign has. Kept events go
through the Bluesky parser and pulse.ingest in small batches (every BATCH posts or
FLUSH_SECONDS), and with each batch the event time reached (`time_us`, microseconds)
is saved as the stream source's `page_cursor`; a restart resumes from there, a few
seconds early (Jetstream's advice; dedup drops the overlap). Jetstream keeps about a
day of events, so a stream down for longer misses posts that searchPosts
(connectors.bluesky) then picks up.

The stream's Source is made here: platform Bluesky, `base_url` the Jetstream address
(ws:// or wss://), `query` the hashtags it follows. The scheduler never fetches it.
`hamseda posts stream --source bluesky --campaign SLUG [--jetstream URL]` runs
`run_stream()` until stopped (Ctrl-C or SIGTERM), reconnecting with backoff.
"""

import contextlib
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.campaigns.models import Campaign
from hamseda.pulse.connectors.http import USER_AGENT
from hamseda.pulse.hashtags import HashtagError, normalise_hashtag
from hamseda.pulse.models import Platform, Post, Source, SourceState
from hamseda.pulse.records import PostRecord, ascii_digits

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
COLLECTION = "app.bsky.feed.post"
BATCH = 50
FLUSH_SECONDS = 2.0
# Save the cursor at least this often even when nothing matched, so that a restart
# does not replay hours of other people's posts.
CURSOR_SECONDS = 10.0
# Aggregates are rebuilt at most this often while streaming (and once at the end).
REBUILD_SECONDS = 10.0
REWIND_MICROSECONDS = 5_000_000
MAX_MESSAGE = 1024 * 1024
# Consecutive failed connections before the command gives up with exit code 1.
MAX_RECONNECTS = 8
RECONNECT_CAP_SECONDS = 60.0


class StreamError(Exception):
    """Something the person running the stream must fix; the message says what."""


def stream_url(url: str, cursor: int | None) -> str:
    """The subscribe URL with our collection and, when resuming, the cursor."""
    parts = urlsplit(url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query)
        if key not in ("wantedCollections", "cursor")
    ]
    query.append(("wantedCollections", COLLECTION))
    if cursor:
        query.append(("cursor", str(cursor)))
    return urlunsplit(
        (parts.scheme, parts.netloc, parts.path or "/subscribe", urlencode(query), "")
    )


def check_url(url: str) -> str:
    value = (url or DEFAULT_URL).strip()
    parts = urlsplit(value)
    if parts.scheme not in ("ws", "wss") or not parts.hostname or parts.username:
        raise StreamError(
            _("The Jetstream address must start with wss:// (for example %(url)s).")
            % {"url": DEFAULT_URL}
        )
    if len(value) > 200:
        raise StreamError(_("The Jetstream address is too long."))
    return value


def wanted_tags(campaign: Campaign) -> set[str]:
    """The campaign's hashtags and its Bluesky hashtag sources', normalised."""
    names = list(campaign.hashtag_list)
    names += Source.objects.filter(
        campaign=campaign, platform=Platform.BLUESKY, is_hashtag=True
    ).values_list("query", flat=True)
    tags = set()
    for name in names:
        for word in name.split():
            try:
                tags.add(normalise_hashtag(word))
            except HashtagError:
                continue
    return tags


def stream_source(campaign: Campaign, url: str, tags: set[str]) -> Source:
    """The campaign's Source for this Jetstream address, made on first use."""
    query = " ".join(sorted(tags))[:200]
    with transaction.atomic():
        source = (
            Source.objects.select_for_update()
            .filter(campaign=campaign, platform=Platform.BLUESKY, base_url=url)
            .first()
        )
        if source is None:
            return Source.objects.create(
                campaign=campaign,
                platform=Platform.BLUESKY,
                query=query,
                is_hashtag=True,
                base_url=url,
                created_at=timezone.now(),
            )
        if source.query != query:
            source.query = query
            source.save(update_fields=["query"])
    return source


class Batcher:
    """Collects the kept events of one stream and stores them in small batches."""

    def __init__(
        self,
        campaign: Campaign,
        source: Source,
        tags: set[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        stdout: IO[str] | None = None,
    ) -> None:
        self.campaign = campaign
        self.source = source
        self.tags = tags
        self.clock = clock
        self.stdout = stdout
        self.posts: dict[str, PostRecord] = {}
        self.deletes: dict[str, PostRecord] = {}
        self.cursor: int | None = (
            int(source.page_cursor) if ascii_digits(source.page_cursor) else None
        )
        self.saved_cursor = self.cursor
        self.last_flush = self.last_rebuild = clock()
        self.first_hour: datetime | None = None
        self.last_hour: datetime | None = None
        self.stored = 0
        self.problems = 0

    def resume_cursor(self) -> int | None:
        if self.cursor is None:
            return None
        return max(self.cursor - REWIND_MICROSECONDS, 1)

    def handle(self, message: str | bytes) -> None:
        """One websocket message: keep it if it is about the campaign's hashtags."""
        from hamseda.pulse.formats import FormatError
        from hamseda.pulse.formats.bluesky import parse_jetstream_event

        try:
            event = orjson.loads(message)
        except orjson.JSONDecodeError:
            self.problems += 1
            return
        if not isinstance(event, dict):
            self.problems += 1
            return
        time_us = event.get("time_us")
        if type(time_us) is int and time_us > 0:
            self.cursor = max(self.cursor or 0, time_us)
        try:
            record = parse_jetstream_event(event)
        except (FormatError, ValueError, TypeError, AttributeError, KeyError):
            self.problems += 1
            return
        if record is None:
            return
        if record.deleted:
            self.deletes[record.platform_id] = record
            self.posts.pop(record.platform_id, None)
        elif self.tags.intersection(record.hashtags):
            self.posts[record.platform_id] = record
            self.deletes.pop(record.platform_id, None)

    def due(self) -> bool:
        pending = len(self.posts) + len(self.deletes)
        since = self.clock() - self.last_flush
        return (
            pending >= BATCH
            or (pending and since >= FLUSH_SECONDS)
            or (self.cursor != self.saved_cursor and since >= CURSOR_SECONDS)
        )

    def flush(self, *, final: bool = False) -> int:
        """Store what was kept and the cursor reached, in one transaction."""
        from hamseda.pulse import aggregates
        from hamseda.pulse.ingest import ingest_records

        records = list(self.posts.values())
        if self.deletes:
            # A deletion says nothing of hashtags: keep those of posts the campaign has
            # (the rest of the network's deletions would only widen the hours rebuilt).
            known = set(
                Post.objects.filter(
                    campaign=self.campaign,
                    platform=Platform.BLUESKY,
                    platform_id__in=list(self.deletes),
                ).values_list("platform_id", flat=True)
            )
            records += [record for uri, record in self.deletes.items() if uri in known]
        now = timezone.now()
        stored = 0
        with transaction.atomic():
            if records:
                ingested = ingest_records(
                    self.campaign, records, now=now, rebuild=False, keep_unknown_deletions=False
                )
                stored = ingested.new + ingested.updated + ingested.deleted
                if ingested.first_hour is not None:
                    self.first_hour = min(filter(None, (self.first_hour, ingested.first_hour)))
                    self.last_hour = max(filter(None, (self.last_hour, ingested.last_hour)))
            Source.objects.filter(pk=self.source.pk).update(
                page_cursor=str(self.cursor or ""),
                newest_seen=str(self.cursor or ""),
                last_fetched_at=now,
                posts_fetched=F("posts_fetched") + stored,
            )
        self.saved_cursor = self.cursor
        self.posts.clear()
        self.deletes.clear()
        self.stored += stored
        self.last_flush = self.clock()
        if (
            self.first_hour is not None
            and self.last_hour is not None
            and (final or self.clock() - self.last_rebuild >= REBUILD_SECONDS)
        ):
            aggregates.rebuild(self.campaign, self.first_hour, self.last_hour, now=now)
            self.first_hour = self.last_hour = None
            self.last_rebuild = self.clock()
        if stored and self.stdout is not None:
            self.stdout.write(
                _("stored %(count)d posts (%(total)d since start)")
                % {"count": stored, "total": self.stored}
                + "\n"
            )
        return stored

    def note_error(self, message: str) -> None:
        Source.objects.filter(pk=self.source.pk).update(last_error=message[:300])


def _connect(url: str) -> Any:
    from websockets.sync.client import connect

    return connect(
        url,
        user_agent_header=USER_AGENT,
        open_timeout=10,
        close_timeout=5,
        max_size=MAX_MESSAGE,
    )


def run_stream(
    campaign: str | Campaign,
    url: str,
    stdout: IO[str],
    stderr: IO[str],
    stop_after: int | None = None,
    *,
    connect: Callable[[str], Any] = _connect,
    sleep: Callable[[float], None] = time.sleep,
    recv_timeout: float = 1.0,
) -> int:
    """Follow Jetstream for a campaign until stopped; returns the exit code.

    `stop_after` ends the stream after that many messages (tests, trials).
    """
    try:
        found = campaign if isinstance(campaign, Campaign) else Campaign.objects.get(slug=campaign)
    except Campaign.DoesNotExist:
        stderr.write(
            _("There is no campaign with the slug “%(slug)s”.") % {"slug": campaign} + "\n"
        )
        return 1
    try:
        address = check_url(url)
        tags = wanted_tags(found)
        if not tags:
            raise StreamError(
                _("The campaign has no hashtags to follow: add them to the campaign first.")
            )
    except StreamError as error:
        stderr.write(f"{error}\n")
        return 1
    source = stream_source(found, address, tags)
    if source.state == SourceState.PAUSED:
        stderr.write(_("This stream is paused on the campaign's pulse page.") + "\n")
        return 1
    batcher = Batcher(found, source, tags, stdout=stdout)
    stdout.write(
        _("Following %(tags)s on %(url)s%(resume)s; Ctrl-C to stop.")
        % {
            "tags": " ".join(f"#{tag}" for tag in sorted(tags)),
            "url": address,
            "resume": _(" from where it stopped") if batcher.cursor else "",
        }
        + "\n"
    )
    with _sigterm_stops():
        return _follow(batcher, address, stdout, stderr, stop_after, connect, sleep, recv_timeout)


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """Let SIGTERM (systemd, docker stop) end the stream like Ctrl-C, so that the last
    batch and the cursor are saved. Only the main thread may set signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _follow(
    batcher: Batcher,
    address: str,
    stdout: IO[str],
    stderr: IO[str],
    stop_after: int | None,
    connect: Callable[[str], Any],
    sleep: Callable[[float], None],
    recv_timeout: float,
) -> int:
    from websockets.exceptions import WebSocketException

    received = 0
    failures = 0
    try:
        while True:
            try:
                with connect(stream_url(address, batcher.resume_cursor())) as websocket:
                    if failures:
                        batcher.note_error("")
                    failures = 0
                    while True:
                        try:
                            message = websocket.recv(timeout=recv_timeout)
                        except TimeoutError:
                            if batcher.due():
                                batcher.flush()
                            continue
                        received += 1
                        batcher.handle(message)
                        if stop_after is not None and received >= stop_after:
                            batcher.flush(final=True)
                            stdout.write(_("Stopped after %(n)d events.") % {"n": received} + "\n")
                            return 0
                        if batcher.due():
                            batcher.flush()
            except (OSError, WebSocketException, TimeoutError) as error:
                batcher.flush()
                failures += 1
                lost = _("Jetstream connection lost (%(error)s).") % {"error": type(error).__name__}
                batcher.note_error(lost)
                if failures > MAX_RECONNECTS:
                    batcher.flush(final=True)
                    stderr.write(
                        lost
                        + " "
                        + _("Gave up after %(n)d attempts; run the command again later.")
                        % {"n": failures}
                        + "\n"
                    )
                    return 1
                wait = min(RECONNECT_CAP_SECONDS, 2.0**failures) * (0.5 + random.random())  # noqa: S311
                stderr.write(lost + " " + _("Reconnecting in %(s)d s.") % {"s": round(wait)} + "\n")
                sleep(wait)
    except KeyboardInterrupt:
        batcher.flush(final=True)
        stdout.write(_("Stopped; the next run resumes from here.") + "\n")
        return 0
