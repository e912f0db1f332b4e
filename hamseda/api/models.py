"""Partner API keys, idempotency records of write requests, and webhooks (docs/api.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hamseda.orgs.models import Organization


class Scope(models.TextChoices):
    SIGN = "sign", _("Sign petitions")
    RSVP = "rsvp", _("RSVP to events")


class ApiKey(models.Model):
    """A partner organisation's key for the write API.

    The key is shown once when made ("hsk_<prefix>_<secret>"); the database keeps its
    prefix, to find the row, and the SHA-256 of the whole key, to check it.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    # Space-separated Scope values.
    scopes = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Requests a minute (sign and RSVP together).
    rate_per_minute = models.PositiveIntegerField(default=120)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class IdempotencyRecord(models.Model):
    """The answer to a write request sent with an `Idempotency-Key`, replayed when the
    same key comes again with the same request, refused with a different one.

    The answer body holds no personal data (a sign answer says "check your inbox" only),
    and the request is kept as its SHA-256. Deleted after 24 hours.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="one_idempotency_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age")]

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.key}"


class WebhookEvent(models.TextChoices):
    MILESTONE = "petition.milestone", _("A petition passed a milestone")
    OUTCOME = "petition.outcome", _("A petition was won or closed")
    RESPONSE = "petition.response", _("A decision-maker responded")


class WebhookSubscription(models.Model):
    """A partner's URL that is POSTed signed JSON when something happens to the
    petitions of its campaigns (its own, and those it is a coalition partner of)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    # Space-separated WebhookEvent values.
    events = models.CharField(max_length=200)
    # The signing secret, locked with the server key (vault.crypto.lock): it must be
    # read back to sign each payload. Shown once when made.
    locked_secret = models.BinaryField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    # Deliveries given up in a row; at 20 the subscription is switched off.
    failures_in_a_row = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.url

    @property
    def event_list(self) -> list[str]:
        return self.events.split()


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Given up")


class WebhookDelivery(models.Model):
    """One event for one subscription, retried with backoff until the partner answers
    2xx (docs/api.md, "Webhooks")."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    # A stable id sent as `Hamseda-Delivery`, so a partner can drop a repeat.
    event_id = models.CharField(max_length=64)
    payload = models.JSONField()
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="one_delivery_per_event"
            ),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="webhook_delivery_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.state})"
