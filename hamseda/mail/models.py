from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MessageState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundMessage(models.Model):
    """One e-mail waiting for delivery: the outbox.

    The recipient and body are personal data, so they are kept only in `locked`,
    encrypted with a key derived from the server secret, and wiped as soon as the
    message is delivered or given up (PRIVACY.md rule 3).
    """

    kind = models.CharField(max_length=40)
    state = models.CharField(
        max_length=16, choices=MessageState.choices, default=MessageState.QUEUED
    )
    locked = models.BinaryField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="outbox_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=MessageState.values), name="message_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} message {self.pk} ({self.state})"
