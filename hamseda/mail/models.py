from django.conf import settings
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


class MailoutState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    # Recipients listed; waiting for someone to start it with the key.
    QUEUED = "queued", _("Ready to send")
    RUNNING = "running", _("Sending")
    PAUSED = "paused", _("Paused")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Mailout(models.Model):
    """An update or a decision-maker's response mailed to a petition's consenting
    signers (mail.mailouts).

    Addresses are sealed: only a process holding the organisation's secret key, given
    for this job and kept in memory (PRIVACY.md rule 1), can send it. The row holds the
    choice of recipients and the progress; one MailoutRecipient row per signer makes
    sure nobody gets it twice, across pauses and restarts.
    """

    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, related_name="mailouts"
    )
    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="mailouts"
    )
    # What is mailed: exactly one of an update or a response.
    update = models.ForeignKey(
        "petitions.Update", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    response = models.ForeignKey(
        "petitions.Response", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who gets it, among the confirmed signers who ticked "keep me updated":
    # {"countries": ["AF", …], "languages": ["fa", …], "signed_from": "2026-01-01",
    #  "signed_until": "2026-02-01"} — every key optional, empty means everybody.
    segment = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=16, choices=MailoutState.choices, default=MailoutState.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The sending process writes a heartbeat; a RUNNING mail-out whose heartbeat is old
    # lost its process (killed, server restarted) and may be resumed with the key.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Why the last run stopped, when it was not paused by a person or finished (no
    # address in it, ever).
    last_error = models.CharField(max_length=300, blank=True)
    # Progress, kept by the sender per batch; `hamseda recount` repairs them from the
    # recipient rows.
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=MailoutState.values), name="mailout_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(update__isnull=False, response__isnull=True)
                | Q(update__isnull=True, response__isnull=False),
                name="mailout_one_content",
            ),
            # One sending process per organisation at a time: its send rate is one
            # budget, and "started twice" cannot send twice.
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(state="running"),
                name="one_running_mailout",
            ),
        ]

    def __str__(self) -> str:
        return f"mail-out {self.pk} ({self.state})"


class RecipientState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    # Claimed by a sending process, mail not yet confirmed sent.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    BOUNCED = "bounced", _("Bounced")
    FAILED = "failed", _("Failed")
    # Unsubscribed, withdrawn or known undeliverable by the time their turn came.
    SKIPPED = "skipped", _("Skipped")


class MailoutRecipient(models.Model):
    """One signer of a mail-out. No address: the signature's sealed record has it."""

    mailout = models.ForeignKey(Mailout, on_delete=models.CASCADE, related_name="recipients")
    # SET_NULL: a signer who withdraws during a mail-out disappears; the row stays so
    # the counts add up, and is skipped.
    signature = models.ForeignKey(
        "petitions.Signature", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(
        max_length=8, choices=RecipientState.choices, default=RecipientState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=120, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailout", "signature"], name="one_recipient_per_signature"
            ),
            models.CheckConstraint(
                condition=Q(state__in=RecipientState.values), name="recipient_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["mailout", "state", "id"], name="recipient_due")]

    def __str__(self) -> str:
        return f"recipient {self.pk} of mail-out {self.mailout_id} ({self.state})"


class Undeliverable(models.Model):
    """An address that bounced permanently, known only by its keyed fingerprint (the
    same as Signature.email_fingerprint, vault.crypto), so no mail-out tries it again
    and nothing holds it in plain text."""

    email_fingerprint = models.CharField(max_length=64, primary_key=True)
    # The SMTP or DSN status that said so, e.g. "550" or "5.1.1".
    status = models.CharField(max_length=16, blank=True)
    first_bounced_at = models.DateTimeField()
    last_bounced_at = models.DateTimeField()
    bounces = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"undeliverable {self.email_fingerprint[:8]}…"
