"""Staff admin for the outbox: read-only, and without the encrypted content.

A message's recipient and body exist only inside `locked` (encrypted, wiped once
delivered); the admin never shows it. Delivery state changes only in the worker
(mail.services.deliver), so nothing here can be added, changed or deleted.
"""

import re

from django.contrib import admin

from hamseda.mail.models import Mailout, MailoutRecipient, OutboundMessage, Undeliverable

# An SMTP error often quotes the recipient ("550 <name@example.org>: no such user").
EMAIL = re.compile(r"[^\s<>'\"(){}\[\],;:]+@[^\s<>'\"(){}\[\],;:]+")


def redact_addresses(text: str) -> str:
    return EMAIL.sub("…@…", text)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "attempts", "created_at", "next_attempt_at", "sent_at"]
    list_filter = ["state", "kind"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "kind",
        "state",
        "attempts",
        "error",
        "created_at",
        "next_attempt_at",
        "sent_at",
    ]
    readonly_fields = fields

    @admin.display(description="last error")
    def error(self, message: OutboundMessage) -> str:
        return redact_addresses(message.last_error)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Mail-outs change only through mail.mailouts (their pages and `hamseda mailout`)."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Mailout)
class MailoutAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "organization",
        "petition",
        "state",
        "total",
        "sent",
        "bounced",
        "failed",
        "skipped",
        "created_at",
        "finished_at",
    ]
    list_filter = ["state"]
    date_hierarchy = "created_at"
    fields = [
        "organization",
        "petition",
        "update",
        "response",
        "segment",
        "state",
        "created_at",
        "queued_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "error",
        "total",
        "sent",
        "bounced",
        "failed",
        "skipped",
    ]
    readonly_fields = fields

    @admin.display(description="last error")
    def error(self, mailout: Mailout) -> str:
        return redact_addresses(mailout.last_error)


@admin.register(MailoutRecipient)
class MailoutRecipientAdmin(ReadOnlyAdmin):
    # The signature id only: the sealed record and the fingerprint stay out of sight.
    list_display = ["id", "mailout_id", "signature_id", "state", "attempts", "sent_at"]
    list_filter = ["state"]
    fields = ["mailout_id", "signature_id", "state", "attempts", "claimed_at", "sent_at", "error"]
    readonly_fields = fields

    @admin.display(description="last error")
    def error(self, recipient: MailoutRecipient) -> str:
        return redact_addresses(recipient.last_error)


@admin.register(Undeliverable)
class UndeliverableAdmin(ReadOnlyAdmin):
    # A keyed fingerprint is not an address, but a prefix is all anyone needs to see.
    list_display = ["fingerprint", "status", "bounces", "first_bounced_at", "last_bounced_at"]
    # The row's URL would hold the whole fingerprint (it is the primary key).
    list_display_links = None
    fields = ["fingerprint", "status", "bounces", "first_bounced_at", "last_bounced_at"]
    readonly_fields = fields

    @admin.display(description="fingerprint")
    def fingerprint(self, undeliverable: Undeliverable) -> str:
        return undeliverable.email_fingerprint[:8] + "…"
