"""Sliding-window counters (integrity.limits), on both backends: the database, and
Redis at HAMSEDA_TEST_REDIS_URL (skipped without it unless HAMSEDA_REQUIRE_SERVICES)."""

import os
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from hamseda.integrity import limits
from hamseda.integrity.models import LimitCounter
from tests.test_redis_cache import REDIS_URL, redis_answers

# The start of a 600-second window, so tests know where windows begin.
T0 = datetime.fromtimestamp(600 * 3_000_000, tz=UTC)


@pytest.fixture(params=["database", "redis"])
def backend(request, settings, db):
    if request.param == "redis" and not (REDIS_URL and redis_answers(REDIS_URL)):
        if os.environ.get("HAMSEDA_REQUIRE_SERVICES"):
            pytest.fail("Redis at HAMSEDA_TEST_REDIS_URL is required")
        pytest.skip("no Redis reachable at HAMSEDA_TEST_REDIS_URL")
    settings.HAMSEDA = {
        **settings.HAMSEDA,
        "INTEGRITY_LIMITS_BACKEND": request.param,
        "INTEGRITY_REDIS_URL": REDIS_URL,
    }
    return request.param


def window(limit: int = 10, seconds: int = 600) -> limits.Window:
    # A fresh subject per test: Redis keeps its keys across tests (until they expire).
    return limits.Window("test", secrets.token_hex(8), seconds, limit)


def test_it_counts_up_to_the_limit_and_then_is_over(backend):
    rule = window(limit=10)
    counts = [limits.hit([rule], now=T0 + timedelta(seconds=i))[0] for i in range(12)]
    assert [c.estimate for c in counts] == list(range(1, 13))
    assert [c.over for c in counts] == [False] * 10 + [True, True]
    assert counts[-1].retry_after == 600 - 11 + 1


def test_the_previous_window_counts_by_the_share_still_inside(backend):
    rule = window(limit=10)
    for _ in range(10):
        limits.hit([rule], now=T0)
    # Halfway through the next window half of the previous one is still inside.
    halfway = limits.hit([rule], now=T0 + timedelta(seconds=900))[0]
    assert halfway.estimate == pytest.approx(1 + 10 * 0.5)
    assert not halfway.over
    # Two windows on, the old hits are gone.
    later = limits.hit([rule], now=T0 + timedelta(seconds=1200))[0]
    assert later.estimate == pytest.approx(1 + 1 * 1.0)


def test_a_window_rolls_over_across_many_periods(backend):
    rule = window(limit=100)
    for period in range(5):
        for _ in range(period + 1):
            last = limits.hit([rule], now=T0 + timedelta(seconds=600 * period))[0]
        # At the start of each period the whole previous period still counts.
        assert last.estimate == (period + 1) + period


def test_a_skipped_period_forgets_the_old_counts(backend):
    rule = window(limit=100)
    for _ in range(7):
        limits.hit([rule], now=T0)
    # Two periods on: neither the current nor the previous period saw the old hits.
    assert limits.hit([rule], now=T0 + timedelta(seconds=1200))[0].estimate == 1


def test_an_attempt_from_a_clock_behind_counts_in_the_current_period(backend):
    rule = window(limit=100)
    limits.hit([rule], now=T0 + timedelta(seconds=600))
    # Another server whose clock is a second behind, in the window before: its attempt
    # still counts for the current window, and nothing is reset.
    limits.hit([rule], now=T0 + timedelta(seconds=599))
    assert limits.hit([rule], now=T0 + timedelta(seconds=600))[0].estimate == 3


def test_the_flood_brake_counts_in_process_with_the_database_backend(settings, db):
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_LIMITS_BACKEND": "database"}
    brake = limits.Window("petition_minute", secrets.token_hex(4), 60, 3, local=True)
    counts = [limits.hit([brake], now=T0)[0] for _ in range(4)]
    assert [c.over for c in counts] == [False, False, False, True]
    assert not LimitCounter.objects.exists()
    later = limits.hit([brake], now=T0 + timedelta(seconds=90))[0]
    assert later.estimate == pytest.approx(1 + 4 * 0.5)


def test_several_windows_are_counted_in_one_call(backend):
    short, long = window(limit=2, seconds=600), window(limit=5, seconds=86400)
    for _ in range(3):
        counts = limits.hit([short, long], now=T0)
    assert [c.over for c in counts] == [True, False]


def test_a_claim_succeeds_once(backend):
    name = secrets.token_hex(8)
    assert limits.claim_once(name, 60, now=T0)
    assert not limits.claim_once(name, 60, now=T0)
    assert limits.claim_once(secrets.token_hex(8), 60, now=T0)


def test_database_counters_name_no_subject_and_are_pruned(settings, db):
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_LIMITS_BACKEND": "database"}
    limits.hit([limits.Window("domain_hour", "7:attacker.example", 3600, 30)], now=T0)
    row = LimitCounter.objects.get()
    assert "attacker" not in row.key
    assert len(row.key) == 64
    assert (row.count, row.previous) == (1, 0)
    assert limits.prune(now=T0 + timedelta(seconds=3600)) == 0
    assert limits.prune(now=T0 + timedelta(seconds=7200)) == 1
    assert not LimitCounter.objects.exists()


def test_pruning_is_scheduled():
    from hamseda.runtime import SCHEDULE

    assert ("hamseda.integrity.tasks.prune_limit_counters", 3600) in SCHEDULE


def test_a_refund_takes_back_one_hit_and_never_goes_below_zero(backend):
    rule = window(limit=2)
    for _ in range(3):
        limits.hit([rule], now=T0)
    limits.refund([rule], now=T0)
    assert limits.hit([rule], now=T0)[0].estimate == 3
    fresh = window(limit=2)
    limits.refund([fresh], now=T0)  # Nothing counted yet: nothing to take back.
    assert limits.hit([fresh], now=T0)[0].estimate == 1
