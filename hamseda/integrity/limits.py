"""Sliding-window counters for the integrity limits, in Redis or in the database.

The algorithm (the "sliding window counter" of Cloudflare and others): time is cut
into fixed windows of the rule's length, and each (rule, subject) keeps one counter
per window. The count over the last `seconds` is estimated as

    estimate = current window's count + previous window's count × (share of the
               previous window still inside the sliding window)

1. Work out the current window's number (unix time // seconds) and how far into it
   we are; the previous window still covers (1 - elapsed/seconds) of the sliding one.
2. Increment the current window's counter (atomic: Redis INCR, or a conditional
   `UPDATE … SET count = count + 1` with an INSERT when the row is missing) and read
   the previous window's counter, for every rule at once: one Redis round trip, or one
   short database transaction.
3. The estimate is compared with the limit by the caller (integrity.checks).

Two counters per rule and subject, whatever the traffic: no log of timestamps, no scan.
The estimate assumes the previous window's hits were spread evenly, which is close
enough for limits and never lets through more than twice the limit in any window.

What is counted: every attempt that reaches the limits (after the form, honeypot,
timing and disposable-domain checks), accepted or refused. Counting refused attempts
means that a script hammering the form stays over its limit for as long as it
hammers, and the increment is atomic and returns the new value, so concurrent
requests cannot all slip under a limit together. People sharing that address get
through with the proof of work meanwhile.

Keys are a keyed hash (BLAKE2b under a key derived from the server secret) of the
rule, subject and window: neither Redis nor the database table holds a domain or a
fingerprint in the clear, and they cannot be matched with signatures without the
server secret. Counters expire after two windows.
"""

import hashlib
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone


@dataclass(frozen=True)
class Window:
    """One limit: at most `limit` hits on `subject` per sliding `seconds`.

    `shards` spreads a hot counter (every signature of a viral petition) over several
    database rows, so concurrent signers do not queue for one row lock; the estimate
    sums them.
    """

    rule: str
    subject: str
    seconds: int
    limit: int
    shards: int = 1
    # Counted in this server process instead of the database, when the counters are in
    # the database (with Redis every window is shared): for the petition's flood brake,
    # which every attempt hits. See LocalCounters.
    local: bool = False


@dataclass(frozen=True)
class Count:
    window: Window
    estimate: float
    retry_after: int  # Seconds until the estimate has fallen by the current window's share.

    @property
    def over(self) -> bool:
        return self.estimate > self.window.limit


def counter_key(*parts: object) -> str:
    """A 64-hex key for one counter; see the module docstring for why it is keyed."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return hashlib.blake2b(text, key=_key(), digest_size=32).hexdigest()


@cache
def _key() -> bytes:
    from hamseda.vault.crypto import _derive

    return _derive("integrity-limits")


class Backend(Protocol):
    def increment(
        self, keys: Sequence[tuple[str, int]], read: Sequence[str], now: datetime
    ) -> tuple[list[int], dict[str, int]]:
        """Add 1 to each (key, ttl seconds) and return the new values, and read the
        counters named in `read` (0 when missing); as one round trip where possible."""
        ...


class DatabaseBackend:
    """Counters in integrity.LimitCounter, one short transaction per call: the
    increments are one multi-row upsert (`INSERT … ON CONFLICT (key) DO UPDATE SET
    count = count + 1 RETURNING key, count`, SQLite 3.35+ and PostgreSQL): atomic, rows
    created on a miss, the new values returned; then one SELECT on the unique index for
    the reads. Two statements per sign attempt, whatever the number of rules."""

    UPSERT = (
        "INSERT INTO integrity_limitcounter (key, count, expires_at) VALUES {rows} "
        "ON CONFLICT (key) DO UPDATE SET count = integrity_limitcounter.count + 1 "
        "RETURNING key, count"
    )

    def increment(self, keys, read, now):
        from hamseda.integrity.models import LimitCounter

        ops = connection.ops
        # One key once per statement: PostgreSQL refuses to update a row twice in one.
        ttls = dict(keys)
        params: list = []
        for key, ttl in ttls.items():
            params += [key, ops.adapt_datetimefield_value(now + timedelta(seconds=ttl))]
        sql = self.UPSERT.format(rows=", ".join(["(%s, 1, %s)"] * len(ttls)))
        with transaction.atomic(), connection.cursor() as cursor:
            # Only when this is the whole transaction (not inside the signature's):
            # a counter lost in a crash costs nothing, but waiting for this commit's WAL
            # flush cost as much as the signature's own (docs/integrity.md, "Cost").
            if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            # All increments in one statement, all reads in one more.
            cursor.execute(sql, params)
            counted = {key: int(count) for key, count in cursor.fetchall()}
            found: dict[str, int] = {}
            if read:
                # Plain SQL: the ORM's query building cost more than the query itself.
                cursor.execute(
                    f"SELECT key, count FROM {LimitCounter._meta.db_table} "  # noqa: S608 - placeholders only
                    f"WHERE key IN ({', '.join(['%s'] * len(read))})",
                    list(read),
                )
                found = {key: int(count) for key, count in cursor.fetchall()}
        return [counted[key] for key, _ in keys], {key: found.get(key, 0) for key in read}


class RedisBackend:
    """Counters in Redis: INCR and EXPIRE per key and GET of the previous windows, in
    one pipeline (one round trip)."""

    def __init__(self, url: str):
        self.url = url

    def increment(self, keys, read, now):
        pipe = _redis(self.url).pipeline(transaction=False)
        for key, ttl in keys:
            pipe.incr(f"hamseda:limit:{key}")
            pipe.expire(f"hamseda:limit:{key}", ttl)
        for key in read:
            pipe.get(f"hamseda:limit:{key}")
        results = pipe.execute()
        values = [int(results[2 * i]) for i in range(len(keys))]
        tail = results[2 * len(keys) :]
        return values, {key: int(value or 0) for key, value in zip(read, tail, strict=True)}


@cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=5)


def backend() -> Backend:
    """Redis when configured (HAMSEDA_REDIS_URL), the database otherwise."""
    config = settings.HAMSEDA
    if config.get("INTEGRITY_LIMITS_BACKEND") == "redis" and config.get("INTEGRITY_REDIS_URL"):
        return RedisBackend(config["INTEGRITY_REDIS_URL"])
    return DatabaseBackend()


class LocalCounters:
    """Counters in this server process, for windows marked `local` when the others are
    in the database: the petition's flood brake. Every sign attempt of a petition hits
    it, so in the database it would be the hottest rows of all (eight shards written and
    fifteen read per attempt, measured as a good part of the checks' cost). In memory
    it costs nothing; the price is that each server process counts only the attempts it
    serves, so with N processes the brake lets through up to N times its limit — still
    a brake for a botnet, never a stop for real signers (docs/integrity.md)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}

    def clear(self) -> None:
        with self._lock:
            self._counts = {}

    def increment(self, keys, read, now):
        stamp = now.timestamp()
        with self._lock:
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > stamp}
            values = []
            for key, ttl in keys:
                count, expires = self._counts.get(key, (0, 0.0))
                count = count + 1 if expires > stamp else 1
                self._counts[key] = (count, stamp + ttl)
                values.append(count)
            found = {}
            for key in read:
                count, expires = self._counts.get(key, (0, 0.0))
                found[key] = count if expires > stamp else 0
        return values, found


