"""RSVPs: sealed to the host's key, one per address, capacity, confirm, withdraw,
erasure, expiry, and no plain address anywhere in the database."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from hamseda.actions import notices, rsvps, services
from hamseda.actions.models import Event, Rsvp, RsvpState
from hamseda.mail.models import OutboundMessage
from hamseda.vault import crypto, erasure
from tests.actions.factories import add_partner, attendee, make_campaign, make_day, make_event
from tests.actions.test_services import queued, rsvp_and_confirm
from tests.conftest import make_org, run_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(org):
    return make_campaign(org.organization)


@pytest.fixture
def day(campaign):
    return make_day(campaign)


@pytest.fixture
def event(day):
    return make_event(day)


def test_an_rsvp_is_sealed_to_the_host_and_waits_for_confirmation(org, event):
    assert rsvps.rsvp(event, attendee(1, first_name="مریم")) == rsvps.RsvpOutcome.NEW
    row = Rsvp.objects.get()
    assert row.state == RsvpState.PENDING
    record = org.unseal(row.sealed)
    assert record["first_name"] == "مریم"
    assert record["email"] == "attendee1@example.org"
    assert record["language"] == "en"
    assert row.email_fingerprint == crypto.email_fingerprint("attendee1@example.org")
    assert crypto.unlock(row.contact_locked) == {"email": "attendee1@example.org"}
    event.refresh_from_db()
    assert event.attendee_count == 0
    (mail,) = queued("confirm-rsvp")
    assert "/e/london-protest/confirm/" in mail["context"]["url"]
    assert "/e/london-protest/withdraw/" in mail["context"]["withdraw_url"]


def test_a_partner_hosted_rsvp_opens_with_the_partners_key_only(org, campaign, day):
    partner = make_org("partner-org")
    add_partner(campaign, partner.organization)
    hosted = make_event(
        day,
        "stockholm",
        host=partner.organization,
        city="Stockholm",
        country="SE",
        time_zone="Europe/Stockholm",
    )
    rsvps.rsvp(hosted, attendee(1))
    row = Rsvp.objects.get()
    assert partner.unseal(row.sealed)["email"] == "attendee1@example.org"
    assert row.key_id == crypto.key_id(partner.organization.public_key)
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure to open will do.
        org.unseal(row.sealed)


def test_it_refuses_when_the_host_has_no_key(campaign, day):
    partner = make_org("keyless").organization
    partner.public_key = ""
    partner.save()
    add_partner(campaign, partner)
    hosted = make_event(day, "keyless-event", host=partner)
    with pytest.raises(rsvps.RsvpRefused, match="cannot take RSVPs"):
        rsvps.rsvp(hosted, attendee(1))
    assert not Rsvp.objects.exists()


def test_no_notices_means_no_locked_address(event):
    rsvps.rsvp(event, attendee(1, wants_notices=False))
    assert bytes(Rsvp.objects.get().contact_locked) == b""


def test_a_double_rsvp_makes_one_row_and_a_kind_mail(event):
    now = timezone.now()
    assert rsvps.rsvp(event, attendee(1), now=now) == rsvps.RsvpOutcome.NEW
    assert rsvps.rsvp(event, attendee(1), now=now) == rsvps.RsvpOutcome.DUPLICATE
    assert Rsvp.objects.count() == 1
    assert len(queued("duplicate-rsvp")) == 0  # Within the resend interval: no mail.
    later = now + rsvps.RESEND_INTERVAL + timedelta(seconds=1)
    assert rsvps.rsvp(event, attendee(1), now=later) == rsvps.RsvpOutcome.DUPLICATE
    (again,) = queued("duplicate-rsvp")
    assert again["template"] == "actions/mail/confirm_again.txt"
    assert Rsvp.objects.count() == 1


def test_a_double_rsvp_after_confirming_says_you_are_coming(event):
    rsvp_and_confirm(event, 1)
    later = timezone.now() + timedelta(hours=1)
    assert rsvps.rsvp(event, attendee(1), now=later) == rsvps.RsvpOutcome.DUPLICATE
    (again,) = queued("duplicate-rsvp")
    assert again["template"] == "actions/mail/already.txt"
    event.refresh_from_db()
    assert event.attendee_count == 1


def test_a_full_event_refuses_rsvps_and_confirmations(day):
    small = make_event(day, "small", capacity=1)
    tokens = []
    for number in (1, 2):
        rsvps.rsvp(small, attendee(number))
    # Both pending; read their tokens by replacing them with known ones.
    for number, row in enumerate(Rsvp.objects.order_by("pk"), start=1):
        token = f"known-{number}"
        Rsvp.objects.filter(pk=row.pk).update(token_hash=crypto.token_hash(token))
        tokens.append(token)
    assert rsvps.confirm_rsvp(small, tokens[0]) == rsvps.ConfirmOutcome.CONFIRMED
    small.refresh_from_db()
    assert rsvps.confirm_rsvp(small, tokens[1]) == rsvps.ConfirmOutcome.FULL
    assert Rsvp.objects.filter(state=RsvpState.CONFIRMED).count() == 1
    small.refresh_from_db()
    assert small.attendee_count == 1
    with pytest.raises(rsvps.RsvpRefused, match="This event is full"):
        rsvps.rsvp(small, attendee(3))


def test_it_refuses_cancelled_past_and_draft_events(day):
    cancelled = make_event(day, "cancelled")
    services.cancel_event(cancelled)
    cancelled.refresh_from_db()
    with pytest.raises(rsvps.RsvpRefused, match="cancelled"):
        rsvps.rsvp(cancelled, attendee(1))
    event = make_event(day, "soon")
    with pytest.raises(rsvps.RsvpRefused, match="started"):
        rsvps.rsvp(event, attendee(1), now=event.starts_at + timedelta(minutes=1))
    draft = make_event(day, "draft", publish=False)
    with pytest.raises(rsvps.RsvpRefused) as refused:
        rsvps.rsvp(draft, attendee(1))
    assert refused.value.status == 404


def test_confirming_counts_once(event):
    row = rsvp_and_confirm(event, 1)
    token = f"tok-1-{event.pk}"
    assert rsvps.confirm_rsvp(event, token) == rsvps.ConfirmOutcome.ALREADY
    assert rsvps.confirm_rsvp(event, "nonsense") == rsvps.ConfirmOutcome.INVALID
    assert rsvps.confirm_rsvp(event, "x" * 500) == rsvps.ConfirmOutcome.INVALID
    event.refresh_from_db()
    assert event.attendee_count == 1
    assert Rsvp.objects.get(pk=row.pk).confirmed_at is not None


def test_an_expired_link_does_not_confirm(event):
    rsvps.rsvp(event, attendee(1))
    Rsvp.objects.update(token_hash=crypto.token_hash("t"))
    later = timezone.now() + timedelta(days=30)
    Event.objects.filter(pk=event.pk).update(
        starts_at=later + timedelta(days=1), ends_at=later + timedelta(days=2)
    )
    event.refresh_from_db()
    assert rsvps.confirm_rsvp(event, "t", now=later) == rsvps.ConfirmOutcome.EXPIRED


def test_withdrawing_deletes_the_row_and_uncounts_once(event):
    row = rsvp_and_confirm(event, 1)
    token = notices.withdraw_token(event.pk, row.pk)
    assert rsvps.check_withdrawal(event, token) == rsvps.WithdrawOutcome.READY
    assert rsvps.withdraw_rsvp(event, token) == rsvps.WithdrawOutcome.WITHDRAWN
    assert rsvps.withdraw_rsvp(event, token) == rsvps.WithdrawOutcome.GONE
    event.refresh_from_db()
    assert event.attendee_count == 0
    assert not Rsvp.objects.exists()
    assert rsvps.withdraw_rsvp(event, token + "x") == rsvps.WithdrawOutcome.INVALID
    assert rsvps.withdraw_rsvp(event, "") == rsvps.WithdrawOutcome.INVALID


def test_a_withdraw_link_of_another_event_is_invalid(day, event):
    other = make_event(day, "other")
    row = rsvp_and_confirm(event, 1)
    token = notices.withdraw_token(event.pk, row.pk)
    assert rsvps.withdraw_rsvp(other, token) == rsvps.WithdrawOutcome.INVALID


def test_erasure_removes_rsvps_on_every_event(day, event, outbox):
    other = make_event(day, "other")
    rsvp_and_confirm(event, 1)
    rsvps.rsvp(other, attendee(1))
    rsvp_and_confirm(event, 2)
    fingerprint = crypto.email_fingerprint("attendee1@example.org")
    eraser = next(e for e in erasure.erasers() if e.name == "actions.rsvps")
    assert eraser.count(fingerprint) == 2
    assert eraser.describe(2) == "2 RSVPs to events"
    assert eraser.erase(fingerprint, now=timezone.now()) == 2
    assert Rsvp.objects.count() == 1
    event.refresh_from_db()
    assert event.attendee_count == 1


def test_unconfirmed_rsvps_expire(event):
    rsvps.rsvp(event, attendee(1))
    rsvp_and_confirm(event, 2)
    assert rsvps.purge_unconfirmed() == 0
    days = settings.HAMSEDA["CONFIRMATION_DAYS"]
    later = timezone.now() + timedelta(days=days, hours=1)
    Event.objects.filter(pk=event.pk).update(
        starts_at=later + timedelta(days=1), ends_at=later + timedelta(days=2)
    )
    assert rsvps.purge_unconfirmed(now=later) == 1
    assert Rsvp.objects.get().state == RsvpState.CONFIRMED


def test_no_plain_address_or_name_is_left_in_the_database(day, outbox):
    event = make_event(day, "tomorrow", starts_in=timedelta(hours=30))
    rsvp_and_confirm(event, 1, first_name="Zarmina", last_name="Uniquesurname")
    assert services.send_reminders() == 1
    run_tasks()
    assert len(outbox) == 2  # The confirmation and the reminder.
    needles = [b"attendee1@example.org", b"Zarmina", b"Uniquesurname"]
    for model in (Rsvp, Event, OutboundMessage):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table name.
            rows = cursor.fetchall()
        for row in rows:
            for value in row:
                raw = bytes(value) if isinstance(value, memoryview | bytes) else str(value).encode()
                for needle in needles:
                    assert needle not in raw, (table, needle)
