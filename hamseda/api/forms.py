"""The owners' form for a new partner API key (api.organize_keys)."""

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hamseda.api.models import Scope

# A key lives at most this long; a partner that needs longer gets a new key then.
MAX_LIFETIME_DAYS = 5 * 365
# Requests a minute a key may send: the default, and the most an owner may allow (a
# viral partner page sends its signers through one key; more than this is a flood).
DEFAULT_RATE = 120
MAX_RATE = 6000


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Who or what uses it, e.g. “Voices website sign form”."),
        error_messages={
            "required": _("Give the key a name, e.g. the partner website it is for."),
            "max_length": _("The name is at most %(limit_value)d characters."),
        },
    )
    scopes = forms.MultipleChoiceField(
        label=_("It may"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one thing the key may do."),
            "invalid_choice": _("Choose from the list."),
        },
    )
    expires_on = forms.DateField(
        label=_("Expires on (optional)"),
        required=False,
        help_text=_("The key stops working at the end of this day (UTC). Empty: no expiry."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date, like 2027-03-14.")},
    )

    rate_per_minute = forms.IntegerField(
        label=_("Requests a minute"),
        initial=DEFAULT_RATE,
        required=False,
        min_value=1,
        max_value=MAX_RATE,
        help_text=_("Sign and RSVP requests together; more get “429 Too Many Requests”."),
        error_messages={
            "invalid": _("Give a whole number, e.g. 120."),
            "min_value": _("At least %(limit_value)s."),
            "max_value": _("At most %(limit_value)s."),
        },
    )

    def __init__(self, *args, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

    def clean_rate_per_minute(self) -> int:
        """Empty means the default."""
        rate = self.cleaned_data.get("rate_per_minute")
        return DEFAULT_RATE if rate is None else rate

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        today = self.now.astimezone(UTC).date()
        if day < today:
            raise forms.ValidationError(_("The expiry date must be today or later."))
        if day > today + timedelta(days=MAX_LIFETIME_DAYS):
            raise forms.ValidationError(_("A key may live at most five years."))
        return day

    def expires_at(self) -> datetime | None:
        """The end of the chosen day in UTC, when the key stops working."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
