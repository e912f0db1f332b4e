"""Sliding-window counters for the integrity limits, in Redis or in the database.

The algorithm (the "sliding window counter" of Cloudflare and others): time is cut
into fixed windows of the rule's length, and each (rule, subject) keeps the count of
the current window and of the previous one. The count over the last `seconds` is
estimated as

    estimate = current window's count + previous window's count × (share of the
               previous window still inside the sliding window)

1. Work out the current window's number (unix time // seconds, the "period") and how
   far into it we are; the previous window still covers (1 - elapsed/seconds) of the
   sliding one.
2. Count the attempt and read both counts, for every rule at once, in one round trip:
   one upsert in the database (the row holds the period, its count and the previous
   period's count, and rolls them over when a new period starts), or one Redis
   pipeline (INCR of this period's key, GET of the previous period's).
3. The estimate is compared with the limit by the caller (integrity.checks).

One counter row (or two Redis keys) per rule and subject, whatever the traffic: no log
of timestamps, no scan. The estimate assumes the previous window's hits were spread
evenly, which is close enough for limits and never lets through more than twice the
limit in any window.

What is counted: every attempt that reaches the limits (after the form, honeypot,
timing and disposable-domain checks), accepted or refused. Counting refused attempts
means that a script hammering the form stays over its limit for as long as it
hammers, and the increment is atomic and returns the new value, so concurrent
requests cannot all slip under a limit together. People sharing that address get
through with the proof of work meanwhile.

Keys are a keyed hash (BLAKE2b under a key derived from the server secret) of the
rule and subject: neither Redis nor the database table holds a domain or a fingerprint
in the clear, and they cannot be matched with signatures without the server secret.
Counters expire two windows after their last hit.
"""

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from django.conf import settings
from django.db import connection
from django.utils import timezone


@dataclass(frozen=True)
class Window:
    """One limit: at most `limit` hits on `subject` per sliding `seconds`."""

    rule: str
    subject: str
    seconds: int
    limit: int
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
    from hamseda.vault.crypto import derive_key

    return derive_key("integrity-limits")


# One counter to hit: its key, the current period's number, and how long to keep it.
Hit = tuple[str, int, int]


class Backend(Protocol):
    def hit(self, hits: Sequence[Hit], now: datetime) -> list[tuple[int, int]]:
        """Add 1 to each key's count in its period and return, in order, the new count
        and the count of the period before; as one round trip where possible."""
        ...

    def refund(self, hits: Sequence[Hit]) -> None:
        """Take back one hit from each key's count in its period (never below 0)."""
        ...


class DatabaseBackend:
    """Counters in integrity.LimitCounter: one multi-row upsert per call, which creates
    missing rows, rolls a row over to a new period, counts, and returns both counts
    (`INSERT … ON CONFLICT (key) DO UPDATE … RETURNING`, SQLite 3.35+ and PostgreSQL).

    In the update every right-hand side sees the row as it was, so for a row whose
    period is the one before the attempt's, `previous` takes the old `count` and
    `count` starts again at 1. A period older than the row's (a server clock behind
    another's) counts in the row's own period rather than resetting it.

    Outside a transaction it is one statement in autocommit: one round trip, and on
    PostgreSQL no wait for a WAL flush since the table is UNLOGGED (migration 0006).
    """

    UPSERT = (
        "INSERT INTO integrity_limitcounter (key, period, count, previous, expires_at) "
        "VALUES {rows} ON CONFLICT (key) DO UPDATE SET "
        "count = CASE WHEN integrity_limitcounter.period >= excluded.period "
        "THEN integrity_limitcounter.count + 1 ELSE 1 END, "
        "previous = CASE WHEN integrity_limitcounter.period >= excluded.period "
        "THEN integrity_limitcounter.previous "
        "WHEN integrity_limitcounter.period = excluded.period - 1 "
        "THEN integrity_limitcounter.count ELSE 0 END, "
        "period = CASE WHEN integrity_limitcounter.period > excluded.period "
        "THEN integrity_limitcounter.period ELSE excluded.period END, "
        "expires_at = excluded.expires_at "
        "RETURNING key, count, previous"
    )

    def hit(self, hits, now):
        ops = connection.ops
        params: list = []
        for key, period, ttl in hits:
            expires = ops.adapt_datetimefield_value(now + timedelta(seconds=ttl))
            params += [key, period, expires]
        sql = self.UPSERT.format(rows=", ".join(["(%s, %s, 1, 0, %s)"] * len(hits)))
        counted = {key: (int(count), int(previous)) for key, count, previous in _run(sql, params)}
        return [counted[key] for key, _period, _ttl in hits]

    def refund(self, hits):
        for key, period, _ttl in hits:
            _run(
                "UPDATE integrity_limitcounter SET count = count - 1 "
                "WHERE key = %s AND period = %s AND count > 0 RETURNING count",
                [key, period],
            )


