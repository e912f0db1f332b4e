"""Fetching a campaign's sources: by hand (`hamseda posts fetch`) and on a schedule.

`fetch_source()` asks a source's platform for its posts page by page until it is
caught up (or `max_pages` are read). Each page's posts go through pulse.ingest and, in
the same transaction, the Source's resume point (`newest_seen`, `page_cursor`) moves
on, so a fetch that dies half-way asks again for at most one page, and dedup makes
that harmless. The dashboard's aggregates are rebuilt once at the end, for the hours
the fetch touched.

`fetch_due_sources()` is the scheduled job (pulse.tasks): every active source whose
last fetch is older than FETCH_INTERVAL and whose rate-limit pause is over. Each is
claimed with a conditional UPDATE of `last_fetched_at`, so two workers never fetch one
source at the same time.

Errors end a fetch without losing anything (connectors.http): a rate limit sets
`not_before`; a refused token moves the source to FAILING until an organiser gives a
new one; anything else is kept in `last_error` and the next run tries again.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hamseda.campaigns.models import Campaign
from hamseda.pulse import sources as source_services
from hamseda.pulse.connectors import bluesky, mastodon, x
from hamseda.pulse.connectors.http import (
    AccessRefused,
    Client,
    ConnectorError,
    RateLimited,
)
from hamseda.pulse.connectors.paging import Page
from hamseda.pulse.models import Platform, PlatformCount, Source, SourceState

log = logging.getLogger("hamseda.pulse")

# How often the scheduler fetches each source. Ten minutes keeps a campaign's curve
# fresh and stays far inside every platform's limits (X: 450 or 60 requests per 15
# minutes depending on the plan; Mastodon: 300 per 5 minutes; Bluesky: generous).
FETCH_INTERVAL = timedelta(minutes=10)
# Pages per source and scheduled run: a first fetch of a busy hashtag pages back over
# several runs instead of holding the worker for an hour.
PAGES_PER_RUN = 10
# A scheduled run claims no new source after this many seconds, so that the worker's
# other jobs (milestones every minute, reminders) are not kept waiting.
RUN_BUDGET_SECONDS = 120.0
# Pages of one fetch when no limit is given (the command): a bound on a platform that
# never says "no more pages".
MAX_PAGES = 1000
# How far back a first fetch of Bluesky or Mastodon pages (X recent search reaches back
# seven days by itself).
BACKFILL = timedelta(days=30)


@dataclass
class FetchResult:
    source_id: int
    pages: int = 0
    received: int = 0
    stored: int = 0
    new: int = 0
    caught_up: bool = False
    counts: int = 0
    error: str = ""
    not_before: datetime | None = None
    refused: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error


def _pages(source: Source, client: Client, token: str, now: datetime) -> Iterator[Page]:
    if source.platform == Platform.X:
        return x.pages(source, client, token=token, now=now)
    if source.platform == Platform.BLUESKY:
        return bluesky.pages(source, client, backfill=BACKFILL, now=now)
    return mastodon.pages(source, client, token=token, backfill=BACKFILL, now=now)


def _base(source: Source) -> str:
    if source.platform == Platform.X:
        return x.base_url(source)
    if source.platform == Platform.BLUESKY:
        return bluesky.base_url(source)
    return source.base_url


def fetch_source(
    source: Source,
    *,
    now: datetime | None = None,
    max_pages: int | None = None,
    client: Client | None = None,
    on_page: Callable[[Page, int], None] | None = None,
) -> FetchResult:
    """Fetch one source until it is caught up or `max_pages` pages are stored.

    `on_page(page, new_posts)` is called after each stored page (progress output).
    """
    from hamseda.pulse import aggregates
    from hamseda.pulse.ingest import ingest_records

    now = now or timezone.now()
    own_client = client is None
    client = client or Client()
    result = FetchResult(source.pk)
    first_hour: datetime | None = None
    last_hour: datetime | None = None
    finished = False
    try:
        token = source_services.token_of(source)
        if source.platform == Platform.X and not token:
            raise AccessRefused(_("X needs a bearer token; give one to resume fetching."))
        for page in _pages(source, client, token, now):
            with transaction.atomic():
                new = 0
                if page.records:
                    ingested = ingest_records(source.campaign, page.records, now=now, rebuild=False)
                    new = ingested.new
                    if ingested.first_hour is not None:
                        first_hour = min(filter(None, (first_hour, ingested.first_hour)))
                        last_hour = max(filter(None, (last_hour, ingested.last_hour)))
                Source.objects.filter(pk=source.pk).update(
                    newest_seen=page.newest_seen,
                    page_cursor=page.page_cursor,
                    posts_fetched=F("posts_fetched") + len(page.records),
                )
            source.newest_seen, source.page_cursor = page.newest_seen, page.page_cursor
            result.pages += 1
            result.received += page.received
            result.stored += len(page.records)
            result.new += new
            result.notes.extend(page.notes)
            if on_page is not None:
                on_page(page, new)
            if page.caught_up:
                result.caught_up = True
                break
            if result.pages >= (max_pages or MAX_PAGES):
                break
        if source.platform == Platform.X:
            _store_counts(source, client, token, result)
        finished = True
    except RateLimited as error:
        result.error, result.not_before = str(error), error.not_before
        finished = True
    except AccessRefused as error:
        result.error, result.refused = str(error), True
        finished = True
    except ConnectorError as error:
        result.error = str(error)
        finished = True
    finally:
        try:
            if first_hour is not None and last_hour is not None:
                aggregates.rebuild(source.campaign, first_hour, last_hour, now=now)
        finally:
            if not finished:
                result.error = _("The fetch stopped on an unexpected error; see the server log.")
            _finish(source, result, client, now)
            if own_client:
                client.close()
    return result


def _store_counts(source: Source, client: Client, token: str, result: FetchResult) -> None:
    """X's own hourly counts, stored beside what was collected. A plan without the
    counts endpoint, or its own rate limit, is a note, not a failure of the source."""
    try:
        hours = x.counts(source, client, token=token)
    except ConnectorError as error:
        result.notes.append(str(error))
        return
    PlatformCount.objects.bulk_create(
        [PlatformCount(source=source, hour=hour, posts=posts) for hour, posts in hours],
        update_conflicts=True,
        unique_fields=["source", "hour"],
        update_fields=["posts"],
    )
    result.counts = len(hours)


def _finish(source: Source, result: FetchResult, client: Client, now: datetime) -> None:
    """Save how the fetch ended: when, its error, and when the platform wants us back."""
    not_before = result.not_before or client.limited_until(_base(source))
    Source.objects.filter(pk=source.pk).update(
        last_fetched_at=now, last_error=result.error[:300], not_before=not_before
    )
    if result.refused:
        Source.objects.filter(pk=source.pk).update(state=SourceState.FAILING)
        source.state = SourceState.FAILING
    elif result.ok:
        # A source that works again (the platform's refusal was passing) needs no
        # attention any more.
        Source.objects.filter(pk=source.pk, state=SourceState.FAILING).update(
            state=SourceState.ACTIVE
        )
    source.last_fetched_at, source.last_error, source.not_before = (
        now,
        result.error[:300],
        not_before,
    )


# --- the scheduled job ----------------------------------------------------------------------


def due_sources(now: datetime):
    return (
        Source.objects.filter(state=SourceState.ACTIVE)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lte=now - FETCH_INTERVAL))
        .exclude(base_url__startswith="ws://")
        .exclude(base_url__startswith="wss://")
        .select_related("campaign")
        .order_by(F("last_fetched_at").asc(nulls_first=True), "pk")
    )


def claim(source: Source, now: datetime) -> bool:
    """Take a source for this worker: only the worker whose UPDATE still finds the
    `last_fetched_at` it read gets the row, so a source is never fetched twice at once."""
    rows = Source.objects.filter(pk=source.pk, state=SourceState.ACTIVE)
    if source.last_fetched_at is None:
        rows = rows.filter(last_fetched_at__isnull=True)
    else:
        rows = rows.filter(last_fetched_at=source.last_fetched_at)
    if rows.update(last_fetched_at=now) != 1:
        return False
    source.last_fetched_at = now
    return True


def fetch_due_sources(
    now: datetime | None = None,
    *,
    max_pages: int = PAGES_PER_RUN,
    budget_seconds: float = RUN_BUDGET_SECONDS,
) -> int:
    """Fetch every source that is due; returns how many were fetched."""
    now = now or timezone.now()
    started = time.monotonic()
    fetched = 0
    for source in list(due_sources(now)[:200]):
        if time.monotonic() - started > budget_seconds:
            break  # The next run, a minute from now, takes the rest.
        if not claim(source, now):
            continue
        try:
            fetch_source(source, now=now, max_pages=max_pages)
        except Exception:  # One broken source must not stop the others.
            log.exception("pulse: fetching source %s failed", source.pk)
        fetched += 1
    return fetched


# --- the command ------------------------------------------------------------------------------


class FetchCommandError(Exception):
    """Something the person running `hamseda posts fetch` must fix; the message says what."""


def _read_token_file(path: str | Path) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FetchCommandError(
            _("The token file %(path)s does not exist.") % {"path": path}
        ) from None
    except (OSError, UnicodeError) as error:
        raise FetchCommandError(
            _("Could not read the token file %(path)s (%(error)s).")
            % {"path": path, "error": type(error).__name__}
        ) from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise FetchCommandError(
            _("The token file %(path)s must hold the token on one line, and nothing else.")
            % {"path": path}
        )
    return lines[0]


def _find_or_add_source(
    campaign: Campaign, platform: str, hashtag: str, instance: str, token: str
) -> tuple[Source, bool]:
    """The campaign's source for platform + hashtag (+ instance), made if missing.
    Returns (source, created)."""
    try:
        query = source_services.clean_query(platform, hashtag, is_hashtag=True)
        base_url = source_services.clean_base_url(platform, instance)
    except source_services.SourceError as error:
        raise FetchCommandError(str(error)) from None
    from hamseda.pulse.hashtags import normalise_hashtag

    wanted = normalise_hashtag(query)
    candidates = Source.objects.filter(campaign=campaign, platform=platform, is_hashtag=True)
    if platform == Platform.MASTODON:
        candidates = candidates.filter(base_url=base_url)
    # X and Bluesky: the campaign's source of that hashtag, whichever API address it has.
    for source in candidates.exclude(base_url__startswith="ws").order_by("base_url", "pk"):
        if normalise_hashtag(source.query) == wanted:
            if token:
                try:
                    source = source_services.replace_token(source, token)
                except source_services.SourceError as error:
                    raise FetchCommandError(str(error)) from None
            return source, False
    try:
        source = source_services.add_source(
            campaign, platform=platform, query=query, base_url=base_url, token=token
        )
    except source_services.SourceError as error:
        raise FetchCommandError(str(error)) from None
    return source, True


def run_fetch(
    *,
    campaign: str | Campaign,
    platform: str,
    hashtag: str,
    instance: str = "",
    token: str | Path | None = None,
    max_pages: int | None = None,
    stdout: IO[str],
    stderr: IO[str],
    client: Client | None = None,
    now: datetime | None = None,
) -> int:
    """`hamseda posts fetch`: fetch one hashtag from one platform into a campaign.

    `token` is the path of a file holding X's bearer token (--token-file); it is stored
    locked with the source, so later fetches (and the scheduler) need it no more.
    Returns the exit code: 0 when the fetch went through, 1 with a message otherwise.
    """
    try:
        found = (
            campaign
            if isinstance(campaign, Campaign)
            else Campaign.objects.filter(slug=campaign).first()
        )
        if found is None:
            raise FetchCommandError(
                _("There is no campaign with the slug “%(slug)s”.") % {"slug": campaign}
            )
        if platform not in Platform.values:
            raise FetchCommandError(
                _("Unknown source “%(platform)s”: use x, bluesky or mastodon.")
                % {"platform": platform}
            )
        if instance and platform != Platform.MASTODON:
            raise FetchCommandError(_("--instance is for Mastodon sources only."))
        token_text = _read_token_file(token) if token else ""
        source, created = _find_or_add_source(found, platform, hashtag, instance, token_text)
    except FetchCommandError as error:
        stderr.write(f"{error}\n")
        return 1
    label = str(source) + (f" ({mastodon.instance_name(source)})" if source.base_url else "")
    if created:
        stdout.write(
            _("Connected %(source)s to %(campaign)s.") % {"source": label, "campaign": found.slug}
            + "\n"
        )
    now = now or timezone.now()
    if source.not_before and source.not_before > now:
        stderr.write(
            _("%(source)s is rate-limited until %(when)s; try again then.")
            % {"source": label, "when": source.not_before.strftime("%Y-%m-%d %H:%M UTC")}
            + "\n"
        )
        return 1

    def progress(page: Page, new: int) -> None:
        stdout.write(
            _("page %(n)d: %(received)d received, %(new)d new")
            % {"n": pages_done[0] + 1, "received": page.received, "new": new}
            + "\n"
        )
        pages_done[0] += 1

    pages_done = [0]
    stdout.write(_("Fetching %(source)s …") % {"source": label} + "\n")
    result = fetch_source(source, now=now, max_pages=max_pages, client=client, on_page=progress)
    for note in result.notes[:20]:
        stderr.write(_("note: %(note)s") % {"note": note} + "\n")
    summary = _("%(pages)s, %(received)s, %(new)d new; %(state)s") % {
        "pages": ngettext("%(n)d page", "%(n)d pages", result.pages) % {"n": result.pages},
        "received": ngettext("%(n)d post received", "%(n)d posts received", result.received)
        % {"n": result.received},
        "new": result.new,
        "state": _("up to date") if result.caught_up else _("more to fetch next time"),
    }
    if source.platform == Platform.X and result.counts:
        summary += " " + _("(X's hourly counts: %(hours)d hours)") % {"hours": result.counts}
    stdout.write(summary + "\n")
    if result.error:
        stderr.write(result.error + "\n")
        if result.refused:
            stderr.write(
                _("Give a new token with --token-file (or on the campaign's pulse page).") + "\n"
            )
        return 1
    return 0
