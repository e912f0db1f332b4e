"""Forms of the organisers' newsroom pages: a release (settings, texts per language,
quotes) and an author (name, photo, role and biography per language)."""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hamseda.newsroom import services
from hamseda.newsroom.models import Author, ReleaseKind
from hamseda.petitions.organize_forms import LanguageTextForm, PetitionImageField, reencoded_if_new

# An embargo protects news for hours or days; one further ahead than this is a typo
# (a wrong year), and would hide a "published" release for good.
MAX_EMBARGO_AHEAD = timedelta(days=366)
IMAGE_HELP = _("JPEG, PNG, WebP or GIF, at most 5 MB. Photo metadata is removed.")
IMAGE_ACCEPT = {"accept": "image/jpeg,image/png,image/webp,image/gif"}


@lru_cache(maxsize=1)
def zone_choices() -> list[tuple[str, str]]:
    return [("UTC", "UTC")] + [(zone, zone) for zone in sorted(available_timezones() - {"UTC"})]


def _clean_upload(image):
    """A new upload re-encoded (metadata dropped, organize_forms.reencoded_if_new);
    False when the organiser ticked "clear"; None to keep what is there."""
    return reencoded_if_new(image) or (False if image is False else None)


class ReleaseForm(forms.Form):
    slug = forms.SlugField(
        label=_("Web address (slug)"),
        max_length=services.SLUG_MAX,
        help_text=_("Letters, digits and hyphens, e.g. protests-in-three-cities."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ReleaseKind.choices)
    author = forms.ModelChoiceField(
        label=_("Author"), queryset=Author.objects.none(), required=False
    )
    image = PetitionImageField(
        label=_("Picture (optional)"),
        required=False,
        help_text=IMAGE_HELP,
        widget=forms.ClearableFileInput(attrs=IMAGE_ACCEPT),
    )
    embargo_local = forms.DateTimeField(
        label=_("Embargo until (optional)"),
        required=False,
        help_text=_(
            "Once published, the release stays hidden from every public page, feed and "
            "press kit until this time, then appears by itself."
        ),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    embargo_zone = forms.ChoiceField(label=_("Time zone of the embargo"), initial="UTC")

    def __init__(self, *args, organization, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        self.fields["author"].queryset = Author.objects.filter(organization=organization)
        self.fields["embargo_zone"].choices = zone_choices()

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].lower()

    def clean_image(self):
        return _clean_upload(self.cleaned_data.get("image"))

    def clean(self):
        data = super().clean()
        local, zone = data.get("embargo_local"), data.get("embargo_zone")
        data["embargo_until"] = None
        if local is not None and zone:
            # The browser sends a wall-clock time; Django read it as UTC. Keep the wall
            # clock and attach the zone the organiser chose, then store it in UTC.
            wall = timezone.make_naive(local, UTC)
            try:
                embargo = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
            except (OverflowError, ValueError):
                self.add_error("embargo_local", _("Enter a real date and time."))
                return data
            if embargo > self.now + MAX_EMBARGO_AHEAD:
                self.add_error(
                    "embargo_local", _("An embargo can be at most a year ahead. Check the year.")
                )
            data["embargo_until"] = embargo
        return data


def embargo_initial(embargo_until: datetime | None, zone: str = "UTC") -> dict:
    """The form's initial embargo fields for a stored (UTC) embargo, shown in `zone`."""
    if embargo_until is None:
        return {"embargo_zone": zone}
    local = embargo_until.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    # The form reads its initial value as UTC wall clock, as it reads the input.
    return {"embargo_local": local.replace(tzinfo=UTC), "embargo_zone": zone}


class ReleaseTextForm(LanguageTextForm):
    """The title, summary, text and picture caption of a release in one language; title
    and text are needed as soon as anything is written in that language."""

    title = forms.CharField(label=_("Title"), max_length=services.TITLE_MAX, required=False)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=services.SUMMARY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body = forms.CharField(
        label=_("Text (Markdown)"),
        max_length=services.BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    image_caption = forms.CharField(
        label=_("Picture caption"), max_length=services.CAPTION_MAX, required=False
    )
    together = ("title", "body")
    together_message = _("Fill in the title and the text together.")

    def is_filled(self) -> bool:
        return any(self.cleaned_data.get(f) for f in ("title", "summary", "body", "image_caption"))


class QuoteForm(forms.Form):
    """One quote row: its language, words, speaker and speaker's role; may stay empty."""

    language = forms.ChoiceField(label=_("Language"), required=False)
    text = forms.CharField(
        label=_("Quote"),
        max_length=services.QUOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    speaker = forms.CharField(label=_("Speaker"), max_length=services.SPEAKER_MAX, required=False)
    speaker_role = forms.CharField(
        label=_("Speaker's role"), max_length=services.ROLE_MAX, required=False
    )

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        self.fields["language"].choices = [(code, names[code]) for code in languages]

    def is_filled(self) -> bool:
        return any(self.cleaned_data.get(f) for f in ("text", "speaker", "speaker_role"))

    def clean(self):
        data = super().clean()
        if self.is_filled():
            for field in ("text", "speaker"):
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, _("A quote needs its words and who said them."))
        return data


class AuthorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=services.NAME_MAX)
    photo = PetitionImageField(
        label=_("Photo (optional)"),
        required=False,
        help_text=IMAGE_HELP,
        widget=forms.ClearableFileInput(attrs=IMAGE_ACCEPT),
    )

    def clean_photo(self):
        return _clean_upload(self.cleaned_data.get("photo"))


class AuthorTextForm(LanguageTextForm):
    """The author's role and short biography in one language (plain text)."""

    role = forms.CharField(label=_("Role"), max_length=services.ROLE_MAX, required=False)
    bio = forms.CharField(
        label=_("Biography"),
        max_length=services.BIO_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    together = ()

    def is_filled(self) -> bool:
        return any(self.cleaned_data.get(f) for f in ("role", "bio"))
