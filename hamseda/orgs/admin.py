"""Staff admin for organisations and their members.

The sealing public key is shown but not editable: a new key pair comes from
`hamseda keys generate`, which writes the secret key to a file for the organisers.
"""

from django.contrib import admin

from hamseda.orgs.models import Membership, Organization
from hamseda.vault import crypto


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "key", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["public_key", "created_at"]
    inlines = [MembershipInline]

    @admin.display(description="sealing key id")
    def key(self, organization: Organization) -> str:
        return crypto.key_id(organization.public_key) if organization.public_key else "—"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__name", "organization__slug"]
    autocomplete_fields = ["user", "organization"]
