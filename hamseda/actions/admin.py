"""Staff admin for days of action and events: read-only.

States, times and counts change only through the organiser pages (actions.services),
which tell attendees about changes; RSVPs are not shown at all (sealed data,
fingerprints and locked addresses are nobody's business in the admin).
"""

from django.contrib import admin

from hamseda.actions.models import DayOfAction, Event


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DayOfAction)
class DayOfActionAdmin(ReadOnly):
    list_display = ["slug", "campaign", "date", "state"]
    list_filter = ["state"]


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ["slug", "day", "city", "country", "starts_at", "state", "attendee_count"]
    list_filter = ["state", "country"]
    exclude = ["sequence"]
