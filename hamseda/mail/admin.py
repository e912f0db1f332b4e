"""Staff admin for the outbox: read-only, and without the encrypted content.

A message's recipient and body exist only inside `locked` (encrypted, wiped once
delivered); the admin never shows it. Delivery state changes only in the worker
(mail.services.deliver), so nothing here can be added, changed or deleted.
"""

import re

from django.contrib import admin

from hamseda.mail.models import OutboundMessage

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
