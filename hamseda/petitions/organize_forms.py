"""Forms of the organiser pages: a petition and its texts in each language."""

import secrets
from datetime import datetime
from io import BytesIO

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from hamseda.campaigns.models import Campaign
from hamseda.campaigns.partners import PartnerRefused, check_co_hosts, possible_co_hosts
from hamseda.petitions.models import DecisionMaker, Petition

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# A small file can still decode to a huge bitmap (a "decompression bomb"); 40 megapixels
# is more than any camera a campaign uses, and far below what exhausts the server.
MAX_IMAGE_PIXELS = 40_000_000
# The formats a browser shows everywhere, and what each is stored as. Everything else
# Pillow can read (TIFF, PSD, EPS, ...) is refused. A GIF is stored as its first frame.
IMAGE_FORMATS = {"JPEG": ("JPEG", "jpg"), "PNG": ("PNG", "png"), "WEBP": ("WEBP", "webp")}
IMAGE_FORMATS["GIF"] = IMAGE_FORMATS["PNG"]
MAX_GOAL = 100_000_000
MAX_NEW_TARGETS = 20


class PetitionImageField(forms.ImageField):
    """An image checked by size before Pillow reads it, then by format and dimensions.

    Django's ImageField already refuses anything Pillow cannot open and verify.
    """

    def to_python(self, data):
        if data and getattr(data, "size", 0) > MAX_IMAGE_BYTES:
            raise forms.ValidationError(
                _("The image is too large: at most 5 MB, please."), code="too_large"
            )
        image = super().to_python(data)
        if image is None:
            return None
        if image.image.format not in IMAGE_FORMATS:
            raise forms.ValidationError(
                _("Please upload a JPEG, PNG, WebP or GIF image."), code="format"
            )
        width, height = image.image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise forms.ValidationError(
                _("The image is too large: at most 40 megapixels, please."), code="too_many_pixels"
            )
        return image


def reencode_image(upload: UploadedFile) -> SimpleUploadedFile:
    """The uploaded image decoded and saved again, under a random name.

    Re-encoding drops metadata (EXIF can hold the GPS position and the camera of whoever
    took the photo, which must not be published for a human-rights campaign) and
    anything hidden after the image data; the random name drops the organiser's file
    name, which can say more than intended.
    """
    upload.seek(0)
    with Image.open(upload) as original:
        save_as, extension = IMAGE_FORMATS[original.format]
        image = ImageOps.exif_transpose(original)
        if save_as == "JPEG" and image.mode not in {"RGB", "L"}:
            image = image.convert("RGB")
        elif save_as == "PNG" and image.mode not in {"RGB", "RGBA", "L", "LA", "P"}:
            image = image.convert("RGBA")
        out = BytesIO()
        image.save(out, format=save_as, **({"quality": 88} if save_as == "JPEG" else {}))
    return SimpleUploadedFile(
        f"{secrets.token_hex(8)}.{extension}", out.getvalue(), content_type=f"image/{extension}"
    )


def reencoded_if_new(value) -> SimpleUploadedFile | None:
    """A form's image value re-encoded (reencode_image) if it is a new upload; None
    otherwise (nothing uploaded, the image already saved, or "clear" ticked), so each
    form decides what that means for it."""
    if isinstance(value, UploadedFile) and getattr(value, "image", None) is not None:
        try:
            return reencode_image(value)
        except (OSError, ValueError) as error:  # Pillow could verify but not convert it.
            raise forms.ValidationError(
                _("This image could not be read. Please save it as JPEG or PNG and try again.")
            ) from error
    return None


def campaign_label(campaign: Campaign) -> str:
    text = campaign.text()
    return f"{text.name} ({campaign.slug})" if text else campaign.slug


class PetitionForm(forms.ModelForm):
    default_language = forms.ChoiceField(label=_("Main language"), choices=settings.LANGUAGES)
    goal = forms.IntegerField(
        label=_("First goal"),
        min_value=1,
        max_value=MAX_GOAL,
        initial=100,
        help_text=_("The page shows the next round number above the signatures so far."),
    )
    closing_at = forms.DateTimeField(
        label=_("Closing date (optional, UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    image = PetitionImageField(
        label=_("Image"),
        required=False,
        help_text=_("JPEG, PNG, WebP or GIF, at most 5 MB. Photo metadata is removed."),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}
        ),
    )
    new_targets = forms.CharField(
        label=_("Add decision-makers"),
        help_text=_("One per line: name, then a comma and their position (optional)."),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = [
        "slug",
        "campaign",
        "default_language",
        "targets",
        "new_targets",
        "co_hosts",
        "goal",
        "closing_at",
        "image",
    ]

    class Meta:
        model = Petition
        fields = [
            "slug",
            "campaign",
            "default_language",
            "targets",
            "co_hosts",
            "goal",
            "closing_at",
            "image",
        ]
        labels = {
            "slug": _("Web address (slug)"),
            "campaign": _("Campaign"),
            "targets": _("Decision-makers"),
            "co_hosts": _("Co-hosts"),
        }
        help_texts = {
            "slug": _("Letters, digits and hyphens, e.g. ban-terror-accounts."),
        }
        widgets = {
            "targets": forms.CheckboxSelectMultiple,
            "co_hosts": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organization, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.now = now or timezone.now()
        self.fields["campaign"].queryset = Campaign.objects.filter(
            organization=organization
        ).prefetch_related("translations")
        self.fields["campaign"].label_from_instance = campaign_label
        self.fields["targets"].queryset = DecisionMaker.objects.filter(organization=organization)
        self.fields["targets"].required = False
        # Coalition partners of the organisation's campaigns; clean() checks the chosen
        # campaign (campaigns.partners).
        self.fields["co_hosts"].queryset = possible_co_hosts(organization)
        self.fields["co_hosts"].required = False
        self.fields["co_hosts"].help_text = _(
            "Partners of the campaign named on the page; signers may choose to hear from "
            "each. Add partners on the campaign's partners page."
        )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].lower()

    def clean(self):
        data = super().clean()
        try:
            check_co_hosts(data.get("campaign"), data.get("co_hosts") or [])
        except PartnerRefused as error:
            self.add_error("co_hosts", str(error))
        return data

    def clean_closing_at(self):
        closing_at = self.cleaned_data.get("closing_at")
        if closing_at and closing_at <= self.now:
            raise forms.ValidationError(_("The closing date must be in the future."))
        return closing_at

    def clean_image(self):
        image = self.cleaned_data.get("image")
        # A new upload is re-encoded; an image already saved (editing) is kept as is.
        return reencoded_if_new(image) or image

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
        if len(targets) > MAX_NEW_TARGETS:
            raise forms.ValidationError(_("Add at most 20 decision-makers at a time."))
        return targets


class LanguageTextForm(forms.Form):
    """Texts in one language (prefixed by it), filled in together or not at all: the
    petition's title, summary and story; an update's title and text."""

    together: tuple[str, ...] = ()
    together_message = ""

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, prefix=f"text-{language}", **kwargs)
        self.language = language
        self.language_name = dict(settings.LANGUAGES)[language]

    def is_filled(self) -> bool:
        return any(self.cleaned_data.get(f) for f in self.together)

    def clean(self):
        data = super().clean()
        if self.is_filled():
            for field in self.together:
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, self.together_message)
        return data


class PetitionTextForm(LanguageTextForm):
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
    together = ("title", "summary", "story")
    together_message = _("Fill in the title, summary and story together.")


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
