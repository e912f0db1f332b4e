import unicodedata
from functools import cache

from django import forms
from django.core.validators import EmailValidator
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from hamseda.integrity.checks import HONEYPOT_FIELD, STARTED_FIELD, form_started_stamp
from hamseda.languages import current_language
from hamseda.petitions.countries import CODES, country_choices

# Characters that are invisible or reorder text, allowed inside a name (Persian uses
# the zero-width non-joiner) but never as the whole of it.
INVISIBLE_CATEGORIES = {"Cf", "Mn", "Me", "Zs", "Cc", "Zl", "Zp"}


def validate_name(value: str) -> None:
    if any(unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"} for char in value):
        raise forms.ValidationError(_("Please use only letters and ordinary punctuation."))
    if all(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in value):
        raise forms.ValidationError(_("Please enter your name."))


def country_options() -> list[tuple[str, str]]:
    return [("", _("Choose your country")), *country_choices()]


@cache
def _country_options_html(language: str) -> str:
    # `language` is the active language (the cache key); the names come in it.
    return "".join(
        format_html('<option value="{}">{}</option>', code, name)
        for code, name in country_options()
    )


class CountrySelect(forms.Select):
    """The country list, its ~250 options rendered once per language.

    Django's Select renders every option through two template includes: that took 30 ms
    of the 45 ms of the petition page (docs/performance.md).
    """

    template_name = "petitions/widgets/country_select.html"

    def get_context(self, name, value, attrs):
        context = forms.Widget.get_context(self, name, value, attrs)
        selected = (context["widget"]["value"] or [""])[0]
        html = _country_options_html(current_language())
        if selected == "" or selected in CODES:  # Two capital letters: nothing to escape.
            plain = f'<option value="{selected}">'
            html = html.replace(plain, plain[:-1] + " selected>", 1)
        context["widget"]["options"] = mark_safe(html)  # noqa: S308 - format_html above.
        return context


class CountryField(forms.ChoiceField):
    """A choice of country. Checked against the set of codes rather than by walking the
    list of about 250 choices; the list is built only when the form is rendered (the
    choices are a callable), not for every POST (bench/sign_load.py measures this)."""

    widget = CountrySelect

    def valid_value(self, value) -> bool:
        return value in CODES


class PartnerConsentField(forms.TypedMultipleChoiceField):
    """One unticked box per co-host (petitions.partner_consent). A posted id is checked
    to be a number only: the choices are looked up when the form is rendered, and
    sign_petition keeps only ids of the petition's co-hosts with a key, so a valid POST
    costs no query here."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(coerce=int, required=False, **kwargs)

    def valid_value(self, value) -> bool:
        return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10


class ContactFields(forms.Form):
    """A person's names and e-mail address, as the sign form and the RSVP form
    (actions.forms) ask for them."""

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


class SignatureForm(ContactFields):
    country = CountryField(label=_("Country"), choices=country_options)
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
    # Integrity (integrity.checks): a honeypot that people never see (hidden by CSS,
    # from screen readers and from the tab order) but naive bots fill in, and the signed
    # time the form was served, for the minimum fill time. The stamp is rendered when
    # the page is; the page cache may serve it up to 5 s old, which is only more lenient.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(
        required=False, max_length=100, initial=form_started_stamp, widget=forms.HiddenInput
    )

    # What a Signer is made of; the integrity fields are not part of it.
    INTEGRITY_FIELDS = (HONEYPOT_FIELD, STARTED_FIELD)

    error_messages = {
        "invalid_email": _("Please enter a valid e-mail address, like name@example.org."),
        "unknown_country": _("Please choose your country from the list."),
    }

    def __init__(self, *args, partners=None, **kwargs):
        """`partners`: the co-host consent choices, (id, label) pairs or a callable
        giving them (partner_consent.lazy_consent_choices); None: no such boxes."""
        super().__init__(*args, **kwargs)
        if partners is not None:
            self.fields["share_with"] = PartnerConsentField(choices=partners)
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

    def signer_data(self) -> dict:
        """The cleaned fields that make a services.Signer."""
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.INTEGRITY_FIELDS
        }
        if "share_with" in data:
            data["share_with"] = tuple(data["share_with"])
        return data

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
