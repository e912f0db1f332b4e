"""Every state change of days of action and their events goes through a function here
(RSVPs: actions.rsvps; the mails to attendees: actions.notices).

Each function is atomic and takes `now` for testability. A change attendees are told
about (new times, another venue or meeting point, a cancellation) queues its notices in
the same transaction as the change, so a notice is queued exactly once per change:
if the change commits, so do its notices; if it rolls back, no notice goes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.actions import notices
from hamseda.actions.models import (
    DayOfAction,
    DayOfActionTranslation,
    Event,
    EventTranslation,
    PublicationState,
    Rsvp,
    RsvpState,
)
from hamseda.campaigns.models import Campaign, CampaignPartner
from hamseda.orgs.models import Organization
from hamseda.petitions.countries import CODES as COUNTRY_CODES

DAY_TEXT_FIELDS = ("title", "theme", "description")
EVENT_TEXT_FIELDS = (
    "title",
    "description",
    "meeting_point",
    "accessibility",
    "what_to_bring",
    "safety_notes",
)
# The reminder goes when an event is between 24 and 36 hours away: at least a day
# before, and the twelve hours in between let a worker that was down catch up.
REMINDER_EARLIEST = timedelta(hours=36)
REMINDER_LATEST = timedelta(hours=24)


class ActionRefused(ValueError):
    """A change of a day or event that is not allowed; the message says why, in the
    organiser's language, and `field` names the form field it is about (or "")."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- time zones ---------------------------------------------------------------------------


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA zones this system knows (tzdata), read once."""
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The zone called `name`, or ActionRefused. Only names from the IANA list are
    accepted: ZoneInfo also opens odd keys ("posixrules", paths) we do not want stored."""
    if not name or name not in time_zone_names():
        raise ActionRefused(
            _("“%(zone)s” is not a time zone we know. Use a name like Europe/London.")
            % {"zone": name[:64]},
            "time_zone",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ActionRefused(
            _("“%(zone)s” is not a time zone we know. Use a name like Europe/London.")
            % {"zone": name[:64]},
            "time_zone",
        ) from None


def local_to_aware(value: datetime, tz: ZoneInfo, field: str) -> datetime:
    """A wall-clock time in `tz` as an aware datetime, refusing times the clocks skip or
    show twice on a daylight-saving change.

    We refuse both instead of guessing: a protest announced for 02:30 on the night the
    clocks go forward does not exist, and 01:30 on the night they go back happens twice,
    an hour apart; whichever we picked, half the people would stand there at the wrong
    hour. The organiser chooses another time (docs/actions.md, "Daylight saving").
    Aware values (from code, not the form) are taken as they are.
    """
    if value.tzinfo is not None:
        return value
    first, second = value.replace(tzinfo=tz, fold=0), value.replace(tzinfo=tz, fold=1)
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != value.replace(fold=0):
        raise ActionRefused(
            _(
                "%(time)s does not exist in %(zone)s: the clocks skip that hour for "
                "daylight saving time. Please choose another time."
            )
            % {"time": value.strftime("%Y-%m-%d %H:%M"), "zone": tz.key},
            field,
        )
    if first.utcoffset() != second.utcoffset():
        raise ActionRefused(
            _(
                "%(time)s happens twice in %(zone)s, because the clocks go back that "
                "night. Please choose a time outside that hour."
            )
            % {"time": value.strftime("%Y-%m-%d %H:%M"), "zone": tz.key},
            field,
        )
    return first


def local_time(moment: datetime, time_zone: str) -> datetime:
    """A stored (UTC) time as the wall-clock time of the event's zone."""
    return moment.astimezone(ZoneInfo(time_zone))


# --- days of action -----------------------------------------------------------------------


def _save_texts(model, owner_field: str, owner, texts: Mapping[str, Mapping], fields) -> None:
    """Replace the translations of `owner`: a language left out is removed."""
    if not texts:
        raise ActionRefused(_("Write the title in at least one language."))
    model.objects.filter(**{owner_field: owner}).exclude(language__in=list(texts)).delete()
    for language, values in texts.items():
        if not str(values.get("title", "")).strip():
            raise ActionRefused(_("Every language you fill in needs a title."))
        model.objects.update_or_create(
            **{owner_field: owner},
            language=language,
            defaults={name: str(values.get(name, "") or "").strip() for name in fields},
        )


def save_day(
    campaign: Campaign,
    *,
    slug: str,
    date: date,
    texts: Mapping[str, Mapping],
    day: DayOfAction | None = None,
    created_by=None,
    now: datetime | None = None,
) -> DayOfAction:
    """Create a day of action (day=None) or change one, with its texts per language."""
    now = now or timezone.now()
    if day is not None and day.state == PublicationState.CANCELLED:
        raise ActionRefused(_("A cancelled day of action cannot be changed."))
    if day is None and date < now.date() - timedelta(days=1):
        # A day behind every zone on Earth; "today" differs by zone, so allow a margin.
        raise ActionRefused(_("This date is in the past."), "date")
    try:
        with transaction.atomic():
            if day is None:
                day = DayOfAction.objects.create(
                    campaign=campaign, slug=slug, date=date, created_by=created_by, created_at=now
                )
            else:
                day.slug, day.date = slug, date
                day.save(update_fields=["slug", "date"])
            _save_texts(DayOfActionTranslation, "day", day, texts, DAY_TEXT_FIELDS)
    except IntegrityError:
        raise ActionRefused(
            _("This web address is already taken. Please choose another one."), "slug"
        ) from None
    return day


def publish_day(day: DayOfAction, *, now: datetime | None = None) -> DayOfAction:
    now = now or timezone.now()
    changed = DayOfAction.objects.filter(pk=day.pk, state=PublicationState.DRAFT).update(
        state=PublicationState.PUBLISHED, published_at=now
    )
    if not changed:
        raise ActionRefused(_("Only a draft can be published."))
    day.refresh_from_db()
    return day


def cancel_day(day: DayOfAction, *, now: datetime | None = None) -> DayOfAction:
    """Cancel a day of action and every event of it that is not cancelled yet, each with
    its cancellation notice (cancel_event), in one transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = (
            DayOfAction.objects.filter(pk=day.pk)
            .exclude(state=PublicationState.CANCELLED)
            .update(state=PublicationState.CANCELLED, cancelled_at=now)
        )
        if not changed:
            raise ActionRefused(_("This day of action is already cancelled."))
        for event in day.events.exclude(state=PublicationState.CANCELLED).order_by("pk"):
            cancel_event(event, now=now)
    day.refresh_from_db()
    return day


# --- events -------------------------------------------------------------------------------


def allowed_hosts(campaign: Campaign) -> list[Organization]:
    """The organisations that may host an event of this campaign: its own and its
    coalition partners."""
    partner_ids = CampaignPartner.objects.filter(campaign=campaign).values_list(
        "organization_id", flat=True
    )
    return list(Organization.objects.filter(Q(pk=campaign.organization_id) | Q(pk__in=partner_ids)))


@dataclass(frozen=True)
class _Snapshot:
    """What attendees are told about when it changes."""

    starts_at: datetime | None
    ends_at: datetime | None
    city: str
    venue: str
    state: str
    meeting_points: tuple

    @classmethod
    def of(cls, event: Event) -> "_Snapshot":
        points = (
            tuple(
                sorted(
                    EventTranslation.objects.filter(event=event).values_list(
                        "language", "meeting_point"
                    )
                )
            )
            if event.pk
            else ()
        )
        return cls(event.starts_at, event.ends_at, event.city, event.venue, event.state, points)


def _check_coordinates(latitude, longitude) -> None:
    if (latitude is None) != (longitude is None):
        raise ActionRefused(_("Give both latitude and longitude, or neither."), "latitude")
    if latitude is not None and not Decimal(-90) <= Decimal(latitude) <= Decimal(90):
        raise ActionRefused(_("Latitude must be between -90 and 90."), "latitude")
    if longitude is not None and not Decimal(-180) <= Decimal(longitude) <= Decimal(180):
        raise ActionRefused(_("Longitude must be between -180 and 180."), "longitude")


def save_event(
    day: DayOfAction,
    *,
    slug: str,
    host: Organization,
    city: str,
    country: str,
    venue: str,
    starts_at: datetime,
    ends_at: datetime,
    time_zone: str,
    texts: Mapping[str, Mapping],
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    capacity: int | None = None,
    contact: str = "",
    event: Event | None = None,
    now: datetime | None = None,
) -> Event:
    """Create an event of a day of action (event=None) or change one.

    1. Check it: a known IANA zone; start and end as wall-clock times of that zone
       (naive) or aware; no time the clocks skip or repeat; end after start; not in the
       past (a new event, or an event moved); an ISO country; a capacity not below the
       people already coming; a host that is the campaign's organisation or a partner.
    2. Save it and its texts per language.
    3. If it is published: bump `sequence` (calendar apps update their copy) and, if the
       times, place, meeting point or state changed, queue a change notice to each
       confirmed attendee who asked for them, in the same transaction.
    """
    now = now or timezone.now()
    if event is not None and event.state == PublicationState.CANCELLED:
        raise ActionRefused(_("A cancelled event cannot be changed."))
    if day.state == PublicationState.CANCELLED:
        raise ActionRefused(_("This day of action is cancelled."))
    tz = zone(time_zone)
    start = local_to_aware(starts_at, tz, "starts_at")
    end = local_to_aware(ends_at, tz, "ends_at")
    if end <= start:
        raise ActionRefused(_("The end must be after the start."), "ends_at")
    moved = event is None or start != event.starts_at
    if moved and start <= now:
        raise ActionRefused(_("The start is in the past. Please choose a later time."), "starts_at")
    country = (country or "").upper()
    if country not in COUNTRY_CODES:
        raise ActionRefused(_("Please choose a country from the list."), "country")
    if not city.strip():
        raise ActionRefused(_("Please enter the city."), "city")
    if not venue.strip():
        raise ActionRefused(_("Please enter the venue."), "venue")
    _check_coordinates(latitude, longitude)
    if host.pk not in {org.pk for org in allowed_hosts(day.campaign)}:
        raise ActionRefused(
            _("The host must be the campaign's organisation or one of its partners."), "host"
        )
    if event is not None and event.host_id != host.pk and event.attendee_count:
        # Attendees' data is sealed to the host's key: another host could not read it.
        raise ActionRefused(
            _("People have already said they are coming, so the host cannot change."), "host"
        )
    try:
        with transaction.atomic():
            if event is not None:
                # The lock keeps a confirmation from slipping past the capacity check.
                locked = Event.objects.select_for_update().get(pk=event.pk)
                if capacity is not None and capacity < locked.attendee_count:
                    raise ActionRefused(
                        _(
                            "%(count)d people are already coming: the capacity cannot be "
                            "lower than that."
                        )
                        % {"count": locked.attendee_count},
                        "capacity",
                    )
                before = _Snapshot.of(locked)
            else:
                event = Event(day=day, created_at=now)
                before = None
            event.slug = slug
            event.host = host
            event.city = city.strip()
            event.country = country
            event.venue = venue.strip()
            event.latitude = Decimal(str(latitude)) if latitude is not None else None
            event.longitude = Decimal(str(longitude)) if longitude is not None else None
            event.starts_at, event.ends_at = start, end
            event.time_zone = tz.key
            event.capacity = capacity
            event.contact = contact.strip()
            event.updated_at = now
            event.save()
            _save_texts(EventTranslation, "event", event, texts, EVENT_TEXT_FIELDS)
            if before is not None and event.state == PublicationState.PUBLISHED:
                Event.objects.filter(pk=event.pk).update(sequence=F("sequence") + 1)
                if _Snapshot.of(event) != before:
                    notices.queue_change_notices(event, now=now)
    except IntegrityError:
        raise ActionRefused(
            _("This web address is already taken. Please choose another one."), "slug"
        ) from None
    event.refresh_from_db()
    return event


def publish_event(event: Event, *, now: datetime | None = None) -> Event:
    """Publish a draft event. Its day is published with it if it was a draft, as an
    event page of an unpublished day would link to a page nobody can open."""
    now = now or timezone.now()
    if not event.translations.exists():
        raise ActionRefused(_("Write the event's title before publishing it."))
    if event.starts_at <= now:
        raise ActionRefused(_("This event has already started."))
    with transaction.atomic():
        changed = Event.objects.filter(pk=event.pk, state=PublicationState.DRAFT).update(
            state=PublicationState.PUBLISHED, published_at=now, updated_at=now
        )
        if not changed:
            raise ActionRefused(_("Only a draft can be published."))
        DayOfAction.objects.filter(pk=event.day_id, state=PublicationState.DRAFT).update(
            state=PublicationState.PUBLISHED, published_at=now
        )
    event.refresh_from_db()
    return event


def cancel_event(event: Event, *, now: datetime | None = None) -> Event:
    """Cancel an event: state CANCELLED, `sequence` bumped (calendars show it
    cancelled), a cancellation notice queued to each confirmed attendee who asked for
    notices, and then their addresses wiped (PRIVACY.md rule 3): nothing more will be
    sent to them. One transaction; cancelling twice changes nothing the second time."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = (
            Event.objects.filter(pk=event.pk)
            .exclude(state=PublicationState.CANCELLED)
            .update(
                state=PublicationState.CANCELLED,
                cancelled_at=now,
                updated_at=now,
                sequence=F("sequence") + 1,
            )
        )
        if not changed:
            raise ActionRefused(_("This event is already cancelled."))
        event.refresh_from_db()
        notices.queue_cancellation_notices(event, now=now)
        Rsvp.objects.filter(event=event).exclude(contact_locked=b"").update(contact_locked=b"")
        # Pending RSVPs can never be confirmed now: their data goes at once.
        Rsvp.objects.filter(event=event, state=RsvpState.PENDING).delete()
    return event


