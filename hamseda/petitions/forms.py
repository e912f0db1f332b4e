import unicodedata

from django import forms
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from hamseda.petitions.countries import CODES, country_choices

# Characters that are invisible or reorder text, allowed inside a name (Persian uses
# the zero-width non-joiner) but never as the whole of it.
INVISIBLE_CATEGORIES = {"Cf", "Mn", "Me", "Zs", "Cc", "Zl", "Zp"}


def validate_name(value: str) -> None:
    if any(unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"} for char in value):
        raise forms.ValidationError(_("Please use only letters and ordinary punctuation."))
    if all(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in value):
        raise forms.ValidationError(_("Please enter your name."))


class SignatureForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.CharField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    country = forms.ChoiceField(label=_("Country"))
    postcode = forms.CharField(
        label=_("Postcode (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    reason = forms.CharField(
        label=_("Why are you signing? (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    show_name = forms.BooleanField(label=_("Show my first name publicly"), required=False)
    keep_updated = forms.BooleanField(
        label=_("Keep me updated about this petition"), required=False
    )

    error_messages = {
        "invalid_email": _("Please enter a valid e-mail address, like name@example.org."),
        "unknown_country": _("Please choose your country from the list."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Choose your country")), *country_choices()]
        self.fields["first_name"].error_messages["required"] = _("Please enter your first name.")
        self.fields["last_name"].error_messages["required"] = _("Please enter your last name.")
        self.fields["email"].error_messages["required"] = _("Please enter your e-mail address.")
        self.fields["country"].error_messages["required"] = _("Please choose your country.")
        self.fields["country"].error_messages["invalid_choice"] = self.error_messages[
            "unknown_country"
        ]
        for name in ("first_name", "last_name", "postcode", "reason", "email"):
            self.fields[name].error_messages["max_length"] = _(
                "This is too long: at most %(limit_value)d characters, please."
            )

    def clean_email(self) -> str:
        value = unicodedata.normalize("NFC", self.cleaned_data["email"].strip())
        try:
            EmailValidator()(value)
        except forms.ValidationError as error:
            raise forms.ValidationError(self.error_messages["invalid_email"]) from error
        return value

    def clean_country(self) -> str:
        value = self.cleaned_data["country"]
        if value not in CODES:
            raise forms.ValidationError(self.error_messages["unknown_country"])
        return value
