"""The mails to attendees: confirmation, change notice, cancellation, reminder.

Every function here is called inside the transaction of the change that causes the
mail, and queues through the encrypted outbox (mail.services.queue_message). The mail's
context is plain text made now, in the attendee's language: the event's title, times in
the event's own zone, place and notes, and the links every mail to an attendee carries
(withdraw this RSVP, erase everything for the address; PRIVACY.md rule 8).

Change notices, cancellations and reminders go only to confirmed attendees who ticked
"remind me and tell me about changes": their address is kept locked with the server key
(Rsvp.contact_locked) for that alone, and wiped once the event is over or cancelled.
"""

from datetime import datetime

from django.urls import reverse
from django.utils import formats, translation

from hamseda import signed_links
from hamseda.actions.models import Event, Rsvp, RsvpState
from hamseda.links import absolute_url
from hamseda.mail.services import queue_message
from hamseda.petitions.countries import country_name
from hamseda.vault import crypto

# The withdraw link of an RSVP: a stateless signed token, like a signature's
# (hamseda.signed_links), under a salt of its own so no other signed value is accepted.
WITHDRAW_SALT = "hamseda.actions.withdraw"


def withdraw_token(event_id: int, rsvp_id: int) -> str:
    return signed_links.make_token(WITHDRAW_SALT, event_id, rsvp_id)


def withdrawn_rsvp_id(event: Event, token: str) -> int | None:
    """The RSVP a withdraw link names, if the link is genuine and for this event."""
    return signed_links.read_row_id(WITHDRAW_SALT, token, event.pk)


def when(event: Event, language: str) -> str:
    """ "Saturday 14 March 2026, 12:00–14:00 (Europe/London, GMT+00:00)" in the reader's
    language and the event's own zone, for mails (pages use the action_dates tags)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(event.time_zone)
    start, end = event.starts_at.astimezone(tz), event.ends_at.astimezone(tz)
    with translation.override(language):
        day = formats.date_format(start, "DATE_FORMAT")
        start_time = formats.time_format(start, "TIME_FORMAT")
        end_text = (
            formats.time_format(end, "TIME_FORMAT")
            if end.date() == start.date()
            else formats.date_format(end, "DATE_FORMAT")
            + " "
            + formats.time_format(end, "TIME_FORMAT")
        )
    offset = start.strftime("%z")
    return f"{day}, {start_time}–{end_text} ({tz.key}, UTC{offset[:3]}:{offset[3:]})"


def event_context(event: Event, language: str) -> dict:
    """What every mail about an event shows, as plain JSON values in `language`."""
    with translation.override(language):
        text = event.text()
        return {
            "title": text.title if text else event.slug,
            "when": when(event, language),
            "city": event.city,
            "country": country_name(event.country, language),
            "venue": event.venue,
            "meeting_point": text.meeting_point if text else "",
            "what_to_bring": text.what_to_bring if text else "",
            "safety_notes": text.safety_notes if text else "",
            "accessibility": text.accessibility if text else "",
            "contact": event.contact,
            "host": event.host.name,
            "event_url": absolute_url(reverse("actions:event", args=[event.slug])),
        }


def attendee_links(event: Event, rsvp_id: int, language: str) -> dict[str, str]:
    """The links every mail to an attendee carries, in their language."""
    token = withdraw_token(event.pk, rsvp_id)
    with translation.override(language):
        return {
            "withdraw_url": absolute_url(reverse("actions:withdraw", args=[event.slug, token])),
            "erase_url": absolute_url(reverse("erasure:request")),
        }


def queue_to_address(
    event: Event,
    *,
    kind: str,
    template: str,
    to: str,
    rsvp_id: int,
    language: str,
    now: datetime,
    **extra,
) -> None:
    queue_message(
        kind=kind,
        to=to,
        template=template,
        context={
            **event_context(event, language),
            **attendee_links(event, rsvp_id, language),
            **extra,
        },
        language=language,
        now=now,
    )


def _to_attendees(event: Event, *, kind: str, template: str, now: datetime) -> int:
    """Queue one mail to each confirmed attendee who asked for notices."""
    queued = 0
    attendees = (
        Rsvp.objects.filter(event=event, state=RsvpState.CONFIRMED)
        .exclude(contact_locked=b"")
        .order_by("pk")
        .values_list("pk", "language", "contact_locked")
    )
    for rsvp_id, language, locked in attendees:
        address = crypto.unlock(locked)["email"]
        queue_to_address(
            event,
            kind=kind,
            template=template,
            to=address,
            rsvp_id=rsvp_id,
            language=language or event.day.campaign.default_language,
            now=now,
        )
        queued += 1
    return queued


def queue_change_notices(event: Event, *, now: datetime) -> int:
    return _to_attendees(event, kind="event-changed", template="actions/mail/changed.txt", now=now)


def queue_cancellation_notices(event: Event, *, now: datetime) -> int:
    return _to_attendees(
        event, kind="event-cancelled", template="actions/mail/cancelled.txt", now=now
    )


def queue_reminders(event: Event, *, now: datetime) -> int:
    return _to_attendees(
        event, kind="event-reminder", template="actions/mail/reminder.txt", now=now
    )