# --- background jobs ----------------------------------------------------------------------


def send_reminders(*, now: datetime | None = None) -> int:
    """Queue the reminder of every published event between 24 and 36 hours away that
    has none yet; returns how many events were reminded.

    Exactly once per event, even if the worker restarts or two workers race: each event
    is claimed with a conditional UPDATE (reminder_sent_at NULL → now) in the
    transaction that queues its reminders. The loser of a race changes no row and
    queues nothing; a crash before commit leaves the event unclaimed and no mail queued.
    """
    now = now or timezone.now()
    due = Event.objects.filter(
        state=PublicationState.PUBLISHED,
        reminder_sent_at__isnull=True,
        starts_at__gt=now + REMINDER_LATEST,
        starts_at__lte=now + REMINDER_EARLIEST,
    ).values_list("pk", flat=True)
    reminded = 0
    for event_id in list(due):
        with transaction.atomic():
            claimed = Event.objects.filter(
                pk=event_id, reminder_sent_at__isnull=True, state=PublicationState.PUBLISHED
            ).update(reminder_sent_at=now)
            if not claimed:
                continue
            notices.queue_reminders(Event.objects.get(pk=event_id), now=now)
            reminded += 1
    return reminded


def wipe_contacts(*, now: datetime | None = None) -> int:
    """Blank the locked addresses of attendees of events that have ended or were
    cancelled (PRIVACY.md rule 3): nothing more will be sent to them."""
    now = now or timezone.now()
    return (
        Rsvp.objects.filter(Q(event__ends_at__lte=now) | Q(event__state=PublicationState.CANCELLED))
        .exclude(contact_locked=b"")
        .update(contact_locked=b"")
    )


