"""Integrity trends: per-minute counts of signatures per petition, and the bursts they show.

Nothing here runs on the sign path. A scheduled job (`aggregate_trends_task`, every
minute, hamseda/runtime.py SCHEDULE) reads only the signatures made since its stored
watermark and adds them into TrendBucket rows; the moderators' integrity page then reads
a bounded number of bucket rows, never the petition's signatures, however viral it goes.
The rules that flag bursts are data (the *_RULE constants below), documented with their
defaults in docs/integrity.md, "Integrity trends".
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from hamseda.integrity.models import TrendBucket, TrendKind, TrendResolution, TrendWatermark
from hamseda.petitions.models import Petition, PetitionState, Signature, SignatureState

MINUTE = TrendResolution.MINUTE
HOUR = TrendResolution.HOUR

# --- retention and batching -----------------------------------------------------------

# Per-minute rows are kept this long, then rolled up into hourly rows (without network
# fingerprints: they rotate daily, so an hourly history of them tells nothing).
MINUTE_BUCKET_HOURS = 48
# Hourly rows are kept this long, then deleted.
HOUR_BUCKET_DAYS = 90
# A sign transaction takes its `created_at` a moment before its row gets a primary key
# and commits. The aggregation leaves signatures younger than this alone, so that it does
# not move its watermark past a row that is still on its way (see _read_new_signatures).
SETTLE_SECONDS = 60
# Signatures read per transaction; a run loops until it has caught up.
BATCH_SIZE = 5_000
WATERMARK_NAME = "trends"


def fingerprint_retention_days() -> int:
    """Days a network fingerprint may be kept (PRIVACY.md rule 4; default 30)."""
    return cast(int, settings.HAMSEDA.get("NETWORK_FINGERPRINT_DAYS", 30))


# --- the rules that flag bursts (data, with defaults; docs/integrity.md, "Integrity trends") ---


@dataclass(frozen=True)
class ShareRule:
    """Flag a source (an e-mail domain or a network fingerprint) whose share of the
    petition's signatures in the last hour is far above its usual share (the 23 hours
    before that).

    A source is flagged when, in the last hour, it made at least `min_count` signatures
    and at least `min_share` of all, and
    - with a usual day to compare (at least `baseline_min_total` signatures in the 23
      hours before): its share is at least `ratio` times its usual share, where a usual
      share below `baseline_floor` counts as `baseline_floor` (a source never seen
      before is not infinitely unusual);
    - without one (a new or quiet petition): its share is at least `no_history_share`.
    """

    min_count: int
    min_share: float
    ratio: float
    baseline_floor: float
    baseline_min_total: int
    no_history_share: float


# Big providers carry a large, steady share of any petition; a domain becomes suspect
# when it takes a tenth of the hour's signatures at three times its usual rate.
DOMAIN_RULE = ShareRule(
    min_count=20,
    min_share=0.10,
    ratio=3.0,
    baseline_floor=0.01,
    baseline_min_total=100,
    no_history_share=0.6,
)
# One network (a household, an office, a Tor exit, a mobile carrier's shared address)
# normally makes a handful of signatures; ten in an hour at five times its usual share
# deserves a look, not an automatic verdict.
NETWORK_RULE = ShareRule(
    min_count=10,
    min_share=0.05,
    ratio=5.0,
    baseline_floor=0.01,
    baseline_min_total=100,
    no_history_share=0.2,
)


@dataclass(frozen=True)
class SpikeRule:
    """Flag a spike: signatures per minute over the last `window_minutes` at least `ratio`
    times the average per minute of the hour before, and at least `min_per_minute`."""

    window_minutes: int = 5
    ratio: float = 5.0
    min_per_minute: float = 10.0


SPIKE_RULE = SpikeRule()


@dataclass(frozen=True)
class PendingRule:
    """Flag an unusual pending ratio: over the last day, confirmations fell below
    `min_confirm_rate` of the signatures made (fake addresses never confirm), once at
    least `min_signed` signatures were made. Real signers confirm most of the time."""

    min_signed: int = 50
    min_confirm_rate: float = 0.3


PENDING_RULE = PendingRule()


# --- aggregation ----------------------------------------------------------------------


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


BucketKey = tuple[int, str, datetime, str, str]  # petition, resolution, start, kind, key


def _add_to_buckets(counts: dict[BucketKey, int]) -> None:
    """Add `counts` into the bucket rows, creating the missing ones.

    Only ever called under the watermark's row lock (aggregate_trends), which is what
    makes the read-then-write safe: no other writer touches buckets meanwhile.
    """
    if not counts:
        return
    petitions = {k[0] for k in counts}
    starts = {k[2] for k in counts}
    existing = {
        (b.petition_id, b.resolution, b.start, b.kind, b.key): b
        for b in TrendBucket.objects.filter(petition_id__in=petitions, start__in=starts)
    }
    changed, new = [], []
    for key, n in counts.items():
        bucket = existing.get(key)
        if bucket is None:
            petition_id, resolution, start, kind, value = key
            new.append(
                TrendBucket(
                    petition_id=petition_id,
                    resolution=resolution,
                    start=start,
                    kind=kind,
                    key=value,
                    count=n,
                )
            )
        else:
            bucket.count += n
            changed.append(bucket)
    TrendBucket.objects.bulk_update(changed, ["count"], batch_size=500)
    TrendBucket.objects.bulk_create(new, batch_size=500)


def _locked_watermark(now: datetime) -> TrendWatermark:
    TrendWatermark.objects.get_or_create(
        name=WATERMARK_NAME,
        # Confirmations are counted from the first run on; older ones predate the trends.
        defaults={"confirmed_until": now - timedelta(hours=MINUTE_BUCKET_HOURS)},
    )
    # The row lock serialises concurrent runs (two workers, or the scheduler firing
    # twice): the second waits, then sees the first one's watermark. On SQLite the
    # IMMEDIATE transaction mode (settings) takes the write lock at BEGIN instead.
    return TrendWatermark.objects.select_for_update().get(name=WATERMARK_NAME)


def _read_new_signatures(after_id: int, settled: datetime) -> tuple[list[tuple], int]:
    """The next batch of signatures after `after_id`, in primary-key order, stopping at
    the first one made after `settled`, and the new watermark.

    Stopping there (rather than skipping it) keeps the watermark a prefix: a signature
    with a smaller key but a later `created_at` still in its transaction is never passed.
    """
    rows = list(
        Signature.objects.filter(pk__gt=after_id)
        .order_by("pk")
        .values_list(
            "pk", "petition_id", "created_at", "email_domain", "network_fingerprint", "country"
        )[:BATCH_SIZE]
    )
    taken = []
    for row in rows:
        if row[2] > settled:
            break
        taken.append(row)
    return taken, (taken[-1][0] if taken else after_id)


def _signature_counts(rows: Iterable[tuple]) -> dict[BucketKey, int]:
    counts: Counter[BucketKey] = Counter()
    for _pk, petition_id, created_at, domain, network, country in rows:
        start = _minute(created_at)
        counts[(petition_id, MINUTE, start, TrendKind.SIGNED, "")] += 1
        if domain:
            counts[(petition_id, MINUTE, start, TrendKind.DOMAIN, domain)] += 1
        if network:
            counts[(petition_id, MINUTE, start, TrendKind.NETWORK, network)] += 1
        if country:
            counts[(petition_id, MINUTE, start, TrendKind.COUNTRY, country)] += 1
    return counts


def _confirmation_counts(since: datetime, until: datetime) -> dict[BucketKey, int]:
    """Confirmations in (since, until], per petition and minute.

    Asked per petition that can still be confirmed, so each query is a range of the
    (petition, state, validated_at) index, never a scan of the signature table.
    """
    counts: Counter[BucketKey] = Counter()
    # A petition closed longer ago than a confirmation link lives has none left to come.
    link_days = cast(int, settings.HAMSEDA["CONFIRMATION_DAYS"])
    petitions = Petition.objects.filter(
        state__in=[PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]
    ).exclude(closed_at__lt=since - timedelta(days=link_days + 1))
    for petition_id in petitions.values_list("pk", flat=True):
        moments = Signature.objects.filter(
            petition_id=petition_id,
            state=SignatureState.VALIDATED,
            validated_at__gt=since,
            validated_at__lte=until,
        ).values_list("validated_at", flat=True)
        for moment in moments:
            assert moment is not None  # noqa: S101 - filtered on validated_at above.
            counts[(petition_id, MINUTE, _minute(moment), TrendKind.CONFIRMED, "")] += 1
    return counts


@dataclass
class AggregationResult:
    signatures: int = 0
    confirmations: int = 0
    rolled_up: int = 0
    pruned: int = 0


def aggregate_trends(*, now: datetime | None = None) -> AggregationResult:
    """Add the signatures and confirmations since the watermark into the buckets.

    1. Lock the watermark row (one run at a time).
    2. Read signatures by primary key after the watermark, up to BATCH_SIZE, only those
       older than SETTLE_SECONDS; add them into per-minute buckets (total, domain,
       network fingerprint, country); move the watermark to the last one read.
    3. Repeat 1–2 until caught up.
    4. Add confirmations with validated_at between the confirmation watermark and
       now - SETTLE_SECONDS, and move that watermark.
    5. Roll up and prune old buckets (prune_buckets).

    Running it twice, or in two workers at once, counts every signature exactly once:
    the watermark moves in the same transaction that adds the counts.
    """
    now = now or timezone.now()
    settled = now - timedelta(seconds=SETTLE_SECONDS)
    result = AggregationResult()
    while True:
        with transaction.atomic():
            mark = _locked_watermark(now)
            rows, last_id = _read_new_signatures(mark.last_signature_id, settled)
            _add_to_buckets(_signature_counts(rows))
            mark.last_signature_id = last_id
            mark.updated_at = now
            mark.save(update_fields=["last_signature_id", "updated_at"])
        result.signatures += len(rows)
        if len(rows) < BATCH_SIZE:
            break
    with transaction.atomic():
        mark = _locked_watermark(now)
        since = mark.confirmed_until or settled
        if settled > since:
            counts = _confirmation_counts(since, settled)
            _add_to_buckets(counts)
            result.confirmations = sum(counts.values())
            mark.confirmed_until = settled
            mark.save(update_fields=["confirmed_until"])
        result.rolled_up, result.pruned = prune_buckets(now=now)
    return result


def prune_buckets(*, now: datetime | None = None) -> tuple[int, int]:
    """Roll per-minute rows older than MINUTE_BUCKET_HOURS into hourly rows (network
    fingerprints dropped), delete hourly rows older than HOUR_BUCKET_DAYS and any network
    row older than the fingerprint retention. Returns (rolled up, deleted).

    Called by aggregate_trends() under the watermark lock, as _add_to_buckets requires.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=MINUTE_BUCKET_HOURS)
    old = list(
        TrendBucket.objects.filter(resolution=MINUTE, start__lt=cutoff).values_list(
            "pk", "petition_id", "start", "kind", "key", "count"
        )[: BATCH_SIZE * 4]
    )
    hourly: Counter[BucketKey] = Counter()
    for _pk, petition_id, start, kind, key, count in old:
        if kind != TrendKind.NETWORK:
            hourly[(petition_id, HOUR, _hour(start), kind, key)] += count
    _add_to_buckets(hourly)
    TrendBucket.objects.filter(pk__in=[row[0] for row in old]).delete()
    deleted, _ = TrendBucket.objects.filter(
        resolution=HOUR, start__lt=now - timedelta(days=HOUR_BUCKET_DAYS)
    ).delete()
    network_cutoff = now - timedelta(days=fingerprint_retention_days())
    gone, _ = TrendBucket.objects.filter(
        resolution=MINUTE, start__lt=network_cutoff, kind=TrendKind.NETWORK
    ).delete()
    return len(old), deleted + gone


