"""Days of action, their local events, and RSVPs (docs/actions.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hamseda.languages import pick


class PublicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class DayOfAction(models.Model):
    """One coordinated day of a campaign, e.g. protests in three cities on 15 March."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="days_of_action"
    )
    slug = models.SlugField(unique=True, max_length=80)
    date = models.DateField()
    state = models.CharField(
        max_length=16, choices=PublicationState.choices, default=PublicationState.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=PublicationState.values), name="day_state_valid"
            )
        ]

    def __str__(self) -> str:
        return self.slug

    def text(self) -> "DayOfActionTranslation | None":
        return pick(
            {t.language: t for t in self.translations.all()}, self.campaign.default_language
        )


class DayOfActionTranslation(models.Model):
    day = models.ForeignKey(DayOfAction, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    theme = models.CharField(max_length=200, blank=True)
    # Markdown, sanitised when shown (petitions.markdown).
    description = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "language"], name="one_day_text")]

    def __str__(self) -> str:
        return self.title


class Event(models.Model):
    """One local event of a day of action: a protest in front of an office, a vigil.

    Times are stored in UTC and shown in the event's own zone (`time_zone`, an IANA
    name checked with zoneinfo) and the reader's. `sequence` is the iCalendar SEQUENCE:
    bumped on every change attendees are told about, so calendar apps update.
    """

    day = models.ForeignKey(DayOfAction, on_delete=models.CASCADE, related_name="events")
    slug = models.SlugField(unique=True, max_length=80)
    # The organisation hosting it: the campaign's own or a coalition partner. Its
    # members manage the event, and attendees' data is sealed to its key.
    host = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="hosted_events"
    )
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2)
    venue = models.CharField(max_length=200)
    # For the offline map (actions.maps); optional.
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    # None: no limit.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    # How to reach the hosts (a public address or phone of the organisers, not a person's).
    contact = models.CharField(max_length=200, blank=True)
    state = models.CharField(
        max_length=16, choices=PublicationState.choices, default=PublicationState.DRAFT
    )
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Set once by the reminder job with a conditional UPDATE, in the transaction that
    # queues the reminders: they go once, even if the worker restarts.
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # Confirmed RSVPs, kept by actions.services and repaired by `hamseda recount`.
    attendee_count = models.PositiveIntegerField(default=0)
    # When the RSVPs were deleted, HAMSEDA_RETENTION_DAYS after the event (PRIVACY.md
    # rule 8); the count stays and can no longer be recounted.
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "country", "city"]
        indexes = [models.Index(fields=["day", "state", "starts_at"], name="event_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=PublicationState.values), name="event_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    def text(self) -> "EventTranslation | None":
        return pick(
            {t.language: t for t in self.translations.all()},
            self.day.campaign.default_language,
        )


class EventTranslation(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    # Markdown, sanitised when shown.
    description = models.TextField(blank=True)
    meeting_point = models.CharField(max_length=300, blank=True)
    accessibility = models.TextField(blank=True)
    what_to_bring = models.TextField(blank=True)
    # E.g. "Cover your face if you fear being photographed."
    safety_notes = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "language"], name="one_event_text")]

    def __str__(self) -> str:
        return self.title


class RsvpState(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    CONFIRMED = "confirmed", _("Confirmed")


class Rsvp(models.Model):
    """One person coming to an event, with a signature's privacy (PRIVACY.md rule 1):
    name and e-mail sealed to the host organisation's key, a keyed fingerprint for
    "one RSVP per address", the confirmation token only as a hash."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    state = models.CharField(max_length=16, choices=RsvpState.choices, default=RsvpState.PENDING)
    email_fingerprint = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    token_sent_at = models.DateTimeField()
    sealed = models.BinaryField()
    key_id = models.CharField(max_length=16)
    language = models.CharField(max_length=8, blank=True)
    # Only when the attendee asked for a reminder and change notices: their address,
    # locked with a key derived from the server secret (vault.crypto.lock) so the worker
    # can write to them, and wiped once the event is over or cancelled (PRIVACY.md rule
    # 3, docs/privacy.md). Empty otherwise.
    contact_locked = models.BinaryField(blank=True, default=b"")
    network_fingerprint = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email_fingerprint", "event"], name="one_rsvp_per_email"
            ),
            models.CheckConstraint(
                condition=Q(state__in=RsvpState.values), name="rsvp_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["event", "state"], name="rsvp_event_state")]

    def __str__(self) -> str:
        return f"rsvp {self.pk} to {self.event_id} ({self.state})"
