"""Days of action and their local events: what, where and when, how many are coming
and how many places there are. Never who is coming: an RSVP is sealed personal data
(PRIVACY.md rules 1 and 5), so only the counter Event.attendee_count is shown.

Drafts are never listed. Cancelled days and events stay, marked `cancelled`, so people
who planned to go learn it is off (as on the pages). Times are given in the event's
own time zone, with their UTC offset, and the zone's IANA name.
"""

from datetime import date as Date
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view

from hamseda.actions.models import DayOfAction, Event, PublicationState
from hamseda.actions.times import zone
from hamseda.api.http import max_age
from hamseda.api.read.schemas import (
    SLUG_PATTERN,
    ErrorOut,
    LanguageQuery,
    ListQuery,
    PageOut,
    markdown_html,
    page,
    speaking,
)
from hamseda.links import absolute_url
from hamseda.petitions.countries import country_name

router = Router(tags=["days of action"])

PUBLIC_STATES = [PublicationState.PUBLISHED, PublicationState.CANCELLED]
# Attendee counts move slowly compared with signatures.
EVENTS_MAX_AGE = 60


class CountryOut(Schema):
    code: str = Field(description="ISO 3166-1 alpha-2")
    name: str = Field(description="In the requested language")


class DayOut(Schema):
    slug: str
    date: Date
    title: str
    theme: str
    language: str = Field(description="The language of title, theme and description")
    description: str = Field(description="Markdown, as written")
    description_html: str = Field(description="Rendered and sanitised, as on the page")
    state: str = Field(description="`published`, or `cancelled`")
    campaign: str = Field(description="The campaign's slug")
    events: list[str] = Field(description="Slugs of the day's events (published or cancelled)")
    url: str


class DayPage(PageOut):
    items: list[DayOut]


class EventOut(Schema):
    slug: str
    title: str
    language: str = Field(description="The language of the texts")
    description: str = Field(description="Markdown, as written")
    description_html: str = Field(description="Rendered and sanitised, as on the page")
    meeting_point: str
    accessibility: str
    what_to_bring: str
    safety_notes: str
    state: str = Field(description="`published`, or `cancelled`")
    day: str = Field(description="The day of action's slug")
    campaign: str = Field(description="The campaign's slug")
    host: str = Field(description="The organisation hosting it")
    contact: str = Field(description="How to reach the hosts (an organisation's address)")
    city: str
    country: CountryOut
    venue: str
    latitude: float | None = Field(description="For a map; None if not given")
    longitude: float | None
    starts_at: datetime = Field(description="In the event's time zone, with its UTC offset")
    ends_at: datetime = Field(description="In the event's time zone, with its UTC offset")
    time_zone: str = Field(description="IANA time zone name, e.g. Europe/London")
    capacity: int | None = Field(description="None: no limit")
    attendee_count: int = Field(description="Confirmed RSVPs")
    spaces_left: int | None = Field(description="None: no limit")
    url: str
    calendar_url: str = Field(description="The event as an iCalendar file")


class EventPage(PageOut):
    items: list[EventOut]


class DayQuery(ListQuery):
    campaign: str | None = Field(None, max_length=50, pattern=SLUG_PATTERN)
    upcoming: bool | None = Field(
        None, description="true: from yesterday on (today somewhere); false: the past ones"
    )


class EventQuery(ListQuery):
    campaign: str | None = Field(None, max_length=50, pattern=SLUG_PATTERN)
    day: str | None = Field(None, max_length=80, pattern=SLUG_PATTERN, description="Day's slug")
    country: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 country code"
    )
    upcoming: bool | None = Field(
        None, description="true: not over yet; false: over (the event's end has passed)"
    )


# --- reading ------------------------------------------------------------------------------


def public_days() -> QuerySet[DayOfAction]:
    return (
        DayOfAction.objects.filter(state__in=PUBLIC_STATES, campaign__is_public=True)
        .select_related("campaign")
        .prefetch_related(
            "translations",
            Prefetch(
                "events",
                queryset=Event.objects.filter(state__in=PUBLIC_STATES)
                .only("pk", "slug", "day_id")
                .order_by("starts_at", "pk"),
                to_attr="public_events",
            ),
        )
    )


def public_events() -> QuerySet[Event]:
    return (
        Event.objects.filter(
            state__in=PUBLIC_STATES,
            day__state__in=PUBLIC_STATES,
            day__campaign__is_public=True,
        )
        .select_related("day__campaign", "host")
        .prefetch_related("translations")
    )


