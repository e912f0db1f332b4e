"""The owners' form for a new webhook (api.organize_webhooks)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hamseda.api.models import WebhookEvent
from hamseda.api.webhook_delivery import MAX_URL, WebhookRefused, check_url


class WebhookForm(forms.Form):
    # A CharField, not a URLField: check_url() is the one judge of an address (scheme,
    # host, credentials, and where it resolves), with messages that say what to fix.
    url = forms.CharField(
        label=_("Address of your endpoint (https://…, accepting POST requests)"),
        max_length=MAX_URL,
        widget=forms.URLInput(attrs={"dir": "ltr", "placeholder": "https://"}),
        error_messages={
            "required": _("Give the web address of your endpoint."),
            "max_length": _("The address is at most %(limit_value)d characters."),
        },
    )
    events = forms.MultipleChoiceField(
        label=_("Tell it when"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one event to be told about."),
            "invalid_choice": _("Choose events from the list."),
        },
    )

    def clean_url(self) -> str:
        try:
            return check_url(self.cleaned_data["url"])
        except WebhookRefused as refusal:
            raise forms.ValidationError(str(refusal)) from None
