"""iCalendar (RFC 5545) files of events: one event to add, and a campaign's feed that
calendar apps subscribe to (docs/actions.md, "Calendars, dates and the map").

What makes calendar apps behave:
- UID `event-<pk>@<host>` never changes, whatever is edited, so an app updates the
  entry it already has instead of adding a second one.
- SEQUENCE is `Event.sequence`, which actions.services bumps on every change attendees
  are told about; apps take the higher SEQUENCE as the newer version.
- A cancelled event keeps its UID with STATUS:CANCELLED (and METHOD:CANCEL in its own
  file), so apps strike it out rather than keep a protest that will not happen.
- Times carry the event's TZID with a VTIMEZONE for it, so the event stays at the right
  wall-clock time in its city even if the reader's app is in another zone.

Nothing about attendees is ever written here: no ATTENDEE, no counts.
"""

import datetime
from collections.abc import Iterable
from functools import cache
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar.enums import STATUS, TRANSP

from hamseda.actions import times
from hamseda.actions.models import Event, PublicationState
from hamseda.campaigns.models import Campaign
from hamseda.languages import current_language
from hamseda.links import absolute_url
from hamseda.petitions.countries import country_name

PRODID = "-//Hamseda//Days of action//EN"
# How often subscribed apps should fetch the feed again (REFRESH-INTERVAL, RFC 7986,
# and X-PUBLISHED-TTL for the apps that only know Microsoft's older name for it).
REFRESH = datetime.timedelta(hours=1)
# VTIMEZONE rules are written for this margin around the events, not 1970–2038 (the
# library's default): a few transitions instead of a hundred per zone.
ZONE_MARGIN = datetime.timedelta(days=400)


@cache
def uid_host() -> str:
    """The host part of every UID: the public address of this install."""
    return urlsplit(settings.BASE_URL).hostname or "hamseda.invalid"


def event_uid(event: Event) -> str:
    """`event-<pk>@<host>`: tied to the row, not to its slug or text, so it never changes."""
    return f"event-{event.pk}@{uid_host()}"


def event_url(event: Event) -> str:
    """The event's public page, in the reader's language."""
    try:
        path = reverse("actions:event", args=[event.slug])
    except NoReverseMatch:
        # The page is the contract URL /e/<slug>/ (DESIGN.md), under the language prefix.
        language = current_language()
        prefix = "" if language == settings.LANGUAGE_CODE else f"/{language}"
        path = f"{prefix}/e/{event.slug}/"
    return absolute_url(path)


def feed_events(campaign: Campaign) -> QuerySet[Event]:
    """The events a campaign's feed lists: published and cancelled ones of its days that
    are (or were) public. Cancelled ones stay so subscribed apps learn of the
    cancellation; drafts never appear."""
    return (
        Event.objects.filter(
            day__campaign=campaign,
            day__state__in=[PublicationState.PUBLISHED, PublicationState.CANCELLED],
            state__in=[PublicationState.PUBLISHED, PublicationState.CANCELLED],
        )
        .select_related("day__campaign", "host")
        .prefetch_related("translations")
        .order_by("starts_at", "pk")
    )


def is_public(event: Event) -> bool:
    """Whether an event has an .ics file: published or cancelled, of a day that was
    published, of a public campaign."""
    return (
        event.state != PublicationState.DRAFT
        and event.day.state != PublicationState.DRAFT
        and event.day.campaign.is_public
    )


def _location(event: Event) -> str:
    parts = [event.venue, event.city, country_name(event.country)]
    return ", ".join(part for part in parts if part)


def _description(event: Event, text) -> str:
    """Plain text for DESCRIPTION: the event's notes in the reader's language, then its
    page. The description is Markdown; calendar apps show it as the plain text it is."""
    lines: list[str] = []
    if text is not None:
        if text.description:
            lines += [text.description.strip(), ""]
        for label, value in (
            (_("Meeting point:"), text.meeting_point),
            (_("Accessibility:"), text.accessibility),
            (_("What to bring:"), text.what_to_bring),
            (_("Safety:"), text.safety_notes),
        ):
            if value:
                lines.append(f"{label} {value.strip()}")
    lines.append(_("Hosted by %(host)s") % {"host": event.host.name})
    if event.contact:
        contact = _("Contact:")  # Outside the f-string, where makemessages finds it.
        lines.append(f"{contact} {event.contact}")
    lines += ["", event_url(event)]
    return "\n".join(lines).strip()


