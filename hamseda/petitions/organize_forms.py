"""Forms of the organiser pages: a petition and its texts in each language."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from hamseda.campaigns.models import Campaign
from hamseda.petitions.models import DecisionMaker, Petition

MAX_IMAGE_BYTES = 5 * 1024 * 1024


class PetitionForm(forms.ModelForm):
    new_targets = forms.CharField(
        label=_("Add decision-makers"),
        help_text=_("One per line: name, then a comma and their position (optional)."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Petition
        fields = ["slug", "campaign", "default_language", "targets", "goal", "closing_at", "image"]
        labels = {
            "slug": _("Web address (slug)"),
            "campaign": _("Campaign"),
            "default_language": _("Main language"),
            "targets": _("Decision-makers"),
            "goal": _("First goal"),
            "closing_at": _("Closing date (optional)"),
            "image": _("Image"),
        }
        widgets = {
            "closing_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "targets": forms.CheckboxSelectMultiple,
            "default_language": forms.Select(choices=settings.LANGUAGES),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["campaign"].queryset = Campaign.objects.filter(organization=organization)
        self.fields["targets"].queryset = DecisionMaker.objects.filter(organization=organization)
        self.fields["targets"].required = False
        self.fields["goal"].min_value = 1
        self.fields["goal"].widget.attrs["min"] = 1

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and getattr(image, "size", 0) > MAX_IMAGE_BYTES:
            raise forms.ValidationError(_("The image is too large: at most 5 MB, please."))
        return image

    def clean_new_targets(self) -> list[tuple[str, str]]:
        targets = []
        for line in self.cleaned_data["new_targets"].splitlines():
            name, _sep, position = line.partition(",")
            if name.strip():
                if len(name.strip()) > 200 or len(position.strip()) > 200:
                    raise forms.ValidationError(
                        _("Each name and position: 200 characters at most.")
                    )
                targets.append((name.strip(), position.strip()))
        return targets


class PetitionTextForm(forms.Form):
    """Title, summary and story in one language; required in the main language only."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    story = forms.CharField(
        label=_("Story (Markdown)"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, prefix=f"text-{language}", **kwargs)
        self.language = language
        self.language_name = dict(settings.LANGUAGES)[language]

    def is_filled(self) -> bool:
        return any(self.cleaned_data.get(f) for f in ("title", "summary", "story"))

    def clean(self):
        data = super().clean()
        if self.is_filled():
            for field in ("title", "summary", "story"):
                if not data.get(field):
                    self.add_error(field, _("Fill in the title, summary and story together."))
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
