"""A small public data set for the read API's tests, made through the services: one
campaign (English and Dari) with a partner, an open petition with confirmed signatures,
a target, milestones, a response and updates, a won petition with its statement, a
draft; a day of action with a published, a cancelled and a draft event; a published, an
embargoed and a draft press release; and the hashtag's pulse."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hamseda.actions import rsvps
from hamseda.actions import services as actions
from hamseda.actions.models import DayOfAction, Event
from hamseda.campaigns import partners
from hamseda.campaigns.models import Campaign, CampaignTranslation
from hamseda.newsroom import services as newsroom
from hamseda.newsroom.models import PressRelease
from hamseda.petitions import outcomes, responses, services, thresholds, updates
from hamseda.petitions.models import DecisionMaker, Petition, ThresholdAction
from hamseda.pulse import ingest, pulses
from hamseda.pulse.records import PostRecord
from tests.conftest import confirmation_link, make_org, make_petition, run_tasks, signer


@dataclass
class Dataset:
    campaign: Campaign
    petition: Petition  # open, 3 confirmed signatures (SE, SE, AF) and 1 pending
    won: Petition
    draft: Petition
    day: DayOfAction
    event: Event  # published, capacity 50, 1 confirmed attendee, in London
    cancelled: Event
    draft_event: Event
    release: PressRelease  # public
    embargoed: PressRelease
    draft_release: PressRelease


def confirmed_signatures(petition: Petition, outbox: list, people: list, now: datetime) -> None:
    """Sign with each of `people`, then confirm all but the last."""
    for person in people:
        services.sign_petition(petition, person, now=now)
    run_tasks()
    for message in outbox[: len(people) - 1]:
        token = confirmation_link(message).rsplit("/", 1)[1]
        assert services.confirm_signature(petition, token, now=now) == "confirmed"
    petition.refresh_from_db()


def make_dataset(outbox: list, now: datetime) -> Dataset:
    keys = make_org()
    organization = keys.organization
    petition = make_petition(organization)
    campaign = petition.campaign
    CampaignTranslation.objects.create(
        campaign=campaign, language="fa", name="کمپاین", description="توضیحات"
    )
    campaign.hashtags = "BanTaliban FreeAfghanistan"
    campaign.save()
    partners.add_partner(
        campaign,
        make_org("partner-org").organization,
        url="https://partner.example.org/",
        description="A coalition partner.",
        now=now,
    )

    target = DecisionMaker.objects.create(
        organization=organization, name="Jane Doe", position="Chief Executive"
    )
    petition.targets.add(target)
    confirmed_signatures(
        petition,
        outbox,
        [
            signer(1, country="SE", first_name="Zarghuna", show_name=True),
            signer(2, country="SE"),
            signer(3, country="AF"),
            signer(4, country="GB"),
        ],
        now,
    )
    thresholds.add_threshold(
        petition, count=2, action=ThresholdAction.RECORD, description="Two", now=now
    )
    thresholds.add_threshold(petition, count=10, action=ThresholdAction.RECORD, now=now)
    thresholds.add_threshold(petition, count=50, action=ThresholdAction.RECORD, now=now)
    thresholds.check_thresholds(now=now)
    responses.record_response(
        petition,
        decision_maker=target,
        body="We **hear** you.",
        language="en",
        responded_on=now.date(),
        now=now,
    )
    published = updates.save_update(
        petition,
        texts={
            "en": {"title": "Delivered", "body": "We *delivered* it."},
            "fa": {"title": "تحویل شد", "body": "تحویل دادیم."},
        },
        now=now,
    )
    updates.publish_update(published, now=now)
    updates.save_update(petition, texts={"en": {"title": "Draft", "body": "Not yet."}}, now=now)

    won = make_petition(organization, "won-petition")
    outcomes.set_outcome(
        won, outcome="won", statements={"en": "We **won**.", "fa": "پیروز شدیم."}, now=now
    )
    draft = make_petition(organization, "draft-petition", open_=False)

    day = actions.save_day(
        campaign,
        slug="day-of-action",
        date=(now + timedelta(days=10)).date(),
        texts={"en": {"title": "Day of action", "theme": "Together", "description": "**Go**"}},
        now=now,
    )
    actions.publish_day(day, now=now)
    start = (now + timedelta(days=10)).replace(hour=12, minute=0, second=0, microsecond=0)

    def event(slug: str, city: str, country: str, zone: str, **extra) -> Event:
        return actions.save_event(
            day,
            slug=slug,
            host=organization,
            city=city,
            country=country,
            venue="Square",
            starts_at=start.astimezone(UTC),
            ends_at=(start + timedelta(hours=2)).astimezone(UTC),
            time_zone=zone,
            texts={"en": {"title": f"Protest in {city}", "safety_notes": "Cover your face."}},
            now=now,
            **extra,
        )

    london = event(
        "london", "London", "GB", "Europe/London", capacity=50, latitude=51.5, longitude=-0.125
    )
    actions.publish_event(london, now=now)
    rsvps.rsvp(london, rsvps.Attendee("Parwana", "Hidden", "parwana@example.org"), now=now)
    run_tasks()
    mail = next(m for m in outbox if "parwana@example.org" in m.to)
    token = re.search(r"/confirm/(\S+)", mail.body).group(1)
    assert rsvps.confirm_rsvp(london, token, now=now) == rsvps.ConfirmOutcome.CONFIRMED
    stockholm = event("stockholm", "Stockholm", "SE", "Europe/Stockholm")
    actions.publish_event(stockholm, now=now)
    actions.cancel_event(stockholm, now=now)
    draft_event = event("san-francisco", "San Francisco", "US", "America/Los_Angeles")

    author = newsroom.save_author(
        organization, name="Mina Karimi", texts={"en": {"role": "Spokesperson"}}, now=now
    )

    def release(slug: str, **extra) -> PressRelease:
        return newsroom.save_release(
            campaign,
            slug=slug,
            kind="press_release",
            author=author,
            texts={"en": {"title": f"Release {slug}", "summary": "In short.", "body": "**News**"}},
            quotes=[{"language": "en", "text": "We will not stop.", "speaker": "Mina Karimi"}],
            now=now,
            **extra,
        )

    public = newsroom.publish_release(release("public-release"), now=now)
    embargoed = newsroom.publish_release(
        release("embargoed-release", embargo_until=now + timedelta(days=1)), now=now
    )
    draft_release = release("draft-release")

    pulses.save_settings(
        campaign, is_public=True, show_wall=True, keywords="", milestones="2 5", now=now
    )
    ingest.ingest_records(
        campaign,
        [
            PostRecord(
                platform=platform,
                platform_id=f"{platform}-{number}",
                author_id=f"author-{number % 2}",
                author_handle=f"handle{number % 2}",
                created_at=now - timedelta(hours=number),
                hashtags=["bantaliban"],
            )
            for number, platform in enumerate(["x", "bluesky", "mastodon"])
        ],
        now=now,
    )

    for item in (petition, won, day, london, stockholm):
        item.refresh_from_db()
    return Dataset(
        campaign=campaign,
        petition=petition,
        won=won,
        draft=draft,
        day=day,
        event=london,
        cancelled=stockholm,
        draft_event=draft_event,
        release=public,
        embargoed=embargoed,
        draft_release=draft_release,
    )
