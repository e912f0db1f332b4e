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
    # Where response requests go (petitions.responses): an official contact address,
    # not a supporter's, so it is kept in the clear. Blank: responses are recorded by
    # the organisers instead.
    email = models.EmailField(blank=True)
    # The language response requests are written in.
    language = models.CharField(max_length=8, default="en")

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
    # Coalition partners co-hosting the petition (campaigns.CampaignPartner): named on
    # the page, and signers may agree to hear from each (SignatureShare).
    co_hosts = models.ManyToManyField(
        "orgs.Organization", related_name="cohosted_petitions", blank=True
    )
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
    # The organisers' closing statement once the petition is won or closed
    # (petitions.outcomes), shown prominently on the page. Markdown, sanitised.
    closing_statement = models.TextField(blank=True)

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
    # "Keep me updated": consent to mail-outs about this petition (mail.mailouts);
    # cleared by the one-click unsubscribe link in every such mail.
    keep_updated = models.BooleanField(default=False)
    # The language the signer used on the page ("en", "fa", "ps"): mail-outs reach them
    # in it and organisers can choose recipients by it. Like the country, it is a
    # counted category, not an identifier.
    language = models.CharField(max_length=8, blank=True)
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


class SignatureShare(models.Model):
    """A signer's explicit consent to hear from a co-hosting partner, with their
    personal data sealed a second time, to that partner's key: the partner can open it
    with its own key, and nobody else's consent is implied (PRIVACY.md rule 1).
    Deleted with the signature (withdrawal, erasure, retention)."""

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="shares")
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="signature_shares"
    )
    sealed = models.BinaryField()
    key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["signature", "organization"], name="one_share")
        ]

    def __str__(self) -> str:
        return f"signature {self.signature_id} shared with {self.organization_id}"


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


class Update(models.Model):
    """News the organisers post on a petition: shown on its page, and mailed to the
    signers who asked to be kept updated (mail.mailouts). Texts per language in
    UpdateTranslation; `published_at` is None while it is a draft."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="updates")
    # Optional picture, re-encoded like the petition image (metadata dropped).
    image = models.ImageField(upload_to="updates/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        indexes = [models.Index(fields=["petition", "published_at"], name="update_petition")]

    def __str__(self) -> str:
        return f"update {self.pk} on {self.petition_id}"

    def text(self) -> "UpdateTranslation | None":
        return pick(
            {t.language: t for t in self.translations.all()}, self.petition.default_language
        )

    @property
    def languages(self) -> list[str]:
        return [t.language for t in self.translations.all()]


class UpdateTranslation(models.Model):
    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    # Markdown; rendered through the same sanitiser as stories (petitions.markdown).
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["update", "language"], name="one_update_text")
        ]

    def __str__(self) -> str:
        return self.title


class ThresholdAction(models.TextChoices):
    # Only shown on the page and recorded when reached.
    RECORD = "record", _("Show and record it")
    # Send each decision-maker with an e-mail address a private response link.
    ASK_RESPONSE = "ask_response", _("Ask the decision-makers for a response")
    # Mail a list of addresses (a press list, partners) that the milestone was reached.
    NOTIFY = "notify", _("Notify a list of addresses")


class Threshold(models.Model):
    """A milestone of a petition that triggers an action once when reached
    (petitions.thresholds): e.g. at 10,000 ask the decision-maker for a response."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="thresholds")
    count = models.PositiveIntegerField()
    action = models.CharField(
        max_length=16, choices=ThresholdAction.choices, default=ThresholdAction.RECORD
    )
    # For NOTIFY: addresses one per line (press contacts, not supporters).
    notify_addresses = models.TextField(blank=True)
    # What the page says will happen, in the petition's default language, e.g.
    # "ExampleSocial will be asked to respond". Optional.
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    # Set once, by a conditional UPDATE, when the confirmed count first reached `count`;
    # the action runs in that same transaction's on_commit, so it runs once.
    reached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["count", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "count", "action"], name="one_threshold_action"
            ),
            models.CheckConstraint(
                condition=Q(action__in=ThresholdAction.values), name="threshold_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} on {self.petition_id} ({self.action})"


class ResponseRequest(models.Model):
    """A private link that lets one decision-maker respond to one petition
    (petitions.responses). Only the SHA-256 of the token is kept; asking again replaces
    it, so an older link stops working. Used once."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="response_requests"
    )
    decision_maker = models.ForeignKey(
        DecisionMaker, on_delete=models.CASCADE, related_name="response_requests"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "decision_maker"], name="one_response_request"
            )
        ]

    def __str__(self) -> str:
        return f"response request to {self.decision_maker_id} on {self.petition_id}"


class ResponseSource(models.TextChoices):
    LINK = "link", _("Through the response link")
    OFFLINE = "offline", _("Recorded by the organisers")


class Response(models.Model):
    """A decision-maker's answer to a petition, published on its page with its date."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="responses")
    decision_maker = models.ForeignKey(
        DecisionMaker, on_delete=models.PROTECT, related_name="responses"
    )
    language = models.CharField(max_length=8, default="en")
    # Markdown, sanitised when shown (petitions.markdown).
    body = models.TextField()
    responded_on = models.DateField()
    source = models.CharField(max_length=8, choices=ResponseSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    # Organisers may take a response off the page (e.g. abuse through a leaked link).
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["-responded_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=ResponseSource.values), name="response_source_valid"
            )
        ]

    def __str__(self) -> str:
        return f"response of {self.decision_maker_id} on {self.petition_id}"