def _run(sql: str, params: list) -> list[tuple]:
    """Run one statement of ours on Django's connection and return its rows.

    Plain SQL: the ORM cannot say the upsert, and its query building cost more than the
    query. On PostgreSQL through a cursor with server-side parameters and `prepare`:
    Django's own cursors bind parameters on the client, so PostgreSQL would parse and
    plan the upsert for every sign attempt (measured at about a third of its cost);
    prepared, each server connection plans each shape (one to four rows) once. A
    transaction-pooling PgBouncer older than 1.21 does not support prepared statements:
    docs/integrity.md, "Backends". SQLite caches its compiled statements by itself.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            import psycopg

            with psycopg.Cursor(connection.connection) as cursor:
                cursor.execute(sql, params, prepare=True)
                return cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class RedisBackend:
    """Counters in Redis: for each counter INCR and EXPIRE of this period's key and GET
    of the previous period's, all in one Lua script (one command, one round trip; a
    pipeline of three commands per counter cost several times more in the client)."""

    HIT = (
        "local out = {} "
        "for i = 1, #ARGV do "
        "local count = redis.call('INCR', KEYS[2 * i - 1]) "
        "redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[i]) "
        "out[2 * i - 1] = count "
        "out[2 * i] = tonumber(redis.call('GET', KEYS[2 * i]) or '0') "
        "end "
        "return out"
    )

    def __init__(self, url: str):
        self.url = url

    def hit(self, hits, now):
        keys: list[str] = []
        for key, period, _ttl in hits:
            keys += [f"hamseda:limit:{key}:{period}", f"hamseda:limit:{key}:{period - 1}"]
        values = _script(self.url, self.HIT)(keys=keys, args=[ttl for _k, _p, ttl in hits])
        return [(int(values[2 * i]), int(values[2 * i + 1])) for i in range(len(hits))]

    # Decrement only a positive count that exists: a plain DECR of an expired key would
    # leave -1 behind.
    REFUND = (
        "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
        "if n > 0 then return redis.call('DECR', KEYS[1]) end return 0"
    )

    def refund(self, hits):
        client = _redis(self.url)
        for key, period, _ttl in hits:
            client.eval(self.REFUND, 1, f"hamseda:limit:{key}:{period}")


@cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=5)


@cache
def _script(url: str, source: str):
    """A registered Lua script: sent by its SHA1 (EVALSHA), loaded again if Redis has
    forgotten it."""
    return _redis(url).register_script(source)


def backend() -> Backend:
    """Redis when configured (HAMSEDA_REDIS_URL), the database otherwise."""
    config = settings.HAMSEDA
    if config.get("INTEGRITY_LIMITS_BACKEND") == "redis" and config.get("INTEGRITY_REDIS_URL"):
        return RedisBackend(config["INTEGRITY_REDIS_URL"])
    return DatabaseBackend()


class LocalCounters:
    """Counters in this server process, for windows marked `local` when the others are
    in the database: the petition's flood brake. Every sign attempt of a petition hits
    it, so in the database it would be the hottest row of all, every signer of a viral
    petition queueing for its lock. In memory it costs nothing; the price is that each
    server process counts only the attempts it serves, so with N processes the brake
    lets through up to N times its limit — still a brake for a botnet, never a stop for
    real signers (docs/integrity.md)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> (period, count, previous, expires at)
        self._rows: dict[str, tuple[int, int, int, float]] = {}

    def clear(self) -> None:
        with self._lock:
            self._rows = {}

    def hit(self, hits, now):
        stamp = now.timestamp()
        results = []
        with self._lock:
            if len(self._rows) > 10_000:
                self._rows = {k: row for k, row in self._rows.items() if row[3] > stamp}
            for key, period, ttl in hits:
                row_period, count, previous, expires = self._rows.get(key, (period, 0, 0, 0.0))
                if expires <= stamp:
                    row_period, count, previous = period, 0, 0
                if row_period < period:
                    previous = count if row_period == period - 1 else 0
                    row_period, count = period, 0
                count += 1
                self._rows[key] = (row_period, count, previous, stamp + ttl)
                results.append((count, previous))
        return results

    def refund(self, hits):
        with self._lock:
            for key, period, _ttl in hits:
                row = self._rows.get(key)
                if row and row[0] == period and row[1] > 0:
                    self._rows[key] = (row[0], row[1] - 1, row[2], row[3])


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
        counted.update(zip(in_process, _hit_with(_local, in_process, now), strict=True))
    return [counted[w] for w in windows]


