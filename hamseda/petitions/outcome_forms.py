"""Forms of the milestone, response and outcome pages (petitions.views.outcomes)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from hamseda.petitions.models import PetitionState, ThresholdAction
from hamseda.petitions.outcomes import MAX_STATEMENT
from hamseda.petitions.responses import MAX_BODY
from hamseda.petitions.thresholds import MAX_COUNT, MAX_DESCRIPTION


def _languages():
    return list(settings.LANGUAGES)


class ThresholdForm(forms.Form):
    count = forms.IntegerField(
        label=_("Number of confirmed signatures"), min_value=1, max_value=MAX_COUNT
    )
    action = forms.ChoiceField(label=_("What happens then"), choices=ThresholdAction.choices)
    notify_addresses = forms.CharField(
        label=_("Addresses to notify (one per line; only for “Notify a list of addresses”)"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"}),
    )
    description = forms.CharField(
        label=_("What the page says will happen (optional)"),
        help_text=_("For example: “ExampleSocial will be asked to respond”."),
        required=False,
        max_length=MAX_DESCRIPTION,
    )


class TargetForm(forms.Form):
    """Where one decision-maker's response requests go."""

    email = forms.EmailField(label=_("E-mail address for response requests"), required=False)
    language = forms.ChoiceField(label=_("Language of the request"), choices=_languages)


class RespondForm(forms.Form):
    """The decision-maker's response, on the page their private link opens."""

    body = forms.CharField(
        label=_("Your response"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Paragraphs, **bold**, *italics*, lists and links are kept."),
        error_messages={"required": _("Please write your response.")},
    )
    language = forms.ChoiceField(label=_("Language of your response"), choices=_languages)


class OfflineResponseForm(forms.Form):
    """A response the organisers received by letter, in a meeting, on the record."""

    decision_maker = forms.ModelChoiceField(label=_("Decision-maker"), queryset=None)
    body = forms.CharField(
        label=_("The response"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Please write the response.")},
    )
    language = forms.ChoiceField(label=_("Language of the response"), choices=_languages)
    responded_on = forms.DateField(
        label=_("Date of the response"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, petition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision_maker"].queryset = petition.targets.all()


class OutcomeForm(forms.Form):
    """Won or closed, and the closing statement in each of the petition's languages."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (PetitionState.WON, _("Won: the petition reached its aim")),
            (PetitionState.CLOSED, _("Closed: it no longer takes signatures")),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        for code in languages:
            self.fields[f"statement_{code}"] = forms.CharField(
                label=_("Closing statement (%(language)s)") % {"language": names.get(code, code)},
                required=False,
                max_length=MAX_STATEMENT,
                widget=forms.Textarea(attrs={"rows": 6, "lang": code, "dir": "auto"}),
            )
        self.languages = languages

    def statements(self) -> dict[str, str]:
        return {code: self.cleaned_data[f"statement_{code}"] for code in self.languages}
