"""Forms of the actions app: the RSVP form, and the organisers' day and event forms.

The organisers' forms check shapes only; the rules (time zones, daylight saving, the
past, hosts, capacity) are the services' (actions.services.ActionRefused), whose
messages the views put on the right field.
"""

import unicodedata
from datetime import datetime

from django import forms
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from hamseda.integrity.checks import HONEYPOT_FIELD, STARTED_FIELD, form_started_stamp
from hamseda.petitions.countries import CODES, country_choices
from hamseda.petitions.forms import ContactFields

TOO_LONG = _("This is too long: at most %(limit_value)d characters, please.")


class RsvpForm(ContactFields):
    # On by default: a change of place or a cancellation can matter for people's
    # safety (a moved protest, a warning), and the reminder carries the safety notes.
    # The label says plainly what ticking it keeps, and unticking is one click.
    wants_notices = forms.BooleanField(
        label=_("Remind me the day before and tell me about changes"),
        required=False,
        initial=True,
    )
    # Integrity, as on the sign form (integrity.checks): honeypot and fill time.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(
        required=False, max_length=100, initial=form_started_stamp, widget=forms.HiddenInput
    )

    INTEGRITY_FIELDS = (HONEYPOT_FIELD, STARTED_FIELD)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].error_messages["required"] = _("Please enter your first name.")
        self.fields["last_name"].error_messages["required"] = _("Please enter your last name.")
        self.fields["email"].error_messages["required"] = _("Please enter your e-mail address.")
        for name in ("first_name", "last_name", "email"):
            self.fields[name].error_messages["max_length"] = TOO_LONG

    def clean_email(self) -> str:
        value = unicodedata.normalize("NFC", self.cleaned_data["email"].strip())
        try:
            EmailValidator()(value)
        except forms.ValidationError as error:
            raise forms.ValidationError(
                _("Please enter a valid e-mail address, like name@example.org.")
            ) from error
        return value


class LocalDateTimeField(forms.Field):
    """A wall-clock date and time, kept naive: it is a time of the event's own zone,
    which the service applies (Django's DateTimeField would read it in the server's)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip()[:40]
        for pattern in self.FORMATS:
            try:
                # Naive on purpose: a wall-clock time of the event's zone.
                return datetime.strptime(text, pattern)  # noqa: DTZ007
            except ValueError:
                continue
        raise forms.ValidationError(_("Enter a date and time, like 2026-03-14 12:00."))


class DayForm(forms.Form):
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=80,
        help_text=_("Letters, digits and hyphens, e.g. day-of-action-march."),
    )
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))


class DayTextForm(forms.Form):
    """The texts of a day in one language; all empty leaves the language out."""

    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    theme = forms.CharField(label=_("Theme"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description (Markdown)"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, prefix=language, **kwargs)
        self.language = language

    def is_filled(self) -> bool:
        return any(str(value).strip() for value in self.cleaned_data.values())

    def clean(self):
        data = super().clean()
        if any(str(v).strip() for v in data.values()) and not str(data.get("title", "")).strip():
            self.add_error("title", _("Please enter a title for this language."))
        return data


class EventForm(forms.Form):
    slug = forms.SlugField(label=_("Web address"), max_length=80)
    host = forms.ModelChoiceField(label=_("Host organisation"), queryset=None, empty_label=None)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.ChoiceField(label=_("Country"))
    venue = forms.CharField(label=_("Venue"), max_length=200)
    starts_at = LocalDateTimeField(label=_("Starts (local time of the event)"))
    ends_at = LocalDateTimeField(label=_("Ends (local time of the event)"))
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_("The event's zone, e.g. Europe/London or America/Los_Angeles."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity (empty: no limit)"), required=False, min_value=1, max_value=1_000_000
    )
    contact = forms.CharField(
        label=_("Public contact of the hosts"),
        max_length=200,
        required=False,
        help_text=_("An address or phone of the organisers, never a private person's."),
    )
    latitude = forms.DecimalField(
        label=_("Latitude (optional, for the map)"),
        required=False,
        max_digits=8,
        decimal_places=5,
        min_value=-90,
        max_value=90,
    )
    longitude = forms.DecimalField(
        label=_("Longitude (optional, for the map)"),
        required=False,
        max_digits=8,
        decimal_places=5,
        min_value=-180,
        max_value=180,
    )

    def __init__(self, *args, hosts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = hosts
        self.fields["country"].choices = [("", _("Choose the country")), *country_choices()]

    def clean_country(self) -> str:
        value = self.cleaned_data["country"]
        if value not in CODES:
            raise forms.ValidationError(_("Please choose a country from the list."))
        return value


class EventTextForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description (Markdown)"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    meeting_point = forms.CharField(label=_("Meeting point"), max_length=300, required=False)
    accessibility = forms.CharField(
        label=_("Accessibility"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    what_to_bring = forms.CharField(
        label=_("What to bring"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    safety_notes = forms.CharField(
        label=_("Safety notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. “Cover your face if you fear being photographed.”"),
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, prefix=language, **kwargs)
        self.language = language

    def is_filled(self) -> bool:
        return any(str(value).strip() for value in self.cleaned_data.values())

    def clean(self):
        data = super().clean()
        if any(str(v).strip() for v in data.values()) and not str(data.get("title", "")).strip():
            self.add_error("title", _("Please enter a title for this language."))
        return data
