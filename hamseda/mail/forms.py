"""Forms of the organisers' mail-out pages (mail.organize_views).

The secret key is deliberately not a form field: a bound form re-renders what was
posted, and the key must never come back in a page (see organize_views.start).
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from hamseda.languages import current_language
from hamseda.mail.mailouts import Segment
from hamseda.petitions.countries import collation_key, country_name
from hamseda.petitions.models import CountryCount, Petition, Response, Update

MIN_RATE = 1
MAX_RATE = 100_000


def published_updates(petition: Petition):
    return (
        Update.objects.filter(petition=petition, published_at__isnull=False)
        .select_related("petition")
        .prefetch_related("translations")
        .order_by("-published_at", "-pk")
    )


def visible_responses(petition: Petition):
    return (
        Response.objects.filter(petition=petition, hidden=False)
        .select_related("decision_maker")
        .order_by("-responded_on", "-pk")
    )


def content_label(update: Update | None = None, response: Response | None = None) -> str:
    """How a page names what a mail-out sends."""
    if update is not None:
        text = update.text()
        title = text.title if text else str(update.pk)
        return str(_("Update: %(title)s")) % {"title": title}
    if response is not None:
        return str(_("Response from %(name)s, %(day)s")) % {
            "name": response.decision_maker.name,
            "day": response.responded_on.isoformat(),
        }
    return ""


class MailoutForm(forms.Form):
    """What to send and to whom, among the petition's signers who asked for updates."""

    content = forms.ChoiceField(
        label=_("What to send"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose an update or a response to send."),
            "invalid_choice": _(
                "That is not a published update or a visible response of this petition."
            ),
        },
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every country."),
        error_messages={"invalid_choice": _("No signer of this petition is from %(value)s.")},
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages the signers used"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every language."),
    )
    signed_from = forms.DateField(
        label=_("Signed on or after (UTC)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    signed_until = forms.DateField(
        label=_("Signed on or before (UTC)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, petition: Petition, **kwargs):
        super().__init__(*args, **kwargs)
        self.petition = petition
        self.updates = {f"update-{u.pk}": u for u in published_updates(petition)}
        self.responses = {f"response-{r.pk}": r for r in visible_responses(petition)}
        self.fields["content"].choices = [
            *((key, content_label(update=u)) for key, u in self.updates.items()),
            *((key, content_label(response=r)) for key, r in self.responses.items()),
        ]
        language = current_language()
        codes = CountryCount.objects.filter(petition=petition, count__gt=0).values_list(
            "country", flat=True
        )
        self.fields["countries"].choices = sorted(
            ((code, f"{country_name(code, language)} ({code})") for code in codes),
            key=lambda choice: collation_key(choice[1]),
        )
        self.fields["languages"].choices = [
            (code, name) for code, name in settings.LANGUAGES if code in petition.languages
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("signed_from"), data.get("signed_until")
        if start and end and end < start:
            self.add_error("signed_until", _("The end of the signing dates is before their start."))
        return data

    def segment(self) -> Segment:
        data = self.cleaned_data
        return Segment(
            countries=tuple(sorted(data.get("countries") or ())),
            languages=tuple(data.get("languages") or ()),
            signed_from=data.get("signed_from"),
            signed_until=data.get("signed_until"),
        )

    def chosen(self) -> tuple[Update | None, Response | None]:
        key = self.cleaned_data["content"]
        return self.updates.get(key), self.responses.get(key)


class RateForm(forms.Form):
    rate = forms.IntegerField(
        label=_("Messages per minute"),
        min_value=MIN_RATE,
        max_value=MAX_RATE,
        help_text=_(
            "How fast this organisation's mail-outs send, at most. Ask your mail provider "
            "what it allows: sending faster than that gets mail refused or marked as spam."
        ),
    )


class CopyForm(forms.Form):
    """An address to send one test copy to; it is kept only in the outbox, encrypted,
    until delivered (mail.services)."""

    address = forms.EmailField(label=_("Send a test copy to"), max_length=254)
    language = forms.ChoiceField(label=_("In"), choices=settings.LANGUAGES)