def blank_old_network_fingerprints(*, now: datetime | None = None) -> int:
    """Blank Signature.network_fingerprint on signatures older than the fingerprint
    retention (PRIVACY.md rule 4). Per petition, so each update is a range of the
    (petition, created_at) index rather than a scan of the whole table."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=fingerprint_retention_days())
    blanked = 0
    for petition_id in Petition.objects.values_list("pk", flat=True):
        blanked += (
            Signature.objects.filter(petition_id=petition_id, created_at__lt=cutoff)
            .exclude(network_fingerprint="")
            .update(network_fingerprint="")
        )
    return blanked


# --- what the integrity page shows ----------------------------------------------------


@dataclass
class Source:
    """One e-mail domain, network fingerprint or country in a window."""

    key: str
    count: int
    share: float  # of all signatures in the window, 0..1
    usual_share: float | None = None  # in the 23 hours before the last hour
    flagged: bool = False

    @property
    def percent(self) -> float:
        return self.share * 100

    @property
    def usual_percent(self) -> float | None:
        return None if self.usual_share is None else self.usual_share * 100


@dataclass
class Flag:
    kind: str  # "domain", "network", "spike", "pending"
    key: str
    detail: dict = field(default_factory=dict)


@dataclass
class IntegrityReport:
    now: datetime
    per_minute: list[tuple[datetime, int]]  # the last hour, oldest first, 60 entries
    signed_hour: int
    signed_day: int
    confirmed_hour: int
    confirmed_day: int
    confirmed_total: int
    pending_total: int
    invalidated_total: int
    domains_hour: list[Source]
    domains_day: list[Source]
    networks_hour: list[Source]
    networks_day: list[Source]
    countries_day: list[Source]
    delays: dict
    flags: list[Flag]

    @property
    def pending_share(self) -> float:
        total = self.pending_total + self.confirmed_total
        return self.pending_total / total if total else 0.0

    def as_json(self) -> dict:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        data["per_minute"] = [(start.isoformat(), n) for start, n in self.per_minute]
        data["pending_share"] = round(self.pending_share, 4)
        return data


# How many sources of each kind the page lists.
TOP = 10
# Confirmation delays are read for at most this many recent confirmations.
DELAY_SAMPLE = 1_000
# Upper bounds (seconds) of the delay distribution's classes; the last is open-ended.
DELAY_CLASSES = [10, 60, 5 * 60, 30 * 60, 2 * 3600, 24 * 3600]


def _buckets(petition: Petition, since: datetime, until: datetime):
    return TrendBucket.objects.filter(
        petition=petition, resolution=MINUTE, start__gte=since, start__lt=until
    )


def _totals(petition: Petition, since: datetime, until: datetime) -> dict[str, int]:
    """{"signed": n, "confirmed": n} over per-minute buckets in [since, until)."""
    rows = (
        _buckets(petition, since, until)
        .filter(kind__in=[TrendKind.SIGNED, TrendKind.CONFIRMED])
        .values_list("kind")
        .annotate(n=Sum("count"))
    )
    return {kind: n for kind, n in rows}


def _by_key(
    petition: Petition,
    kind: str,
    since: datetime,
    until: datetime,
    *,
    keys: set[str] | None = None,
    at_least: int = 0,
    limit: int | None = None,
) -> dict[str, int]:
    """{key: count} of one kind in [since, until), largest first.

    The database sums and cuts (top `limit`, or `at_least` counts), so a flood from
    thousands of fingerprints never brings thousands of rows to Python.
    """
    rows = (
        _buckets(petition, since, until)
        .filter(kind=kind)
        .values_list("key")
        .annotate(n=Sum("count"))
        .order_by("-n", "key")
    )
    if keys is not None:
        rows = rows.filter(key__in=keys)
    if at_least:
        rows = rows.filter(n__gte=at_least)
    return dict(rows[:limit] if limit else rows)


def _sources(counts: dict[str, int], total: int, limit: int = TOP) -> list[Source]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [Source(key, n, n / total if total else 0.0) for key, n in ranked]


def share_flags(
    hour: dict[str, int],
    hour_total: int,
    before: dict[str, int],
    before_total: int,
    rule: ShareRule,
) -> dict[str, float | None]:
    """The sources flagged by `rule`: {key: usual share, or None without a usual day}."""
    flagged: dict[str, float | None] = {}
    has_history = before_total >= rule.baseline_min_total
    for key, n in hour.items():
        share = n / hour_total if hour_total else 0.0
        if n < rule.min_count or share < rule.min_share:
            continue
        if has_history:
            usual = before.get(key, 0) / before_total
            if share >= rule.ratio * max(usual, rule.baseline_floor):
                flagged[key] = usual
        elif share >= rule.no_history_share:
            flagged[key] = None
    return flagged


def _delays(petition: Petition) -> dict:
    """Median and distribution of created → confirmed, over the latest DELAY_SAMPLE
    confirmations (a bounded, backwards range of the (petition, state, validated_at)
    index). Very fast confirmations suggest a script reading the mailbox."""
    pairs = (
        Signature.objects.filter(
            petition=petition, state=SignatureState.VALIDATED, validated_at__isnull=False
        )
        .order_by("-validated_at")
        .values_list("created_at", "validated_at")[:DELAY_SAMPLE]
    )
    seconds = [max(0.0, (done - made).total_seconds()) for made, done in pairs if done]
    classes = [0] * (len(DELAY_CLASSES) + 1)
    for s in seconds:
        classes[next((i for i, bound in enumerate(DELAY_CLASSES) if s < bound), -1)] += 1
    return {
        "sample": len(seconds),
        "median_seconds": statistics.median(seconds) if seconds else None,
        "classes": [
            {"under_seconds": bound, "count": n}
            for bound, n in zip([*DELAY_CLASSES, None], classes, strict=True)
        ],
    }


def integrity_report(petition: Petition, *, now: datetime | None = None) -> IntegrityReport:
    """The integrity page's numbers for `petition`, from buckets and bounded queries.

    The current minute is still filling (and the last SETTLE_SECONDS not yet
    aggregated), so "the last hour" is the 60 whole minutes before the current one.
    """
    now = now or timezone.now()
    end = _minute(now)
    hour_start = end - timedelta(hours=1)
    day_start = end - timedelta(days=1)
    hour_totals = _totals(petition, hour_start, end)
    before_totals = _totals(petition, day_start, hour_start)

    per_minute_rows = dict(
        _buckets(petition, hour_start, end)
        .filter(kind=TrendKind.SIGNED)
        .values_list("start", "count")
    )
    per_minute = [
        (
            hour_start + timedelta(minutes=i),
            per_minute_rows.get(hour_start + timedelta(minutes=i), 0),
        )
        for i in range(60)
    ]
    signed_hour = hour_totals.get(TrendKind.SIGNED, 0)
    signed_before = before_totals.get(TrendKind.SIGNED, 0)
    signed_day = signed_hour + signed_before
    confirmed_hour = hour_totals.get(TrendKind.CONFIRMED, 0)
    confirmed_day = confirmed_hour + before_totals.get(TrendKind.CONFIRMED, 0)

    flags: list[Flag] = []
    sources = {}
    for kind, rule, name in (
        (TrendKind.DOMAIN, DOMAIN_RULE, "domain"),
        (TrendKind.NETWORK, NETWORK_RULE, "network"),
    ):
        top = _by_key(petition, kind, hour_start, end, limit=TOP)
        # Only sources with at least min_count can be flagged: at most
        # signed_hour / min_count of them.
        candidates = _by_key(petition, kind, hour_start, end, at_least=rule.min_count)
        in_hour = {**top, **candidates}
        in_before = _by_key(petition, kind, day_start, hour_start, keys=set(in_hour))
        flagged = share_flags(candidates, signed_hour, in_before, signed_before, rule)
        top_hour = _sources(top, signed_hour)
        # A flagged source is listed even when it is not among the top ones.
        top_hour += [
            Source(key, in_hour[key], in_hour[key] / signed_hour)
            for key in sorted(flagged)
            if key not in top
        ]
        for source in top_hour:
            source.usual_share = (
                in_before.get(source.key, 0) / signed_before if signed_before else None
            )
            source.flagged = source.key in flagged
        for key in sorted(flagged, key=lambda k: (-in_hour[k], k)):
            usual = flagged[key]
            flags.append(
                Flag(
                    name,
                    key,
                    {
                        "count": in_hour[key],
                        "share": round(in_hour[key] / signed_hour, 4),
                        "usual_share": None if usual is None else round(usual, 4),
                    },
                )
            )
        day = _by_key(petition, kind, day_start, end, limit=TOP)
        sources[name] = (top_hour, _sources(day, signed_day))

    recent = per_minute[-SPIKE_RULE.window_minutes :]
    recent_rate = sum(n for _start, n in recent) / SPIKE_RULE.window_minutes
    earlier = _totals(petition, hour_start - timedelta(hours=1), hour_start)
    baseline_rate = earlier.get(TrendKind.SIGNED, 0) / 60
    if recent_rate >= SPIKE_RULE.min_per_minute and recent_rate >= SPIKE_RULE.ratio * max(
        baseline_rate, 1 / 60
    ):
        flags.append(
            Flag(
                "spike",
                "",
                {"per_minute": round(recent_rate, 1), "usual_per_minute": round(baseline_rate, 1)},
            )
        )
    if (
        signed_day >= PENDING_RULE.min_signed
        and confirmed_day / signed_day < PENDING_RULE.min_confirm_rate
    ):
        flags.append(Flag("pending", "", {"signed": signed_day, "confirmed": confirmed_day}))

    return IntegrityReport(
        now=now,
        per_minute=per_minute,
        signed_hour=signed_hour,
        signed_day=signed_day,
        confirmed_hour=confirmed_hour,
        confirmed_day=confirmed_day,
        confirmed_total=petition.signature_count,
        # A range of the (petition, state, …) index, bounded by the pending signatures
        # that exist: they expire after CONFIRMATION_DAYS.
        pending_total=Signature.objects.filter(
            petition=petition, state=SignatureState.PENDING
        ).count(),
        invalidated_total=petition.invalidated_count,
        domains_hour=sources["domain"][0],
        domains_day=sources["domain"][1],
        networks_hour=sources["network"][0],
        networks_day=sources["network"][1],
        countries_day=_sources(
            _by_key(petition, TrendKind.COUNTRY, day_start, end, limit=50), signed_day, limit=50
        ),
        delays=_delays(petition),
        flags=flags,
    )
