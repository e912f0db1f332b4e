"""Days of action, events and attendees for the actions tests, made through the
services (STYLE.md), relative to the real clock so the public views see them as
upcoming."""

from datetime import datetime, timedelta

from django.utils import timezone

from hamseda.actions import rsvps, services
from hamseda.campaigns.models import Campaign, CampaignPartner, CampaignTranslation

EVENT_TEXTS = {
    "en": {
        "title": "Protest in London",
        "description": "We **gather** in front of the office.",
        "meeting_point": "By the north gate",
        "accessibility": "Step-free access",
        "what_to_bring": "Water and a sign",
        "safety_notes": "Cover your face if you fear being photographed.",
    },
    "fa": {
        "title": "تظاهرات در لندن",
        "meeting_point": "کنار دروازه شمالی",
        "safety_notes": "اگر از عکس گرفتن می‌ترسید، صورت خود را بپوشانید.",
    },
}


def make_campaign(organization, slug: str = "ban-campaign") -> Campaign:
    campaign = Campaign.objects.create(organization=organization, slug=slug)
    CampaignTranslation.objects.create(campaign=campaign, language="en", name="Ban them")
    return campaign


def add_partner(campaign, organization) -> CampaignPartner:
    return CampaignPartner.objects.create(
        campaign=campaign, organization=organization, created_at=timezone.now()
    )


def make_day(campaign, slug: str = "day-of-action", *, now: datetime | None = None, publish=True):
    now = now or timezone.now()
    day = services.save_day(
        campaign,
        slug=slug,
        date=(now + timedelta(days=10)).date(),
        texts={
            "en": {"title": "Day of action", "theme": "Ban them", "description": "Join us."},
            "fa": {"title": "روز اقدام", "theme": "ممنوع کنید"},
        },
        now=now,
    )
    if publish:
        services.publish_day(day, now=now)
    return day


def make_event(
    day,
    slug: str = "london-protest",
    *,
    host=None,
    now: datetime | None = None,
    starts_in: timedelta = timedelta(days=10),
    capacity: int | None = None,
    publish: bool = True,
    city: str = "London",
    country: str = "GB",
    time_zone: str = "Europe/London",
    **extra,
):
    now = now or timezone.now()
    starts = (now + starts_in).replace(microsecond=0)
    extra.setdefault("ends_at", starts + timedelta(hours=2))
    event = services.save_event(
        day,
        slug=slug,
        host=host or day.campaign.organization,
        city=city,
        country=country,
        venue="Outside the office",
        starts_at=starts,
        time_zone=time_zone,
        capacity=capacity,
        contact="protest@example.org",
        texts=EVENT_TEXTS,
        now=now,
        **extra,
    )
    if publish:
        services.publish_event(event, now=now)
    event.refresh_from_db()
    return event


def attendee(number: int = 1, **overrides) -> rsvps.Attendee:
    values = {
        "first_name": "Maryam",
        "last_name": f"Attendee{number}",
        "email": f"attendee{number}@example.org",
        "language": "en",
        "wants_notices": True,
    }
    values.update(overrides)
    return rsvps.Attendee(**values)


def edit_event(event, *, now=None, **changes):
    """save_event with the event's current values, changed by `changes`."""
    values = {
        "slug": event.slug,
        "host": event.host,
        "city": event.city,
        "country": event.country,
        "venue": event.venue,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "time_zone": event.time_zone,
        "capacity": event.capacity,
        "contact": event.contact,
        "texts": {
            t.language: {f: getattr(t, f) for f in services.EVENT_TEXT_FIELDS}
            for t in event.translations.all()
        },
    }
    values.update(changes)
    return services.save_event(event.day, event=event, now=now, **values)