def vevent(event: Event, *, now: datetime.datetime) -> icalendar.Event:
    """One VEVENT for `event`, its texts in the reader's language."""
    text = event.text()
    zone = times.zone(event.time_zone)
    cancelled = event.state == PublicationState.CANCELLED
    component = icalendar.Event.new(
        uid=event_uid(event),
        sequence=event.sequence,
        stamp=now.astimezone(datetime.UTC),
        created=event.created_at.astimezone(datetime.UTC),
        last_modified=event.updated_at.astimezone(datetime.UTC),
        start=event.starts_at.astimezone(zone),
        end=event.ends_at.astimezone(zone),
        summary=(text.title if text is not None else event.city),
        description=_description(event, text),
        location=_location(event),
        url=event_url(event),
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
    )
    # RFC 5546 wants an ORGANIZER in PUBLISH and CANCEL: the host organisation, reached
    # through this install's sending address — never a person's.
    organizer = icalendar.vCalAddress(f"mailto:{_sender_address()}")
    organizer.params["CN"] = event.host.name
    component.add("organizer", organizer)
    if event.latitude is not None and event.longitude is not None:
        component.add("geo", (float(event.latitude), float(event.longitude)))
    return component


@cache
def _sender_address() -> str:
    from email.utils import parseaddr

    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or f"noreply@{uid_host()}"


def _calendar(
    events: Iterable[Event], *, uid: str, method: str, name: str, now: datetime.datetime
) -> icalendar.Calendar:
    # A fixed calendar UID (RFC 7986): the library would invent a new one per download.
    calendar = icalendar.Calendar.new(prodid=PRODID, method=method, uid=uid)
    if name:
        calendar.calendar_name = name  # NAME and X-WR-CALNAME
    starts, ends = [], []
    for event in events:
        calendar.add_component(vevent(event, now=now))
        starts.append(event.starts_at.date())
        ends.append(event.ends_at.date())
    if starts:
        calendar.add_missing_timezones(
            first_date=min(starts) - ZONE_MARGIN, last_date=max(ends) + ZONE_MARGIN
        )
    return calendar


def event_calendar(event: Event, *, now: datetime.datetime | None = None) -> bytes:
    """The .ics of one event: METHOD:PUBLISH, or METHOD:CANCEL once it is cancelled."""
    now = now or timezone.now()
    cancelled = event.state == PublicationState.CANCELLED
    text = event.text()
    calendar = _calendar(
        [event],
        uid=f"event-{event.pk}-calendar@{uid_host()}",
        method="CANCEL" if cancelled else "PUBLISH",
        name=text.title if text is not None else event.city,
        now=now,
    )
    return calendar.to_ical()


def campaign_calendar(campaign: Campaign, *, now: datetime.datetime | None = None) -> bytes:
    """The campaign's feed: every published or cancelled event of its days."""
    now = now or timezone.now()
    text = campaign.text()
    name = _("%(campaign)s: days of action") % {
        "campaign": text.name if text is not None else campaign.slug
    }
    calendar = _calendar(
        feed_events(campaign),
        uid=f"campaign-{campaign.pk}-events@{uid_host()}",
        method="PUBLISH",
        name=name,
        now=now,
    )
    calendar.refresh_interval = REFRESH
    calendar["X-PUBLISHED-TTL"] = icalendar.vDuration(REFRESH)
    return calendar.to_ical()


def subscribe_url(campaign: Campaign) -> str:
    """The feed as a webcal:// link, which opens "subscribe" in most calendar apps."""
    url = absolute_url(reverse("calendar:campaign_ics", args=[campaign.slug]))
    return "webcal://" + url.split("://", 1)[1]
