"""Storing PostRecords: one post per campaign, platform and platform id, fast.

Every batch is one `INSERT … ON CONFLICT (campaign_id, platform, platform_id) DO UPDATE
… WHERE <something changed>`, in one transaction: the same statement on SQLite (≥ 3.24;
run with executemany, which is SQLite's fastest way in) and PostgreSQL (where the batch
is first COPied into a temporary table and upserted from it in one statement:
executemany's round trip and plan per row made it several times slower).

How a post that is already stored is merged with a new copy of it (the same post
from a second file, from an import and a fetch, or fetched again later):

1. A copy of a NEWER version — its `edited_at` later than the stored one's — replaces
   text, language, hashtags, link and handle (each only if the copy has one) and
   `edited_at`.
2. Any other copy (the same version, or an OLDER one arriving late, e.g. an old file
   imported after a fetch) only fills fields that are still empty: it never
   overwrites what is stored, so import order does not matter.
3. Metrics only grow: each of likes, reposts, replies and quotes keeps the higher of
   the two values (the later count is almost always the higher; a count that fell
   because people took back a like is not worth an older copy winning). Engagement
   is their sum.
4. A deleted post (deleted_at set) is never changed by a copy: it stays deleted and
   empty even if an old file brings it back.
5. `hidden` (a moderator's choice) is never touched.
6. Creation time and kind are the first copy's.

A deletion notice (`PostRecord.deleted`) sets deleted_at and wipes everything but the
id, time and kind — author, text, language, hashtags, link, metrics: the author took
it back, and a deleted post stops counting. A notice for a post not stored yet leaves
a tombstone, so that the post stays deleted if a copy arrives later; a live stream of
every deletion on a platform (Jetstream) passes `keep_unknown_deletions=False` so it
only marks posts already stored.

Counting is exact: "updated" counts only posts whose row changed. On SQLite the batch
holds the database's only write lock (IMMEDIATE transactions), so the rows with an id
above the largest id before the batch are exactly the new ones; on PostgreSQL, where
other writers may run at the same time, the statement returns `xmax = 0` per row it
wrote, true for a row it inserted and false for one it updated.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from hamseda.pulse.records import PostRecord

if TYPE_CHECKING:
    # Only for annotations: the importer's parsing process imports this module before
    # Django's apps are loaded.
    from hamseda.campaigns.models import Campaign

DEFAULT_BATCH_SIZE = 5000
_PLATFORMS = frozenset({"x", "bluesky", "mastodon"})
_KINDS = frozenset({"original", "reply", "quote", "repost"})
# Stored hashtags are a space-separated list that the aggregates split (HashtagDay):
# a tag holds no space, quote, backslash or control character and at most 100
# characters. Normalised hashtags never do (pulse.hashtags); this guards against a
# parser that let one through.
_UNSAFE_TAG = re.compile(r'["\\\x00-\x1f]|[^ ]{101}')

_COLUMNS = (
    "campaign_id",
    "platform",
    "platform_id",
    "author_id",
    "author_handle",
    "text",
    "language",
    "kind",
    "hashtags",
    "url",
    "created_at",
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "engagement",
    "edited_at",
    "deleted_at",
    "hidden",
    "updated_at",
)
# The SQL below is put together from constant column names only; every value is a
# query parameter.
_INSERT = (
    f"INSERT INTO pulse_post ({', '.join(_COLUMNS)}) "  # noqa: S608 - constant names
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
    "ON CONFLICT (campaign_id, platform, platform_id) DO UPDATE SET "
)
_NEWER = (
    "(excluded.edited_at IS NOT NULL AND (pulse_post.edited_at IS NULL"
    " OR excluded.edited_at > pulse_post.edited_at))"
)


def _content(column: str) -> str:
    # Rules 1 and 2 above.
    return (
        f"{column} = CASE WHEN excluded.{column} <> '' AND ({_NEWER}"
        f" OR pulse_post.{column} = '') THEN excluded.{column} ELSE pulse_post.{column} END"
    )


def _higher(column: str) -> str:
    return (
        f"CASE WHEN excluded.{column} > pulse_post.{column}"
        f" THEN excluded.{column} ELSE pulse_post.{column} END"
    )


# A handle that is only the author's id (Jetstream gives DIDs) is no handle: a copy
# with a real one replaces it, and a copy without one never replaces a real one.
_REAL_HANDLE = "(excluded.author_handle <> '' AND excluded.author_handle <> excluded.author_id)"
_NO_HANDLE = "(pulse_post.author_handle = '' OR pulse_post.author_handle = pulse_post.author_id)"
_METRICS = ("like_count", "repost_count", "reply_count", "quote_count")
UPSERT = (
    _INSERT
    + ", ".join(
        [
            f"author_handle = CASE WHEN {_REAL_HANDLE} AND ({_NEWER} OR {_NO_HANDLE})"
            " THEN excluded.author_handle ELSE pulse_post.author_handle END",
            "author_id = CASE WHEN pulse_post.author_id = '' THEN excluded.author_id"
            " ELSE pulse_post.author_id END",
            _content("text"),
            _content("language"),
            _content("hashtags"),
            _content("url"),
            f"edited_at = CASE WHEN {_NEWER} THEN excluded.edited_at ELSE pulse_post.edited_at END",
            *(f"{column} = {_higher(column)}" for column in _METRICS),
            "engagement = " + " + ".join(_higher(column) for column in _METRICS),
            "updated_at = excluded.updated_at",
        ]
    )
    + " WHERE pulse_post.deleted_at IS NULL AND ("
    + " OR ".join(
        [
            _NEWER,
            f"({_REAL_HANDLE} AND excluded.author_handle <> pulse_post.author_handle"
            f" AND ({_NEWER} OR {_NO_HANDLE}))",
            "(pulse_post.author_id = '' AND excluded.author_id <> '')",
            *(
                f"(pulse_post.{column} = '' AND excluded.{column} <> '')"
                for column in ("text", "language", "hashtags", "url")
            ),
            *(f"excluded.{column} > pulse_post.{column}" for column in _METRICS),
        ]
    )
    + ")"
)


def _wipe(deleted_at: str, updated_at: str) -> str:
    return (
        f"deleted_at = {deleted_at}, author_id = '', author_handle = '', text = '',"
        " language = '', hashtags = '', url = '', like_count = 0, repost_count = 0,"
        " reply_count = 0, quote_count = 0, engagement = 0, edited_at = NULL,"
        f" updated_at = {updated_at}"
    )


DELETE_UPSERT = (
    _INSERT
    + _wipe("excluded.deleted_at", "excluded.updated_at")
    + " WHERE pulse_post.deleted_at IS NULL"
)
DELETE_KNOWN = (
    "UPDATE pulse_post SET "  # noqa: S608 - constant names, values are parameters
    + _wipe("%s", "%s")
    + " WHERE campaign_id = %s AND platform = %s AND platform_id = %s AND deleted_at IS NULL"
)


@dataclass
class IngestResult:
    """What storing records did. `first_hour`/`last_hour`: the UTC hours (inclusive)
    of the records' creation times, for the aggregates to rebuild."""

    read: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    first_hour: datetime | None = None
    last_hour: datetime | None = None
    # Deletion notices for posts never stored, when they are not kept as tombstones.
    ignored: int = field(default=0)

    def add(self, other: "IngestResult") -> None:
        self.read += other.read
        self.new += other.new
        self.updated += other.updated
        self.deleted += other.deleted
        self.ignored += other.ignored
        self.cover(other.first_hour, other.last_hour)

    def cover(self, first: datetime | None, last: datetime | None) -> None:
        if first is not None and (self.first_hour is None or first < self.first_hour):
            self.first_hour = first
        if last is not None and (self.last_hour is None or last > self.last_hour):
            self.last_hour = last

    @property
    def unchanged(self) -> int:
        return self.read - self.new - self.updated - self.deleted - self.ignored


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def time_adapter(vendor: str | None = None):
    """How to pass an aware datetime to the database: as Django stores it there.

    `vendor` ("sqlite", "postgresql") defaults to the default connection's; the
    importer's parsing process passes it, as it has no database connection.
    """
    if (vendor or connection.vendor) == "sqlite":
        # Django keeps SQLite times as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]";
        # comparisons in SQL are text comparisons, so the form must be the same.
        def adapt(moment: datetime | None) -> str | None:
            if moment is None:
                return None
            if moment.tzinfo is not UTC:
                if moment.tzinfo is None:
                    raise ValueError("a naive datetime in a PostRecord")
                moment = moment.astimezone(UTC)
            return moment.replace(tzinfo=None).isoformat(" ")

        return adapt

    def check(moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("a naive datetime in a PostRecord")
        return moment

    return check


def _row(record: PostRecord, campaign_id: int, adapt, stamp: object) -> tuple:
    if record.platform not in _PLATFORMS:
        raise ValueError(f"unknown platform {record.platform!r}")
    platform_id = record.platform_id
    if not platform_id or len(platform_id) > 300:
        raise ValueError(f"bad platform id {platform_id[:40]!r}")
    if not record.author_id:
        # Only a deleted post has no author id (the totals count deleted posts by it).
        raise ValueError(f"post {platform_id[:40]!r} without its author's id")
    tags = record.hashtags
    if len(tags) > 1:
        tags = list(dict.fromkeys(tags))  # each once: HashtagDay counts posts per tag
    hashtags = " ".join(tags)
    if hashtags and _UNSAFE_TAG.search(hashtags):
        hashtags = " ".join(
            tag for tag in tags if tag and " " not in tag and not _UNSAFE_TAG.search(tag)
        )
    likes, reposts, replies, quotes = (
        record.like_count,
        record.repost_count,
        record.reply_count,
        record.quote_count,
    )
    url = record.url
    return (
        campaign_id,
        record.platform,
        platform_id,
        record.author_id[:200],
        record.author_handle[:200],
        record.text,
        record.language[:16],
        record.kind if record.kind in _KINDS else "original",
        hashtags,
        url if len(url) <= 500 else "",
        adapt(record.created_at),
        likes,
        reposts,
        replies,
        quotes,
        likes + reposts + replies + quotes,
        adapt(record.edited_at),
        None,
        False,
        stamp,
    )


def _tombstone(record: PostRecord, campaign_id: int, adapt, stamp: object) -> tuple:
    if record.platform not in _PLATFORMS or not record.platform_id:
        raise ValueError(f"bad deletion notice {record.platform!r} {record.platform_id!r}")
    return (
        campaign_id,
        record.platform,
        record.platform_id[:300],
        "",
        "",
        "",
        "",
        record.kind if record.kind in _KINDS else "original",
        "",
        "",
        adapt(record.created_at),
        0,
        0,
        0,
        0,
        0,
        None,
        stamp,
        False,
        stamp,
    )


_CREATED_AT = itemgetter(_COLUMNS.index("created_at"))


_KIND_SLOT = {"original": 1, "reply": 2, "quote": 3, "repost": 4}
# Past this many (platform, hour, author) entries a tally stops keeping authors (the
# memory of a very large import), and the aggregates count them in SQL instead.
MAX_TALLIED_AUTHORS = 3_000_000


@dataclass
class Tally:
    """What a set of new posts adds to the aggregates, counted while preparing them,
    so that an import of new posts need not recount them in SQL (aggregates.apply_tally
    says when it may be used).

    hours: (platform, hour) → [posts, originals, replies, quotes, reposts, engagement,
    set of author ids]; languages and hashtags: (day, value) → posts; deleted_hours:
    the hours of deletion notices (those always count in SQL). Hours and days are
    numbered from 1970-01-01 00:00 UTC (hour // 24 is the day): cheaper to compute per
    post than datetimes, and apply_tally turns them back.
    """

    hours: dict = field(default_factory=dict)
    languages: dict = field(default_factory=dict)
    hashtags: dict = field(default_factory=dict)
    deleted_hours: set = field(default_factory=set)
    authors: int = 0
    complete: bool = True

    def add(self, row: tuple, created: datetime) -> None:
        hour = int(created.timestamp() // 3600)
        key = (row[1], hour)
        bucket = self.hours.get(key)
        if bucket is None:
            bucket = self.hours[key] = [0, 0, 0, 0, 0, 0, set()]
        bucket[0] += 1
        bucket[_KIND_SLOT[row[7]]] += 1
        bucket[5] += row[15]
        if self.complete:
            bucket[6].add(row[3])
        day = hour // 24
        key = (day, row[6])
        self.languages[key] = self.languages.get(key, 0) + 1
        if row[8]:
            for tag in row[8].split(" "):
                key = (day, tag)
                self.hashtags[key] = self.hashtags.get(key, 0) + 1

    def merge(self, other: "Tally") -> None:
        self.complete = self.complete and other.complete
        for key, counts in other.hours.items():
            bucket = self.hours.get(key)
            if bucket is None:
                self.hours[key] = counts
                self.authors += len(counts[6])
                continue
            for slot in range(6):
                bucket[slot] += counts[slot]
            if self.complete:
                before = len(bucket[6])
                bucket[6].update(counts[6])
                self.authors += len(bucket[6]) - before
        for key, posts in other.languages.items():
            self.languages[key] = self.languages.get(key, 0) + posts
        for key, posts in other.hashtags.items():
            self.hashtags[key] = self.hashtags.get(key, 0) + posts
        self.deleted_hours |= other.deleted_hours
        if self.authors > MAX_TALLIED_AUTHORS:
            self.complete = False
        if not self.complete:
            for bucket in self.hours.values():
                bucket[6] = set()

    def touched_hours(self) -> set[int]:
        return {hour for _, hour in self.hours} | self.deleted_hours


@dataclass
class Prepared:
    """A batch of records as the database's rows: what `store_prepared` writes. Made
    apart from storing so that the importer can prepare in another process."""

    rows: list[tuple]
    tombstones: list[tuple]
    read: int
    first_hour: datetime | None
    last_hour: datetime | None
    tally: Tally | None = None


def prepare_rows(
    records: list[PostRecord],
    campaign_id: int,
    *,
    now: datetime,
    vendor: str | None = None,
    tally: bool = False,
) -> Prepared:
    """The rows of a batch; with `tally`, also what they add to the aggregates."""
    adapt = time_adapter(vendor)
    stamp = adapt(now)
    rows: list[tuple] = []
    tombstones: list[tuple] = []
    if not records:
        return Prepared(rows, tombstones, 0, None, None, Tally() if tally else None)
    counted = Tally() if tally else None
    first = last = records[0].created_at
    for record in records:
        created = record.created_at
        if created < first:
            first = created
        elif created > last:
            last = created
        if record.deleted:
            tombstones.append(_tombstone(record, campaign_id, adapt, stamp))
            if counted is not None:
                counted.deleted_hours.add(int(created.timestamp() // 3600))
        else:
            row = _row(record, campaign_id, adapt, stamp)
            rows.append(row)
            if counted is not None:
                counted.add(row, created)
    # In time order, the new rows go next to each other in the time index and (as
    # platform ids grow with time) in the unique one: fewer pages touched per batch. The
    # sort is stable, so copies of one post (one creation time) keep their order.
    rows.sort(key=_CREATED_AT)
    return Prepared(rows, tombstones, len(records), hour_of(first), hour_of(last), counted)


def store_prepared(prepared: Prepared, *, keep_unknown_deletions: bool = True) -> IngestResult:
    """Write one prepared batch, atomically. The caller usually holds a transaction
    (an import commits its progress with the batch); if not, this one is the batch's:
    the count of new rows (SQLite) and the temporary table (PostgreSQL) need one."""
    result = IngestResult(
        read=prepared.read, first_hour=prepared.first_hour, last_hour=prepared.last_hour
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if prepared.rows:
            result.new, result.updated = _upsert(cursor, prepared.rows)
        if prepared.tombstones:
            if keep_unknown_deletions:
                cursor.executemany(DELETE_UPSERT, prepared.tombstones)
                result.deleted = cursor.rowcount
            else:
                # (deleted_at, updated_at, campaign, platform, platform id)
                cursor.executemany(
                    DELETE_KNOWN, [(row[17], row[19], *row[:3]) for row in prepared.tombstones]
                )
                result.deleted = cursor.rowcount
                result.ignored = len(prepared.tombstones) - result.deleted
    return result


def store_batch(
    campaign_id: int,
    records: list[PostRecord],
    *,
    now: datetime,
    keep_unknown_deletions: bool = True,
) -> IngestResult:
    """Store one batch of records; the caller holds the transaction."""
    return store_prepared(
        prepare_rows(records, campaign_id, now=now),
        keep_unknown_deletions=keep_unknown_deletions,
    )


_VALUES = "VALUES (" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
# PostgreSQL: a batch is copied (COPY, the fastest way in) into a temporary table,
# then upserted from there in one statement. (Constant SQL: column names only.)
_INCOMING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS pulse_incoming ON COMMIT DELETE ROWS AS"  # noqa: S608 - constant SQL
    f" SELECT {', '.join(_COLUMNS)} FROM pulse_post WITH NO DATA"
)
_COPY = f"COPY pulse_incoming ({', '.join(_COLUMNS)}) FROM STDIN"
_UPSERT_INCOMING = (
    UPSERT.replace(_VALUES, f"SELECT {', '.join(_COLUMNS)} FROM pulse_incoming", 1)  # noqa: S608
    + " RETURNING (xmax = 0)"
)


def _upsert(cursor, rows: list[tuple]) -> tuple[int, int]:
    """(new, updated) after storing `rows`."""
    if connection.vendor == "postgresql":
        return _upsert_postgresql(cursor.cursor, rows)
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM pulse_post")
    (largest,) = cursor.fetchone()
    cursor.executemany(UPSERT, rows)
    changed = cursor.rowcount
    cursor.execute("SELECT COUNT(*) FROM pulse_post WHERE id > %s", [largest])
    (new,) = cursor.fetchone()
    return new, changed - new


def _upsert_postgresql(raw, rows: list[tuple]) -> tuple[int, int]:
    """COPY the rows into a temporary table, then one INSERT … SELECT … ON CONFLICT
    (executemany, a round trip and a plan per row, was several times slower). One
    statement may not touch a row twice, so a post that comes again within the batch
    goes to a second round: the copies are applied in order, as executemany would."""
    new = updated = 0
    raw.execute(_INCOMING)
    pending = rows
    while pending:
        keys: set[tuple] = set()
        this_round: list[tuple] = []
        later: list[tuple] = []
        for row in pending:
            key = (row[1], row[2])
            if key in keys or later:
                # Keep the order: after a repeated post, the rest waits too.
                later.append(row)
            else:
                keys.add(key)
                this_round.append(row)
        raw.execute("DELETE FROM pulse_incoming")
        with raw.copy(_COPY) as copy:
            for row in this_round:
                copy.write_row(row)
        raw.execute(_UPSERT_INCOMING)
        for (inserted,) in raw.fetchall():
            if inserted:
                new += 1
            else:
                updated += 1
        pending = later
    return new, updated


def _batches(records: Iterable[PostRecord], size: int) -> Iterator[list[PostRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def ingest_records(
    campaign: "Campaign",
    records: Iterable[PostRecord],
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    keep_unknown_deletions: bool = True,
    rebuild: bool = True,
) -> IngestResult:
    """Store records for a campaign, each batch in its own transaction, then rebuild
    the aggregates of the hours they touched (unless `rebuild=False`: the importer
    rebuilds once at the end of a file)."""
    now = now or timezone.now()
    total = IngestResult()
    for batch in _batches(records, batch_size):
        with transaction.atomic():
            total.add(
                store_batch(
                    campaign.pk, batch, now=now, keep_unknown_deletions=keep_unknown_deletions
                )
            )
    if rebuild and total.first_hour is not None and total.last_hour is not None:
        from hamseda.pulse import aggregates

        aggregates.rebuild(campaign, total.first_hour, total.last_hour, now=now)
    return total