def purge_past_rsvps(*, now: datetime | None = None) -> int:
    """Delete the RSVPs of events that ended (or were cancelled) more than
    HAMSEDA_RETENTION_DAYS ago, keeping their attendee counts (PRIVACY.md rule 8, as
    for petitions: vault.retention). Returns how many RSVPs were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HAMSEDA["RETENTION_DAYS"])
    due = Event.objects.filter(
        Q(ends_at__lt=cutoff) | Q(cancelled_at__lt=cutoff), personal_data_purged_at=None
    )
    deleted = 0
    for event_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            deleted += Rsvp.objects.filter(event_id=event_id)._raw_delete(Rsvp.objects.db)
            Event.objects.filter(pk=event_id).update(personal_data_purged_at=now)
    return deleted


def recount_events() -> int:
    """Set every event's attendee_count to its confirmed RSVPs (the repair path of the
    denormalised count); returns how many events were wrong. Events whose RSVPs were
    purged keep their count."""
    fixed = 0
    counted = (
        Event.objects.filter(personal_data_purged_at=None)
        .annotate(real=Count("rsvps", filter=Q(rsvps__state=RsvpState.CONFIRMED)))
        .values_list("pk", "attendee_count", "real")
    )
    for pk, stored, real in counted:
        if stored != real:
            fixed += Event.objects.filter(pk=pk).update(attendee_count=real)
    return fixed


# --- reading ------------------------------------------------------------------------------


def public_events(day: DayOfAction):
    """The events of a day shown to the public: published and cancelled ones (so people
    who planned to come learn it is off), never drafts."""
    return (
        Event.objects.filter(
            day=day, state__in=[PublicationState.PUBLISHED, PublicationState.CANCELLED]
        )
        .select_related("host", "day__campaign")
        .prefetch_related("translations")
        .order_by("country", "city", "starts_at")
    )


def upcoming_days(campaign: Campaign, *, now: datetime | None = None):
    """Published days of action of a campaign from yesterday on (today somewhere)."""
    now = now or timezone.now()
    return (
        DayOfAction.objects.filter(
            campaign=campaign,
            state=PublicationState.PUBLISHED,
            date__gte=now.date() - timedelta(days=1),
        )
        .prefetch_related("translations")
        .order_by("date")
    )
