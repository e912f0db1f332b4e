"""Signing and confirming under concurrent requests: one row per e-mail, exact counters.

These tests use real threads, each with its own database connection, against a
committed database (`transaction=True`), so the constraints and conditional updates
are what keeps the numbers true, not the test's transaction. They must pass on SQLite
(WAL, IMMEDIATE transactions, busy timeout: never "database is locked") and on
PostgreSQL.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from hamseda.mail.models import OutboundMessage
from hamseda.petitions import counting, services
from hamseda.petitions.models import CountryCount, DailyCount, Signature, SignatureState
from tests.conftest import confirmation_link, make_org, make_petition, run_tasks, signer

pytestmark = pytest.mark.django_db(transaction=True)

COUNTRIES = ["AF", "SE", "GB", "US", "DE", "PK", "IR", "CA"]


def run_together(functions, timeout: float = 120) -> list:
    """Run each function in its own thread, all released at once by a barrier.

    Returns what each returned, in order; re-raises the first exception any of them
    raised, so no failure in a thread goes unnoticed. Each thread closes its own
    database connection at its end.
    """
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list = []

    def body(index, function):
        try:
            barrier.wait(timeout=timeout)
            results[index] = function()
        except BaseException as error:  # noqa: BLE001 - reported to the test below.
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=body, args=(index, function), name=f"signer-{index}")
        for index, function in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def counters(petition) -> dict:
    petition.refresh_from_db()
    return {
        "total": petition.signature_count,
        "countries": dict(
            CountryCount.objects.filter(petition=petition).values_list("country", "count")
        ),
        "days": dict(DailyCount.objects.filter(petition=petition).values_list("day", "count")),
    }


def test_sixteen_concurrent_signatures_of_one_address_make_one_row(now):
    petition = make_petition(make_org().organization)
    spellings = [
        "maryam@example.org",
        "Maryam@Example.org",
        "  MARYAM@EXAMPLE.ORG  ",
        "maryam@EXAMPLE.org ",
    ]
    outcomes = run_together(
        [
            lambda n=n: services.sign_petition(
                petition, signer(1, email=spellings[n % len(spellings)]), now=now
            )
            for n in range(16)
        ]
    )

    assert Counter(outcomes) == {
        services.SignatureOutcome.NEW: 1,
        services.SignatureOutcome.DUPLICATE: 15,
    }
    assert Signature.objects.filter(petition=petition).count() == 1
    # One confirmation mail; the duplicates, inside the resend interval, mail nothing.
    assert OutboundMessage.objects.count() == 1


def test_concurrent_confirmations_count_every_signature_exactly_once(now, outbox):
    petition = make_petition(make_org().organization)
    threads, per_thread = 8, 25

    def sign_batch(batch):
        for n in range(per_thread):
            number = batch * per_thread + n
            services.sign_petition(
                petition,
                signer(number, country=COUNTRIES[number % len(COUNTRIES)]),
                now=now,
            )

    run_together([lambda b=b: sign_batch(b) for b in range(threads)])
    total = threads * per_thread
    assert Signature.objects.filter(petition=petition).count() == total

    run_tasks()
    tokens = [confirmation_link(message).rsplit("/", 1)[1] for message in outbox]
    assert len(set(tokens)) == total
    # Every fourth token is confirmed twice, by two threads racing each other.
    work = tokens + tokens[::4]
    chunks = [work[i::threads] for i in range(threads)]

    def confirm_batch(chunk):
        return [services.confirm_signature(petition, token, now=now) for token in chunk]

    outcomes = Counter(
        outcome
        for chunk in run_together([lambda c=c: confirm_batch(c) for c in chunks])
        for outcome in chunk
    )
    duplicates = len(tokens[::4])
    assert outcomes == {
        services.ConfirmOutcome.CONFIRMED: total,
        services.ConfirmOutcome.ALREADY: duplicates,
    }

    validated = Signature.objects.filter(petition=petition, state=SignatureState.VALIDATED)
    assert validated.count() == total
    expected_countries = Counter(validated.values_list("country", flat=True))
    numbers = counters(petition)
    assert numbers == {
        "total": total,
        "countries": dict(expected_countries),
        "days": {now.date(): total},
    }
    counting.recount(petition)
    assert counters(petition) == numbers


def test_confirmations_spread_over_two_days_count_per_day(now, outbox):
    """The per-day counters follow the confirmation time, also when confirmations of
    one petition on different days race each other."""
    petition = make_petition(make_org().organization)
    for number in range(20):
        services.sign_petition(petition, signer(number), now=now)
    run_tasks()
    tokens = [confirmation_link(message).rsplit("/", 1)[1] for message in outbox]
    tomorrow = now + timedelta(days=1)

    run_together(
        [
            lambda t=token, n=index: services.confirm_signature(
                petition, t, now=now if n % 2 else tomorrow
            )
            for index, token in enumerate(tokens)
        ]
    )

    numbers = counters(petition)
    assert numbers["total"] == 20
    assert numbers["days"] == {now.date(): 10, tomorrow.date(): 10}
    counting.recount(petition)
    assert counters(petition) == numbers
