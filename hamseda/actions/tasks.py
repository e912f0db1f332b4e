"""Background jobs of the actions app, run by `hamseda worker` on a schedule
(hamseda/runtime.py, SCHEDULE)."""

from django_tasks import task

from hamseda.actions import rsvps, services


@task()
def send_event_reminders() -> int:
    """Queue the day-before reminders, once per event (services.send_reminders)."""
    return services.send_reminders()


@task()
def wipe_attendee_contacts() -> int:
    """Forget the addresses kept for notices once events are over (PRIVACY.md rule 3),
    and the RSVPs nobody confirmed."""
    return services.wipe_contacts() + rsvps.purge_unconfirmed()


@task()
def purge_past_rsvps() -> int:
    """Delete the RSVPs of events over longer than the retention period, keeping the
    counts (PRIVACY.md rule 8; services.purge_past_rsvps)."""
    return services.purge_past_rsvps()
