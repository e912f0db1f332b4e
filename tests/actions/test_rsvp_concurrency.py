"""Capacity and reminders under concurrent requests, with real threads on a committed
database (see tests/petitions/test_concurrency.py): the conditional UPDATEs, not the
test's transaction, keep the numbers true, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hamseda.actions import rsvps, services
from hamseda.actions.models import Rsvp, RsvpState
from hamseda.mail.models import OutboundMessage
from hamseda.vault import crypto
from tests.actions.factories import attendee, make_campaign, make_day, make_event
from tests.conftest import make_org
from tests.petitions.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_confirmations_racing_for_three_places_count_three():
    day = make_day(make_campaign(make_org().organization))
    event = make_event(day, capacity=3)
    tokens = []
    for number in range(8):
        rsvps.rsvp(event, attendee(number))
    for number, row in enumerate(Rsvp.objects.order_by("pk")):
        Rsvp.objects.filter(pk=row.pk).update(token_hash=crypto.token_hash(f"t{number}"))
        tokens.append(f"t{number}")
    results = run_together([lambda t=t: rsvps.confirm_rsvp(event, t) for t in tokens])
    assert sorted(results).count(rsvps.ConfirmOutcome.CONFIRMED) == 3
    assert results.count(rsvps.ConfirmOutcome.FULL) == 5
    event.refresh_from_db()
    assert event.attendee_count == 3
    assert Rsvp.objects.filter(state=RsvpState.CONFIRMED).count() == 3


def test_sixteen_rsvps_of_one_address_make_one_row():
    day = make_day(make_campaign(make_org().organization))
    event = make_event(day)
    results = run_together([lambda: rsvps.rsvp(event, attendee(1)) for _ in range(16)])
    assert results.count(rsvps.RsvpOutcome.NEW) == 1
    assert Rsvp.objects.count() == 1


def test_two_reminder_workers_racing_remind_once():
    now = timezone.now()
    day = make_day(make_campaign(make_org().organization), now=now)
    event = make_event(day, starts_in=timedelta(hours=30), now=now)
    rsvps.rsvp(event, attendee(1))
    Rsvp.objects.update(token_hash=crypto.token_hash("t"))
    rsvps.confirm_rsvp(event, "t")
    results = run_together([lambda: services.send_reminders(now=now) for _ in range(4)])
    assert sum(results) == 1
    assert OutboundMessage.objects.filter(kind="event-reminder").count() == 1
