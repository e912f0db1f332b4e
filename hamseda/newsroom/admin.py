"""Staff admin for the newsroom. Staff may correct texts, but publishing, embargoes
and images go through the organisers' pages (newsroom.services): an image uploaded
here would skip the re-encoding that strips its metadata, so images are read-only."""

from django.contrib import admin

from hamseda.newsroom.models import (
    Author,
    AuthorTranslation,
    PressRelease,
    PressReleaseTranslation,
    Quote,
)


class AuthorTranslationInline(admin.StackedInline):
    model = AuthorTranslation
    extra = 0


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name"]
    readonly_fields = ["photo", "created_at"]
    inlines = [AuthorTranslationInline]


class PressReleaseTranslationInline(admin.StackedInline):
    model = PressReleaseTranslation
    extra = 0


class QuoteInline(admin.StackedInline):
    model = Quote
    extra = 0


@admin.register(PressRelease)
class PressReleaseAdmin(admin.ModelAdmin):
    list_display = ["slug", "campaign", "kind", "published_at", "embargo_until"]
    list_filter = ["kind", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["slug", "translations__title"]
    readonly_fields = [
        "campaign",
        "slug",
        "image",
        "embargo_until",
        "published_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [PressReleaseTranslationInline, QuoteInline]

    def has_add_permission(self, request) -> bool:
        return False  # New releases are written on the organisers' pages.
