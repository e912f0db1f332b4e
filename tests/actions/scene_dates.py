"""A day of action with events, made through actions.services, for the calendar, time
and map tests (helper F's files). `NOW` lies before every event, so they can be
published."""

import datetime
from decimal import Decimal

from hamseda.actions import services
from hamseda.campaigns.models import Campaign, CampaignTranslation

NOW = datetime.datetime(2025, 10, 1, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.date(2026, 3, 15)


def make_campaign(organization, slug: str = "ban-campaign") -> Campaign:
    campaign = Campaign.objects.create(organization=organization, slug=slug)
    CampaignTranslation.objects.create(campaign=campaign, language="en", name="Ban the accounts")
    CampaignTranslation.objects.create(campaign=campaign, language="fa", name="حساب‌ها را ببندید")
    return campaign


def make_day(campaign, slug: str = "day-15-march", date: datetime.date = DAY):
    return services.save_day(
        campaign,
        slug=slug,
        date=date,
        texts={"en": {"title": "Day of action"}, "fa": {"title": "روز اقدام"}},
        now=NOW,
    )


def make_event(
    day,
    slug: str,
    *,
    city: str,
    country: str,
    time_zone: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    latitude=None,
    longitude=None,
    publish: bool = True,
    title: str | None = None,
):
    event = services.save_event(
        day,
        slug=slug,
        host=day.campaign.organization,
        city=city,
        country=country,
        venue="In front of the company's office",
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone=time_zone,
        latitude=None if latitude is None else Decimal(str(latitude)),
        longitude=None if longitude is None else Decimal(str(longitude)),
        contact="protest@example.org",
        texts={
            "en": {
                "title": title or f"Protest in {city}",
                "description": "Stand with us.",
                "meeting_point": "The main entrance",
                "safety_notes": "Cover your face if you fear being photographed.",
            },
            "fa": {"title": f"اعتراض در {city}", "meeting_point": "دروازهٔ اصلی"},
        },
        now=NOW,
    )
    if publish:
        event = services.publish_event(event, now=NOW)
    return event


def wall(year, month, day, hour, minute=0) -> datetime.datetime:
    """A naive wall-clock time, as the organiser's form gives it."""
    return datetime.datetime(year, month, day, hour, minute)  # noqa: DTZ001 - wall time in the event's zone


def three_cities(day):
    """San Francisco, London and Stockholm on 15 March 2026, as in the founding story."""
    return [
        make_event(
            day,
            "san-francisco",
            city="San Francisco",
            country="US",
            time_zone="America/Los_Angeles",
            starts_at=wall(2026, 3, 15, 11),
            ends_at=wall(2026, 3, 15, 14),
            latitude=37.7749,
            longitude=-122.4194,
        ),
        make_event(
            day,
            "london",
            city="London",
            country="GB",
            time_zone="Europe/London",
            starts_at=wall(2026, 3, 15, 12),
            ends_at=wall(2026, 3, 15, 14),
            latitude=51.5074,
            longitude=-0.1278,
        ),
        make_event(
            day,
            "stockholm",
            city="Stockholm",
            country="SE",
            time_zone="Europe/Stockholm",
            starts_at=wall(2026, 3, 15, 13),
            ends_at=wall(2026, 3, 15, 15),
            latitude=59.3293,
            longitude=18.0686,
        ),
    ]
