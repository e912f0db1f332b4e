"""Days of action and events: validation, publishing, change and cancellation notices,
reminders exactly once, and addresses wiped after the event."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from hamseda.actions import notices, rsvps, services
from hamseda.actions.models import Event, PublicationState, Rsvp, RsvpState
from hamseda.mail.models import OutboundMessage
from hamseda.vault import crypto
from tests.actions.factories import (
    EVENT_TEXTS,
    add_partner,
    attendee,
    edit_event,
    make_campaign,
    make_day,
    make_event,
)
from tests.conftest import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(org):
    return make_campaign(org.organization)


@pytest.fixture
def day(campaign):
    return make_day(campaign)


def rsvp_and_confirm(event, number: int, **overrides) -> Rsvp:
    token = f"tok-{number}-{event.pk}"
    token_hash = crypto.token_hash(token)
    with mock.patch.object(rsvps, "_token", return_value=(token, token_hash)):
        assert rsvps.rsvp(event, attendee(number, **overrides)) == rsvps.RsvpOutcome.NEW
    assert rsvps.confirm_rsvp(event, token) == rsvps.ConfirmOutcome.CONFIRMED
    return Rsvp.objects.get(token_hash=token_hash)


def queued(kind: str) -> list[dict]:
    return [
        crypto.unlock(message.locked)
        for message in OutboundMessage.objects.filter(kind=kind).order_by("pk")
    ]


# --- validation ---------------------------------------------------------------------------


def test_it_refuses_an_event_in_the_past(day):
    with pytest.raises(services.ActionRefused, match="past") as refused:
        make_event(day, starts_in=-timedelta(hours=1), publish=False)
    assert refused.value.field == "starts_at"


def test_it_refuses_moving_an_event_into_the_past(day):
    event = make_event(day)
    with pytest.raises(services.ActionRefused, match="past"):
        edit_event(event, starts_at=timezone.now() - timedelta(days=1))


def test_it_refuses_an_end_before_the_start(day):
    now = timezone.now()
    with pytest.raises(services.ActionRefused, match="end must be after") as refused:
        make_event(day, publish=False, ends_at=now - timedelta(days=1))
    assert refused.value.field == "ends_at"


def test_it_refuses_an_unknown_time_zone(day):
    with pytest.raises(services.ActionRefused, match="not a time zone") as refused:
        make_event(day, time_zone="Europe/Atlantis", publish=False)
    assert refused.value.field == "time_zone"
    for odd in ("", "posixrules", "../etc/passwd", "Europe/London\x00"):
        with pytest.raises(services.ActionRefused):
            services.zone(odd)


def test_it_refuses_a_time_the_clocks_skip():
    # 29 March 2026: London goes from 01:00 to 02:00 GMT → BST at 01:00.
    london = ZoneInfo("Europe/London")
    with pytest.raises(services.ActionRefused, match="does not exist"):
        services.local_to_aware(datetime(2026, 3, 29, 1, 30), london, "starts_at")  # noqa: DTZ001


def test_it_refuses_a_time_that_happens_twice():
    # 25 October 2026: London's 01:00-02:00 happens twice.
    london = ZoneInfo("Europe/London")
    with pytest.raises(services.ActionRefused, match="twice"):
        services.local_to_aware(datetime(2026, 10, 25, 1, 30), london, "starts_at")  # noqa: DTZ001


def test_it_reads_a_naive_time_in_the_events_zone(day):
    now = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))
    naive = datetime(2026, 7, 1, 12, 0)  # noqa: DTZ001 - a wall-clock time on purpose.
    event = services.save_event(
        day,
        slug="sf",
        host=day.campaign.organization,
        city="San Francisco",
        country="US",
        venue="Market Street",
        starts_at=naive,
        ends_at=naive + timedelta(hours=2),
        time_zone="America/Los_Angeles",
        texts={"en": {"title": "SF"}},
        now=now,
    )
    # 12:00 PDT (UTC-7) is 19:00 UTC.
    assert event.starts_at.astimezone(ZoneInfo("UTC")).hour == 19


def test_it_refuses_a_country_that_is_not_iso(day):
    with pytest.raises(services.ActionRefused, match="country"):
        make_event(day, country="XX", publish=False)


def test_it_refuses_a_capacity_below_the_people_coming(day):
    event = make_event(day, capacity=5)
    rsvp_and_confirm(event, 1)
    rsvp_and_confirm(event, 2)
    with pytest.raises(services.ActionRefused, match="2 people") as refused:
        edit_event(event, capacity=1)
    assert refused.value.field == "capacity"


def test_it_refuses_a_host_that_is_not_a_partner(day):
    stranger = make_org("stranger-org").organization
    with pytest.raises(services.ActionRefused, match="partners"):
        make_event(day, host=stranger, publish=False)


def test_a_partner_may_host(campaign, day):
    partner = make_org("partner-org").organization
    add_partner(campaign, partner)
    event = make_event(day, host=partner)
    assert event.host == partner


def test_it_refuses_a_taken_slug(day):
    make_event(day)
    with pytest.raises(services.ActionRefused, match="taken"):
        make_event(day, slug="london-protest", publish=False)


def test_publishing_an_event_publishes_its_draft_day(campaign):
    day = make_day(campaign, publish=False)
    make_event(day)
    day.refresh_from_db()
    assert day.state == PublicationState.PUBLISHED


# --- change and cancellation notices ------------------------------------------------------


def test_a_change_of_time_is_told_once_to_each_attendee_who_asked(day):
    event = make_event(day)
    rsvp_and_confirm(event, 1, wants_notices=True)
    rsvp_and_confirm(event, 2, wants_notices=False)
    rsvps.rsvp(event, attendee(3, wants_notices=True))  # Pending: not told.
    sequence = event.sequence
    edit_event(
        event,
        starts_at=event.starts_at + timedelta(hours=1),
        ends_at=event.ends_at + timedelta(hours=1),
    )
    changed = queued("event-changed")
    assert [message["to"] for message in changed] == ["attendee1@example.org"]
    event.refresh_from_db()
    assert event.sequence == sequence + 1


def test_a_change_of_meeting_point_is_told_but_a_text_edit_is_not(day):
    event = make_event(day)
    rsvp_and_confirm(event, 1)
    texts = {**EVENT_TEXTS, "en": {**EVENT_TEXTS["en"], "description": "New words."}}
    edit_event(event, texts=texts)
    assert queued("event-changed") == []
    texts = {**EVENT_TEXTS, "en": {**EVENT_TEXTS["en"], "meeting_point": "South gate"}}
    edit_event(event, texts=texts)
    (notice,) = queued("event-changed")
    assert notice["context"]["meeting_point"] == "South gate"


def test_a_change_notice_is_in_the_attendees_language(day):
    event = make_event(day)
    rsvp_and_confirm(event, 1, language="fa")
    edit_event(event, venue="Another street")
    (notice,) = queued("event-changed")
    assert notice["lang"] == "fa"
    assert notice["context"]["title"] == "تظاهرات در لندن"
    assert "/fa/e/london-protest/withdraw/" in notice["context"]["withdraw_url"]


def test_a_draft_event_tells_nobody(day):
    event = make_event(day, publish=False)
    edit_event(event, venue="Elsewhere")
    assert queued("event-changed") == []


def test_cancelling_tells_attendees_once_and_wipes_their_addresses(day):
    event = make_event(day)
    rsvp_and_confirm(event, 1)
    rsvp_and_confirm(event, 2, wants_notices=False)
    rsvps.rsvp(event, attendee(3))
    services.cancel_event(event)
    assert [m["to"] for m in queued("event-cancelled")] == ["attendee1@example.org"]
    assert not Rsvp.objects.exclude(contact_locked=b"").exists()
    assert not Rsvp.objects.filter(state=RsvpState.PENDING).exists()
    with pytest.raises(services.ActionRefused):
        services.cancel_event(event)
    assert len(queued("event-cancelled")) == 1
    event.refresh_from_db()
    assert event.state == PublicationState.CANCELLED
    with pytest.raises(services.ActionRefused):
        edit_event(event, venue="Anywhere")


def test_cancelling_a_day_cancels_its_events(day):
    first, second = (
        make_event(day),
        make_event(day, "paris", city="Paris", country="FR", time_zone="Europe/Paris"),
    )
    rsvp_and_confirm(first, 1)
    rsvp_and_confirm(second, 2)
    services.cancel_day(day)
    assert set(Event.objects.values_list("state", flat=True)) == {PublicationState.CANCELLED}
    assert len(queued("event-cancelled")) == 2


# --- reminders ----------------------------------------------------------------------------


def test_reminders_go_once_across_runs_and_a_restart(day):
    now = timezone.now()
    event = make_event(day, starts_in=timedelta(hours=30), now=now)
    rsvp_and_confirm(event, 1)
    rsvp_and_confirm(event, 2, wants_notices=False)
    # A worker that dies after claiming but before committing: rolled back, nothing lost.
    with (
        mock.patch.object(notices, "queue_reminders", side_effect=RuntimeError("killed")),
        pytest.raises(RuntimeError),
    ):
        services.send_reminders(now=now)
    event.refresh_from_db()
    assert event.reminder_sent_at is None
    assert services.send_reminders(now=now) == 1
    assert services.send_reminders(now=now + timedelta(minutes=5)) == 0
    reminders = queued("event-reminder")
    assert [m["to"] for m in reminders] == ["attendee1@example.org"]
    assert reminders[0]["context"]["safety_notes"].startswith("Cover your face")


def test_reminders_wait_until_a_day_and_a_half_before(day):
    now = timezone.now()
    make_event(day, starts_in=timedelta(hours=48), now=now)
    assert services.send_reminders(now=now) == 0
    assert services.send_reminders(now=now + timedelta(hours=13)) == 1


def test_a_reminder_claimed_by_another_worker_is_not_sent_again(day):
    now = timezone.now()
    event = make_event(day, starts_in=timedelta(hours=30), now=now)
    rsvp_and_confirm(event, 1)
    real_filter = Event.objects.filter

    # Another worker claims the event between our selection and our claim: our
    # conditional UPDATE then changes no row, and we queue nothing.
    def claimed_meanwhile(*args, **kwargs):
        if kwargs.get("pk") == event.pk:
            real_filter(pk=event.pk).update(reminder_sent_at=now)
        return real_filter(*args, **kwargs)

    with mock.patch.object(Event.objects, "filter", side_effect=claimed_meanwhile):
        assert services.send_reminders(now=now) == 0
    assert queued("event-reminder") == []


# --- wiping and recounting ----------------------------------------------------------------


def test_addresses_are_wiped_once_the_event_is_over(day):
    now = timezone.now()
    event = make_event(day, now=now)
    rsvp_and_confirm(event, 1)
    assert services.wipe_contacts(now=now) == 0
    assert services.wipe_contacts(now=event.ends_at + timedelta(minutes=1)) == 1
    assert not Rsvp.objects.exclude(contact_locked=b"").exists()


def test_recount_repairs_the_attendee_count(day):
    event = make_event(day)
    rsvp_and_confirm(event, 1)
    Event.objects.filter(pk=event.pk).update(attendee_count=7)
    assert services.recount_events() == 1
    event.refresh_from_db()
    assert event.attendee_count == 1


def test_rsvps_are_deleted_a_retention_period_after_the_event_and_the_count_stays(day, settings):
    """PRIVACY.md rule 8 for attendees, as for signers: a year after the event (the
    retention setting), its RSVPs go; the public count stays and recount leaves it."""
    event = make_event(day, capacity=10)
    for number in range(3):
        rsvp_and_confirm(event, number)
    event.refresh_from_db()
    assert event.attendee_count == 3
    days = settings.HAMSEDA["RETENTION_DAYS"]

    just_before = event.ends_at + timedelta(days=days) - timedelta(minutes=1)
    assert services.purge_past_rsvps(now=just_before) == 0
    after = event.ends_at + timedelta(days=days, minutes=1)
    assert services.purge_past_rsvps(now=after) == 3
    assert services.purge_past_rsvps(now=after) == 0
    event.refresh_from_db()
    assert not Rsvp.objects.filter(event=event).exists()
    assert (event.attendee_count, event.personal_data_purged_at) == (3, after)
    services.recount_events()
    event.refresh_from_db()
    assert event.attendee_count == 3