def refund(windows: Sequence[Window], *, now: datetime | None = None) -> None:
    """Take back one hit counted at `now` on every window (an attempt that turned out
    not to do what the limit is about, e.g. a repeated click that sent no mail)."""
    now = now or timezone.now()
    counter = backend()
    hits = [_hit_for(window, now.timestamp())[0] for window in windows]
    if isinstance(counter, DatabaseBackend):
        local = [hit for hit, window in zip(hits, windows, strict=True) if window.local]
        shared = [hit for hit, window in zip(hits, windows, strict=True) if not window.local]
        if local:
            _local.refund(local)
        if shared:
            counter.refund(shared)
    else:
        counter.refund(hits)


def _hit_for(window: Window, stamp: float) -> tuple[Hit, float]:
    """The counter a window hits at `stamp`, and the seconds elapsed in its period."""
    period, elapsed = divmod(stamp, window.seconds)
    return (counter_key(window.rule, window.subject), int(period), 2 * window.seconds), elapsed


def _hit_with(counter: Backend, windows: Sequence[Window], now: datetime) -> list[Count]:
    stamp = now.timestamp()
    hits, elapsed_in = [], []
    for window in windows:
        hit, elapsed = _hit_for(window, stamp)
        hits.append(hit)
        elapsed_in.append(elapsed)
    counts = []
    for window, (current, previous), elapsed in zip(
        windows, counter.hit(hits, now), elapsed_in, strict=True
    ):
        share = 1 - elapsed / window.seconds
        counts.append(
            Count(
                window=window,
                estimate=current + previous * share,
                retry_after=max(1, int(window.seconds - elapsed) + 1),
            )
        )
    return counts


def claim_once(name: str, seconds: int, *, now: datetime | None = None) -> bool:
    """True the first time `name` is claimed within `seconds`, False after: for spent
    proof-of-work challenges. The same atomic increment as the counters: exactly one
    of two racing claims sees 1."""
    now = now or timezone.now()
    # One fixed period (0) for the whole life of the claim: the counter only ever grows.
    [(count, _previous)] = backend().hit([(counter_key("claim", name), 0, seconds)], now)
    return count == 1


def prune(*, now: datetime | None = None) -> int:
    """Delete expired database counters (the scheduled task; Redis expires its own)."""
    from hamseda.integrity.models import LimitCounter

    now = now or timezone.now()
    deleted, _ = LimitCounter.objects.filter(expires_at__lte=now).delete()
    return deleted
