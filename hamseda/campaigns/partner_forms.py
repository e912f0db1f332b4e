"""Forms of the coalition pages: adding a partner to a campaign, and changing one."""

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from hamseda.orgs.models import Organization
from hamseda.petitions.organize_forms import PetitionImageField, reencoded_if_new

MAX_POSITION = 1000


class PartnerDetailsForm(forms.Form):
    """How a partner is shown: link, description, logo, place in the list."""

    url = forms.URLField(
        label=_("Web site (optional)"),
        required=False,
        max_length=200,
        assume_scheme="https",
        # Only links a browser opens as a page: no javascript:, data: or ftp: links.
        validators=[URLValidator(schemes=["http", "https"])],
    )
    description = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    logo = PetitionImageField(
        label=_("Logo (optional)"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF, at most 5 MB. Photo metadata is removed."),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    position = forms.IntegerField(
        label=_("Position in the list"),
        min_value=0,
        max_value=MAX_POSITION,
        initial=0,
        required=False,
        help_text=_("Smaller numbers come first."),
    )

    def clean_logo(self):
        # As for a petition's image: re-encoded (metadata dropped), under a random name.
        return reencoded_if_new(self.cleaned_data.get("logo"))

    def clean_position(self) -> int:
        return self.cleaned_data.get("position") or 0

    def details(self) -> dict:
        data = self.cleaned_data
        return {
            "url": data["url"],
            "description": data["description"],
            "position": data["position"],
            "logo": data["logo"],
        }


class AddPartnerForm(PartnerDetailsForm):
    organization = forms.CharField(
        label=_("Partner organisation (its short name on this site)"),
        max_length=50,
        help_text=_("The partner must already have an organisation here, e.g. diaspora-voices."),
    )

    field_order = ["organization", "url", "description", "logo", "position"]

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_organization(self) -> Organization:
        slug = self.cleaned_data["organization"].strip().lower()
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise forms.ValidationError(
                _("There is no organisation “%(slug)s” on this site."), params={"slug": slug}
            )
        return organization


class EditPartnerForm(PartnerDetailsForm):
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def details(self) -> dict:
        return {**super().details(), "remove_logo": self.cleaned_data["remove_logo"]}
