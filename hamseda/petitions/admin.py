"""Staff admin for decision-makers, petitions and (read-only) signatures.

Staff never set a state or a count by hand: states change through the organiser and
moderator pages (petitions.services), counts through confirmations and `hamseda
recount`. Signatures show no sealed data, fingerprint or token hash, and no public
name: a first name next to a time precise to the second is what PRIVACY.md rule 5
forbids.
"""

from django.contrib import admin

from hamseda.petitions.models import (
    CountryCount,
    DecisionMaker,
    Petition,
    PetitionState,
    PetitionTranslation,
    Signature,
)

EDITABLE_STATES = {PetitionState.DRAFT, PetitionState.REJECTED}
PETITION_CONTENT = [
    "organization",
    "campaign",
    "slug",
    "default_language",
    "image",
    "targets",
    "goal",
    "closing_at",
]
PETITION_RECORD = [
    "state",
    "rejection_reason",
    "signature_count",
    "invalidated_count",
    "created_by",
    "created_at",
    "submitted_at",
    "opened_at",
    "closed_at",
    "won_at",
]


class ReadOnlyMixin:
    """Viewable by staff with the view permission; never added, changed or deleted."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _editable(petition: Petition | None) -> bool:
    """People signed what an open petition says: only drafts and rejected ones change."""
    return petition is None or petition.state in EDITABLE_STATES


@admin.register(DecisionMaker)
class DecisionMakerAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "organization"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "position"]
    autocomplete_fields = ["organization"]


class PetitionTranslationInline(admin.StackedInline):
    model = PetitionTranslation
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)


class CountryCountInline(ReadOnlyMixin, admin.TabularInline):
    model = CountryCount
    fields = readonly_fields = ["country", "count"]
    extra = 0
    verbose_name_plural = "confirmed signatures by country (repair with `hamseda recount`)"


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "title",
        "organization",
        "state",
        "signature_count",
        "invalidated_count",
        "opened_at",
    ]
    list_filter = ["state", "organization"]
    list_select_related = ["organization"]
    search_fields = ["slug", "translations__title"]
    autocomplete_fields = ["organization", "campaign", "targets"]
    fields = PETITION_CONTENT + PETITION_RECORD
    inlines = [PetitionTranslationInline, CountryCountInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    def get_readonly_fields(self, request, obj=None):
        return PETITION_RECORD if _editable(obj) else PETITION_CONTENT + PETITION_RECORD

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting a petition deletes its signatures; that is the retention purge's job.
        if obj is not None and (obj.is_public or obj.signatures.exists()):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="title")
    def title(self, petition: Petition) -> str:
        text = petition.text()
        return text.title if text else ""


@admin.register(Signature)
class SignatureAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "petition", "state", "country", "created_at", "validated_at"]
    list_filter = ["state"]
    list_select_related = ["petition"]
    search_fields = ["petition__slug"]
    show_full_result_count = False
    # Explicit, so that a new personal field is never shown by default.
    fields = readonly_fields = [
        "petition",
        "state",
        "country",
        "keep_updated",
        "key_id",
        "created_at",
        "token_sent_at",
        "validated_at",
    ]
