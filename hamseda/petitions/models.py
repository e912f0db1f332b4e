from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hamseda.campaigns.models import Campaign
from hamseda.languages import pick
from hamseda.orgs.models import Organization

# Goals a petition climbs through as it grows: reaching one shows the next.
GOAL_LADDER = [100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000]


def next_goal(count: int, minimum: int = 0) -> int:
    """The smallest goal on the ladder above `count` (and at least `minimum`)."""
    floor = max(count + 1, minimum)
    for goal in GOAL_LADDER:
        if goal >= floor:
            return goal
    # Past the ladder: the next whole million.
    return (floor // 1_000_000 + 1) * 1_000_000


class DecisionMaker(models.Model):
    """Whom a petition is addressed to: a person or a body, e.g. a company or its owner."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="decision_makers"
    )
    name = models.CharField(max_length=200)
    position = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}, {self.position}" if self.position else self.name


class PetitionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting moderation")
    REJECTED = "rejected", _("Rejected")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    WON = "won", _("Won")


class Petition(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="petitions"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="petitions", null=True, blank=True
    )
    slug = models.SlugField(unique=True, max_length=80)
    default_language = models.CharField(max_length=8, default="en")
    image = models.ImageField(upload_to="petitions/", blank=True)
    targets = models.ManyToManyField(DecisionMaker, related_name="petitions", blank=True)
    # The organiser's goal; the page shows the next step of GOAL_LADDER at or above it.
    goal = models.PositiveIntegerField(default=100)
    closing_at = models.DateTimeField(null=True, blank=True)

    state = models.CharField(
        max_length=16, choices=PetitionState.choices, default=PetitionState.DRAFT
    )
    rejection_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    # When signing ended: set by close_petition(), and by mark_won() if it was still
    # open. The retention period (vault.retention) runs from here.
    closed_at = models.DateTimeField(null=True, blank=True)
    won_at = models.DateTimeField(null=True, blank=True)
    # Retention (PRIVACY.md rule 8, vault.retention): when the organisers were warned of
    # the coming purge, and when the signatures' personal data was deleted. A purged
    # petition keeps its counts, which can then no longer be recounted.
    retention_warned_at = models.DateTimeField(null=True, blank=True)
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)

    # Denormalised counters, kept by counting.count_confirmation() and repaired by
    # `hamseda recount`. Only validated signatures count.
    signature_count = models.PositiveIntegerField(default=0)
    invalidated_count = models.PositiveIntegerField(default=0)
    # Integrity limits for this petition, overriding the defaults of integrity.rules
    # (docs/integrity.md), e.g. {"per_network_10min": 30}. Empty: the defaults.
    limits = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-opened_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=PetitionState.values), name="petition_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", args=[self.slug])

    def text(self) -> "PetitionTranslation | None":
        return pick({t.language: t for t in self.translations.all()}, self.default_language)

    @property
    def languages(self) -> list[str]:
        return [t.language for t in self.translations.all()]

    @property
    def current_goal(self) -> int:
        return next_goal(self.signature_count, self.goal)

    @property
    def progress_percent(self) -> int:
        return min(100, self.signature_count * 100 // max(1, self.current_goal))

    def is_open(self, now: datetime) -> bool:
        if self.state != PetitionState.OPEN:
            return False
        return self.closing_at is None or now < self.closing_at

    @property
    def is_public(self) -> bool:
        return self.state in {PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON}


class PetitionTranslation(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500)
    # Markdown; rendered through a sanitiser (petitions.markdown).
    story = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "language"], name="one_petition_text")
        ]

    def __str__(self) -> str:
        return self.title


class SignatureState(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    VALIDATED = "validated", _("Confirmed")
    INVALIDATED = "invalidated", _("Invalidated")


class Signature(models.Model):
    """One person's signature. Personal data only ever sealed (PRIVACY.md rule 1)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="signatures")
    state = models.CharField(
        max_length=16, choices=SignatureState.choices, default=SignatureState.PENDING
    )
    # HMAC of the normalised e-mail; the unique constraint below is what makes
    # "one signature per e-mail per petition" hold under concurrent requests.
    email_fingerprint = models.CharField(max_length=64)
    # SHA-256 of the confirmation token mailed to the signer; the token itself is
    # never stored, so a stolen database cannot confirm anything.
    token_hash = models.CharField(max_length=64, unique=True)
    token_sent_at = models.DateTimeField()
    sealed = models.BinaryField()
    key_id = models.CharField(max_length=16)
    # Not personal on its own, and counted publicly by country.
    country = models.CharField(max_length=2)
    # Set only when the signer ticked "show my first name publicly" (rule 5).
    public_name = models.CharField(max_length=100, blank=True)
    keep_updated = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    validated_at = models.DateTimeField(null=True, blank=True)
    # For integrity trends and bulk invalidation (docs/integrity.md): the domain of the
    # e-mail address (lower-case; "gmail.com" says little about a person, and moderators
    # must see which domains a flood comes from), and the daily-rotating keyed network
    # fingerprint of the signer (network.client_fingerprint; never the address), blanked
    # after HAMSEDA_NETWORK_FINGERPRINT_DAYS (PRIVACY.md rule 4).
    email_domain = models.CharField(max_length=253, blank=True)
    network_fingerprint = models.CharField(max_length=16, blank=True)
    # The bulk invalidation that invalidated this signature, so it can be undone exactly.
    invalidation = models.ForeignKey(
        "integrity.Invalidation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures",
    )
    # Where the signer came from (petitions.sources, docs/sharing.md): the channel of
    # the link they followed ("" direct, "other" unknown or malformed), their sharer
    # generation (0 unless they came through another signer's share code, then that
    # signer's generation + 1) and the random part of that code, so organisers see what
    # one anonymous sharer brought. A signer's own code is never stored: no row links a
    # recruit to the person who recruited them.
    source_channel = models.CharField(max_length=16, blank=True)
    source_generation = models.PositiveSmallIntegerField(default=0)
    source_code = models.CharField(max_length=8, blank=True)

    class Meta:
        constraints = [
            # Fingerprint first: the index behind the constraint also finds every
            # signature of one address on all petitions, which erasure by e-mail address
            # (vault.erasure) does from a public form, without a scan or another index.
            models.UniqueConstraint(
                fields=["email_fingerprint", "petition"], name="one_signature_per_email"
            ),
            models.CheckConstraint(
                condition=Q(state__in=SignatureState.values), name="signature_state_valid"
            ),
        ]
        indexes = [
            # Recent public signers, and counting pending signatures for organisers.
            models.Index(fields=["petition", "state", "validated_at"], name="sig_petition_state"),
            # Invalidation by domain, by network fingerprint, by time (integrity).
            models.Index(fields=["petition", "email_domain"], name="sig_petition_domain"),
            models.Index(fields=["petition", "network_fingerprint"], name="sig_petition_network"),
            models.Index(fields=["petition", "created_at"], name="sig_petition_created"),
            # The organisers' sources table: one GROUP BY over this index alone gives
            # signatures by channel and by generation.
            models.Index(
                fields=["petition", "source_channel", "source_generation", "state"],
                name="sig_petition_source",
            ),
            # Top anonymous sharers, from the index alone; most signatures have no
            # sharer code, so the index holds only those that do.
            models.Index(
                fields=["petition", "source_code", "state"],
                name="sig_petition_sharer",
                condition=~Q(source_code=""),
            ),
        ]

    def __str__(self) -> str:
        return f"signature {self.pk} on {self.petition_id} ({self.state})"


class CountryCount(models.Model):
    """Validated signatures of one petition from one country."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="country_counts")
    country = models.CharField(max_length=2)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "country"], name="one_country_count")
        ]
        ordering = ["-count", "country"]

    def __str__(self) -> str:
        return f"{self.country}: {self.count}"


class DailyCount(models.Model):
    """Validated signatures of one petition confirmed on one UTC day."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="daily_counts")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["petition", "day"], name="one_daily_count")]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"
