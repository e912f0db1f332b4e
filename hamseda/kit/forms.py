"""Forms of the kit: a campaign's design (organisers), the profile-picture frame (anyone)."""

import io
import secrets

from django import forms
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image

from hamseda.campaigns.models import colour as colour_validator
from hamseda.kit import layouts
from hamseda.kit.design import LAYOUTS
from hamseda.petitions.organize_forms import IMAGE_FORMATS, PetitionImageField, reencode_image

# Stored design files are scaled down to this many pixels on their longer side: every
# kit image is drawn from them, and a 40-megapixel background would make each render
# decode 40 megapixels. 2400 px covers the largest kit image (1600 × 900, and a story's
# 1920 px height) with room to crop.
MAX_LOGO_SIDE = 1200
MAX_BACKGROUND_SIDE = 2400
# A file uploaded with "Preview" is kept this long for the "Save" that follows, since a
# browser does not send a chosen file twice.
PENDING_SECONDS = 3600
# WCAG 2 contrast for large text (the kit's text is large): below this, warn.
MIN_CONTRAST = 3.0

POSITIONS = {
    "centre": (0.5, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
}


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two "#rrggbb" colours, from 1 to 21 (the renderers'
    own measure, kit.layouts.contrast)."""
    return layouts.contrast(
        layouts.parse_colour(first, layouts.BLACK), layouts.parse_colour(second, layouts.BLACK)
    )


def _fit(upload: UploadedFile, max_side: int) -> SimpleUploadedFile:
    """The upload re-encoded (metadata stripped: petitions.organize_forms.reencode_image),
    then scaled down if its longer side exceeds `max_side`."""
    clean = reencode_image(upload)
    with Image.open(io.BytesIO(clean.read())) as image:
        if max(image.size) <= max_side:
            clean.seek(0)
            return clean
        save_as, extension = IMAGE_FORMATS[image.format]
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format=save_as, **({"quality": 88} if save_as == "JPEG" else {}))
    return SimpleUploadedFile(clean.name, out.getvalue(), content_type=f"image/{extension}")


class DesignImageField(PetitionImageField):
    """The petition image's checks (size, format, pixels, Pillow's verification)."""

    def __init__(self, *, max_side: int, **kwargs):
        self.max_side = max_side
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        )
        super().__init__(**kwargs)


class DesignForm(forms.Form):
    """A campaign's kit design. Not a ModelForm: the view renders previews from the
    unsaved values, and only kit.services.update_design() changes the campaign."""

    colour = forms.CharField(
        label=_("Main colour"),
        max_length=7,
        validators=[colour_validator],
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("The background of the images and posters."),
    )
    accent_colour = forms.CharField(
        label=_("Accent colour"),
        max_length=7,
        validators=[colour_validator],
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Hashtags, the count and other highlights."),
    )
    kit_layout = forms.ChoiceField(
        label=_("Layout"), choices=list(LAYOUTS.items()), widget=forms.RadioSelect
    )
    logo = DesignImageField(
        label=_("Logo"),
        max_side=MAX_LOGO_SIDE,
        help_text=_(
            "PNG (may be transparent), JPEG or WebP, at most 5 MB. Photo metadata is removed."
        ),
    )
    background = DesignImageField(
        label=_("Background image"),
        max_side=MAX_BACKGROUND_SIDE,
        help_text=_(
            "For the Photo layout: a photo behind the text, darkened. JPEG, PNG or WebP, "
            "at most 5 MB. Photo metadata is removed."
        ),
    )
    eastern_digits = forms.BooleanField(
        label=_("Eastern Arabic digits (۱۲۳) on Dari and Pashto images"), required=False
    )
    # Set after a preview with a new file: the file, kept for the "Save" that follows.
    pending_logo = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    pending_background = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, campaign, user, **kwargs):
        initial = {
            "colour": campaign.colour,
            "accent_colour": campaign.accent_colour,
            "kit_layout": campaign.kit_layout if campaign.kit_layout in LAYOUTS else "bold",
            "logo": campaign.logo,
            "background": campaign.background,
            "eastern_digits": campaign.eastern_digits,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.campaign = campaign
        self.user = user

    def clean_colour(self) -> str:
        return self.cleaned_data["colour"].lower()

    def clean_accent_colour(self) -> str:
        return self.cleaned_data["accent_colour"].lower()

    def _clean_image(self, name: str):
        value = self.cleaned_data.get(name)
        if isinstance(value, UploadedFile) and getattr(value, "image", None) is not None:
            try:
                return _fit(value, self.fields[name].max_side)
            except (OSError, ValueError, Image.DecompressionBombError) as error:
                raise forms.ValidationError(
                    _("This image could not be read. Please save it as JPEG or PNG and try again.")
                ) from error
        return value

    def clean_logo(self):
        return self._clean_image("logo")

    def clean_background(self):
        return self._clean_image("background")

    # --- files between "Preview" and "Save" ---------------------------------------------

    def _pending_key(self, token: str) -> str:
        return f"kit:pending:{self.campaign.pk}:{self.user.pk}:{token}"

    def keep_pending(self) -> None:
        """After a valid preview: keep each new file in the cache and put its token in
        the form, so that "Save" can use it without the organiser choosing it again."""
        for name in ("logo", "background"):
            value = self.cleaned_data.get(name)
            if isinstance(value, UploadedFile):
                token = secrets.token_hex(16)
                value.seek(0)
                cache.set(self._pending_key(token), (value.name, value.read()), PENDING_SECONDS)
                value.seek(0)
                self.data = self.data.copy()
                self.data[f"pending_{name}"] = token

    def _pending(self, name: str) -> UploadedFile | None:
        token = self.cleaned_data.get(f"pending_{name}") or ""
        if len(token) != 32 or not all(c in "0123456789abcdef" for c in token):
            return None
        kept = cache.get(self._pending_key(token))
        if kept is None:
            return None
        filename, data = kept
        return SimpleUploadedFile(filename, data, content_type=f"image/{filename.split('.')[-1]}")

    def file_choice(self, name: str):
        """What to do with `name` ("logo", "background"): a new file, None to remove the
        stored one, or "keep"."""
        value = self.cleaned_data.get(name)
        if value is False:  # The "clear" box is ticked.
            return None
        if isinstance(value, UploadedFile):
            return value
        pending = self._pending(name)
        return pending if pending is not None else "keep"

    def warnings(self) -> list[str]:
        """Advice that does not stop saving: colours too close to read well."""
        colour, accent = self.cleaned_data["colour"], self.cleaned_data["accent_colour"]
        found = []
        if contrast(colour, accent) < MIN_CONTRAST:
            found.append(
                _(
                    "The accent colour is hard to tell apart from the main colour "
                    "(contrast %(ratio).1f:1; 3:1 or more reads well). The images will use "
                    "a lighter or darker shade of it where it must stay readable."
                )
                % {"ratio": contrast(colour, accent)}
            )
        light = contrast(colour, "#ffffff") < MIN_CONTRAST
        if self.cleaned_data["kit_layout"] == "minimal" and light:
            found.append(
                _(
                    "The main colour is light (contrast %(ratio).1f:1 with white): on the "
                    "Minimal layout's light background the images will use a darker shade "
                    "of it for text."
                )
                % {"ratio": contrast(colour, "#ffffff")}
            )
        return found


class FrameForm(forms.Form):
    """A photo for a profile picture in the campaign's frame, and how to crop it.

    Without JavaScript the crop is a position and a zoom. kit-frame.js lets a reader
    drag and zoom instead, and fills crop_x and crop_y: the top-left corner of the
    square, as fractions of the upright photo's width and height (kit.frame's crop)."""

    photo = forms.FileField(
        label=_("Your photo"),
        help_text=_("JPEG, PNG or WebP. It is framed in memory and never stored."),
    )
    position = forms.ChoiceField(
        label=_("Which part of the photo"),
        choices=[
            ("centre", _("Centre")),
            ("top", _("Top")),
            ("bottom", _("Bottom")),
            ("left", _("Left")),
            ("right", _("Right")),
        ],
        initial="centre",
        required=False,
    )
    zoom = forms.IntegerField(
        label=_("Zoom (%)"), min_value=100, max_value=200, initial=100, required=False
    )
    crop_x = forms.FloatField(required=False, min_value=0, max_value=1, widget=forms.HiddenInput)
    crop_y = forms.FloatField(required=False, min_value=0, max_value=1, widget=forms.HiddenInput)

    def crop(self, upright_size) -> tuple[float, float, float] | None:
        """kit.frame's crop (x, y, side), or None for the largest centred square.
        `upright_size()` gives the photo's (width, height) when a position needs it."""
        zoom = (self.cleaned_data.get("zoom") or 100) / 100
        x, y = self.cleaned_data.get("crop_x"), self.cleaned_data.get("crop_y")
        if x is not None and y is not None:
            return (x, y, 1 / zoom)
        position = self.cleaned_data.get("position") or "centre"
        if position == "centre" and zoom == 1:
            return None
        width, height = upright_size()
        return crop_square(width, height, POSITIONS[position], zoom)


def crop_square(
    width: int, height: int, centre: tuple[float, float], zoom: float
) -> tuple[float, float, float]:
    """The square to keep of a `width` × `height` photo, as kit.frame takes it:
    (x, y, side), the top-left corner as fractions of the width and height and the side
    as a fraction of the shorter edge. `centre` is where the square's middle should be
    (fractions); the square is moved inside the photo where it would stick out. At zoom
    1 the square is as large as the shorter edge; zoom 2 keeps half of it."""
    zoom = min(2.0, max(1.0, zoom))
    short = min(width, height)
    side_px = short / zoom
    left = min(max(centre[0] * width - side_px / 2, 0), width - side_px)
    top = min(max(centre[1] * height - side_px / 2, 0), height - side_px)
    return left / width, top / height, side_px / short
