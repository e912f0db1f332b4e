"""The owners' form for a new partner API key (api.organize_keys)."""

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hamseda.api.models import Scope

# A key lives at most this long; a partner that needs longer gets a new key then.
MAX_LIFETIME_DAYS = 5 * 365


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

    def __init__(self, *args, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

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