def day_json(day: DayOfAction, language: str) -> dict:
    with speaking(language):
        text = day.text()
        return {
            "slug": day.slug,
            "date": day.date,
            "title": text.title if text else day.slug,
            "theme": text.theme if text else "",
            "language": text.language if text else day.campaign.default_language,
            "description": text.description if text else "",
            "description_html": markdown_html(text.description) if text else "",
            "state": day.state,
            "campaign": day.campaign.slug,
            "events": [event.slug for event in day.public_events],
            "url": absolute_url(reverse("actions:day", args=[day.campaign.slug, day.slug])),
        }


def event_json(event: Event, language: str) -> dict:
    local = zone(event.time_zone)
    spaces = None if event.capacity is None else max(0, event.capacity - event.attendee_count)
    with speaking(language):
        text = event.text()
        return {
            "slug": event.slug,
            "title": text.title if text else event.slug,
            "language": text.language if text else event.day.campaign.default_language,
            "description": text.description if text else "",
            "description_html": markdown_html(text.description) if text else "",
            "meeting_point": text.meeting_point if text else "",
            "accessibility": text.accessibility if text else "",
            "what_to_bring": text.what_to_bring if text else "",
            "safety_notes": text.safety_notes if text else "",
            "state": event.state,
            "day": event.day.slug,
            "campaign": event.day.campaign.slug,
            "host": event.host.name,
            "contact": event.contact,
            "city": event.city,
            "country": {"code": event.country, "name": country_name(event.country, language)},
            "venue": event.venue,
            "latitude": None if event.latitude is None else float(event.latitude),
            "longitude": None if event.longitude is None else float(event.longitude),
            "starts_at": event.starts_at.astimezone(local),
            "ends_at": event.ends_at.astimezone(local),
            "time_zone": event.time_zone,
            "capacity": event.capacity,
            "attendee_count": event.attendee_count,
            "spaces_left": spaces,
            "url": absolute_url(reverse("actions:event", args=[event.slug])),
            "calendar_url": absolute_url(reverse("calendar:event_ics", args=[event.slug])),
        }


# --- endpoints ----------------------------------------------------------------------------


@router.get("/days", response={200: DayPage, 422: ErrorOut})
@decorate_view(max_age(EVENTS_MAX_AGE))
def list_days(request: HttpRequest, query: Query[DayQuery]):
    """Days of action of public campaigns, by date."""
    days = public_days().order_by("date", "slug")
    if query.campaign:
        days = days.filter(campaign__slug=query.campaign)
    if query.upcoming is not None:
        # Yesterday's date is still today somewhere on Earth.
        since = timezone.now().date() - timedelta(days=1)
        days = days.filter(date__gte=since) if query.upcoming else days.filter(date__lt=since)
    items, paging = page(days, query)
    return {"items": [day_json(day, query.lang) for day in items], **paging}


@router.get("/days/{slug}", response={200: DayOut, 404: ErrorOut, 422: ErrorOut})
@decorate_view(max_age(EVENTS_MAX_AGE))
def get_day(request: HttpRequest, slug: str, query: Query[LanguageQuery]):
    """One day of action, with the slugs of its events."""
    return day_json(get_object_or_404(public_days(), slug=slug), query.lang)


@router.get("/events", response={200: EventPage, 422: ErrorOut})
@decorate_view(max_age(EVENTS_MAX_AGE))
def list_events(request: HttpRequest, query: Query[EventQuery]):
    """Local events of days of action, by start time: how many are coming, never who."""
    events = public_events().order_by("starts_at", "pk")
    if query.campaign:
        events = events.filter(day__campaign__slug=query.campaign)
    if query.day:
        events = events.filter(day__slug=query.day)
    if query.country:
        events = events.filter(country=query.country.upper())
    if query.upcoming is not None:
        now = timezone.now()
        events = (
            events.filter(ends_at__gt=now) if query.upcoming else events.filter(ends_at__lte=now)
        )
    items, paging = page(events, query)
    return {"items": [event_json(event, query.lang) for event in items], **paging}


@router.get("/events/{slug}", response={200: EventOut, 404: ErrorOut, 422: ErrorOut})
@decorate_view(max_age(EVENTS_MAX_AGE))
def get_event(request: HttpRequest, slug: str, query: Query[LanguageQuery]):
    """One local event."""
    return event_json(get_object_or_404(public_events(), slug=slug), query.lang)