_local = LocalCounters()


def hit(windows: Sequence[Window], *, now: datetime | None = None) -> list[Count]:
    """Count one attempt against every window and return the sliding estimates, in the
    order of `windows`."""
    now = now or timezone.now()
    shared = backend()
    if not isinstance(shared, DatabaseBackend):
        return _hit_with(shared, windows, now)
    in_process = [w for w in windows if w.local]
    in_database = [w for w in windows if not w.local]
    counted: dict[Window, Count] = {}
    if in_database:
        counted.update(zip(in_database, _hit_with(shared, in_database, now), strict=True))
    if in_process:
        single = [replace(w, shards=1) for w in in_process]
        results = _hit_with(_local, single, now)
        counted.update((w, replace(c, window=w)) for w, c in zip(in_process, results, strict=True))
    return [counted[w] for w in windows]


def _hit_with(counter: Backend, windows: Sequence[Window], now: datetime) -> list[Count]:
    stamp = now.timestamp()
    increments, reads, plan = [], [], []
    for window in windows:
        number, elapsed = divmod(stamp, window.seconds)
        number = int(number)
        shard = random.randrange(window.shards)  # noqa: S311 - spreading load, not secrecy.
        current = [
            counter_key(window.rule, window.subject, number, s) for s in range(window.shards)
        ]
        previous = [
            counter_key(window.rule, window.subject, number - 1, s) for s in range(window.shards)
        ]
        increments.append((current[shard], 2 * window.seconds))
        others = [key for s, key in enumerate(current) if s != shard]
        reads += others + previous
        plan.append((window, len(increments) - 1, others, previous, elapsed))
    values, found = counter.increment(increments, reads, now)
    counts = []
    for window, index, others, previous, elapsed in plan:
        current_total = values[index] + sum(found[key] for key in others)
        previous_total = sum(found[key] for key in previous)
        share = 1 - elapsed / window.seconds
        counts.append(
            Count(
                window=window,
                estimate=current_total + previous_total * share,
                retry_after=max(1, int(window.seconds - elapsed) + 1),
            )
        )
    return counts


def claim_once(name: str, seconds: int, *, now: datetime | None = None) -> bool:
    """True the first time `name` is claimed within `seconds`, False after: for spent
    proof-of-work challenges. The same atomic increment as the counters: exactly one
    of two racing claims sees 1."""
    now = now or timezone.now()
    values, _ = backend().increment([(counter_key("claim", name), seconds)], [], now)
    return values[0] == 1


def prune(*, now: datetime | None = None) -> int:
    """Delete expired database counters (the scheduled task; Redis expires its own)."""
    from hamseda.integrity.models import LimitCounter

    now = now or timezone.now()
    deleted, _ = LimitCounter.objects.filter(expires_at__lte=now).delete()
    return deleted
