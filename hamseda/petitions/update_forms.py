"""Forms of the organisers' update pages: the picture, and a title and text per language."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hamseda.petitions.organize_forms import (
    LanguageTextForm,
    PetitionImageField,
    reencoded_if_new,
)
from hamseda.petitions.updates import BODY_MAX, TITLE_MAX


class UpdateForm(forms.Form):
    image = PetitionImageField(
        label=_("Picture (optional)"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF, at most 5 MB. Photo metadata is removed."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
    )

    def clean_image(self):
        """A new upload re-encoded (metadata dropped); False when the organiser ticked
        "clear"; None to keep what is there."""
        image = self.cleaned_data.get("image")
        return reencoded_if_new(image) or (False if image is False else None)


class UpdateTextForm(LanguageTextForm):
    """The title and text of an update in one language; both or neither."""

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX, required=False)
    body = forms.CharField(
        label=_("Text (Markdown)"),
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    together = ("title", "body")
    together_message = _("Fill in the title and the text together.")
