"""Staff admin for pulse: reading what is stored, and little more. Posts, sources and
aggregates change through the services (ingest, fetch, moderation), which keep the
aggregate tables true and write the audit log; the admin cannot add or change them,
and never shows a source's token."""

from django.contrib import admin

from hamseda.pulse.models import ImportRun, Post, Pulse, Source


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Pulse)
class PulseAdmin(ReadOnly):
    list_display = ["campaign", "is_public", "show_wall", "milestones", "updated_at"]
    list_filter = ["is_public", "show_wall"]


@admin.register(Source)
class SourceAdmin(ReadOnly):
    list_display = [
        "campaign",
        "platform",
        "query",
        "base_url",
        "state",
        "last_fetched_at",
        "not_before",
        "posts_fetched",
    ]
    list_filter = ["platform", "state"]
    list_select_related = ["campaign"]
    # The locked token stays out of every page.
    exclude = ["locked_token"]


@admin.register(Post)
class PostAdmin(ReadOnly):
    list_display = ["platform", "author_handle", "created_at", "kind", "language", "hidden"]
    list_filter = ["platform", "kind", "hidden"]
    list_select_related = ["campaign"]
    search_fields = ["platform_id", "author_handle"]
    # Millions of rows: no full count for the paginator, no date drill-down query.
    show_full_result_count = False
    exclude = ["author_id"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnly):
    list_display = ["campaign", "file_name", "file_format", "state", "posts_read", "started_at"]
    list_filter = ["state", "file_format"]
