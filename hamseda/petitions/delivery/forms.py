"""The organisers' delivery form: reasons, names, languages."""

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from hamseda.petitions.delivery.errors import DeliveryError
from hamseda.petitions.delivery.reasons import (
    MAX_REASON_CHARS,
    MAX_REASONS,
    MAX_REASONS_BYTES,
    Reason,
    parse_reasons,
)


class DeliveryForm(forms.Form):
    reasons = forms.CharField(
        label=_("Selected reasons for signing (optional)"),
        required=False,
        strip=False,
        # Characters, not bytes; a byte limit applies too (Django's upload limit).
        max_length=MAX_REASONS_BYTES // 4,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    include_names = forms.BooleanField(
        label=_("Include the first names and countries of signers who agreed to be shown"),
        required=False,
        initial=True,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages of the petition's text"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
    )

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        field = cast(forms.MultipleChoiceField, self.fields["languages"])
        field.choices = [(code, names.get(code, code)) for code in languages]
        field.initial = list(languages)
        self.fields["reasons"].help_text = _(
            "Paste up to %(max)s reasons from your decrypted export, one a paragraph, with "
            "a blank line between them; at most %(chars)s characters each. A last line "
            "starting with a dash (“— Maryam, Sweden”) is printed as the attribution, as "
            "typed. They are used for this document only and are not stored."
        ) % {"max": MAX_REASONS, "chars": MAX_REASON_CHARS}

    def clean_reasons(self) -> list[Reason]:
        try:
            return parse_reasons(self.cleaned_data["reasons"])
        except DeliveryError as error:
            raise forms.ValidationError(str(error)) from None
