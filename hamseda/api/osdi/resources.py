"""Petitions and events as OSDI resources (petitions.md and events.md of the OSDI
specification), built from the public facts and counters only (PRIVACY.md rule 5):
no person, creator or signer is ever linked or embedded."""

from django.db.models import QuerySet

from hamseda.actions.calendar import event_url
from hamseda.actions.models import Event, PublicationState
from hamseda.api.osdi.hal import CURIES, VENDOR, href, when
from hamseda.api.read.schemas import markdown_html
from hamseda.links import absolute_url
from hamseda.petitions.models import Petition, PetitionState

PUBLIC_PETITION_STATES = [PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]
# Cancelled events stay listed, as on the public pages, so partners learn they are off.
PUBLIC_EVENT_STATES = [PublicationState.PUBLISHED, PublicationState.CANCELLED]


def identifier(slug: str) -> str:
    """OSDI identifiers are "<system>:<id>"; ours is the slug, as in every public URL."""
    return f"hamseda:{slug}"


def public_petitions() -> QuerySet[Petition]:
    return (
        Petition.objects.filter(state__in=PUBLIC_PETITION_STATES)
        .prefetch_related("translations", "targets")
        .order_by("-opened_at", "-pk")
    )


def public_events() -> QuerySet[Event]:
    """Published and cancelled events of days that were published, of public campaigns
    (actions.calendar.is_public)."""
    return (
        Event.objects.filter(
            state__in=PUBLIC_EVENT_STATES,
            day__state__in=PUBLIC_EVENT_STATES,
            day__campaign__is_public=True,
        )
        .select_related("day__campaign")
        .prefetch_related("translations")
        .order_by("starts_at", "pk")
    )


def _petition_modified(petition: Petition):
    """The last change of state we know of (petitions keep no edit time)."""
    moments = [
        petition.created_at,
        petition.submitted_at,
        petition.opened_at,
        petition.closed_at,
        petition.won_at,
    ]
    return max(moment for moment in moments if moment is not None)


def petition_resource(petition: Petition, *, curies: bool = False) -> dict:
    """One petition, in the active language (hal.speaking)."""
    text = petition.text()
    links: dict = {
        "self": href("petition", petition.slug),
        "osdi:signatures": href("signatures", petition.slug),
        "osdi:record_signature_helper": href("record_signature_helper", petition.slug),
    }
    if curies:
        links["curies"] = CURIES
    return {
        "identifiers": [identifier(petition.slug)],
        "origin_system": VENDOR,
        "created_date": when(petition.created_at),
        "modified_date": when(_petition_modified(petition)),
        "name": petition.slug,
        "title": text.title if text else petition.slug,
        "summary": text.summary if text else "",
        "description": markdown_html(text.story) if text else "",
        # The petition's own words to its targets: its story, as written (Markdown).
        "petition_text": text.story if text else "",
        "browser_url": absolute_url(petition.get_absolute_url()),
        # Confirmed signatures only, from the counter.
        "total_signatures": petition.signature_count,
        "target": [{"name": str(target)} for target in petition.targets.all()],
        "_links": links,
    }


def event_resource(event: Event, *, curies: bool = False) -> dict:
    """One event, in the active language (hal.speaking)."""
    text = event.text()
    location: dict = {"venue": event.venue, "locality": event.city, "country": event.country}
    if event.latitude is not None and event.longitude is not None:
        location["location"] = {
            "latitude": float(event.latitude),
            "longitude": float(event.longitude),
        }
    links: dict = {
        "self": href("event", event.slug),
        "osdi:attendances": href("attendances", event.slug),
        "osdi:record_attendance_helper": href("record_attendance_helper", event.slug),
    }
    if curies:
        links["curies"] = CURIES
    resource = {
        "identifiers": [identifier(event.slug)],
        "origin_system": VENDOR,
        "created_date": when(event.created_at),
        "modified_date": when(event.updated_at),
        "name": event.slug,
        "title": text.title if text else event.slug,
        "description": markdown_html(text.description) if text else "",
        "instructions": text.meeting_point if text else "",
        "browser_url": event_url(event),
        "type": "open",
        "status": "cancelled" if event.state == PublicationState.CANCELLED else "confirmed",
        "visibility": "public",
        # Confirmed RSVPs only, from the counter; never who.
        "total_accepted": event.attendee_count,
        "start_date": when(event.starts_at),
        "end_date": when(event.ends_at),
        "all_day": False,
        "location": location,
        "_links": links,
    }
    if event.capacity is not None:
        resource["capacity"] = event.capacity
    return resource
