"""Staff admin for campaigns and their texts."""

from django.contrib import admin

from hamseda.campaigns.models import Campaign, CampaignTranslation


class CampaignTranslationInline(admin.StackedInline):
    model = CampaignTranslation
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "organization", "hashtags", "is_public", "created_at"]
    list_filter = ["is_public", "organization"]
    list_select_related = ["organization"]
    search_fields = ["slug", "hashtags", "translations__name"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at"]
    inlines = [CampaignTranslationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description="name")
    def name(self, campaign: Campaign) -> str:
        text = campaign.text()
        return text.name if text else ""
