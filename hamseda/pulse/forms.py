"""The organisers' pulse forms: settings, sources, the moderation search and the export.

Each form checks the shape of what was typed; the services (pulses.save_settings,
sources.add_source) check the meaning and raise an error with a translated message,
which the views show on the field it is about.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from hamseda.pulse import pulses
from hamseda.pulse.models import Platform


class SettingsForm(forms.Form):
    is_public = forms.BooleanField(
        required=False,
        label=_("Public dashboard"),
        help_text=_(
            "Anyone can see the dashboard (if the campaign is public). Unticked, only "
            "members of your organisation can."
        ),
    )
    show_wall = forms.BooleanField(
        required=False,
        label=_("Show posts on the dashboard"),
        help_text=_(
            "The latest posts and the top posts, by handle as the platforms show them. "
            "Unticked, the dashboard shows numbers only."
        ),
    )
    keywords = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Keywords"),
        help_text=_("Words or phrases tracked besides the campaign's hashtags, one per line."),
    )
    milestones = forms.CharField(
        required=False,
        max_length=200,
        label=_("Milestones"),
        help_text=_(
            "Post counts marked on the cumulative curve, separated by spaces, like 10000 40000."
        ),
    )

    def clean_milestones(self) -> str:
        try:
            values = pulses.parse_milestones(self.cleaned_data["milestones"])
        except pulses.SettingsError as error:
            raise forms.ValidationError(str(error)) from None
        return " ".join(str(value) for value in values)

    def clean_keywords(self) -> str:
        try:
            return "\n".join(pulses.parse_keywords(self.cleaned_data["keywords"]))
        except pulses.SettingsError as error:
            raise forms.ValidationError(str(error)) from None


class SourceForm(forms.Form):
    platform = forms.ChoiceField(choices=Platform.choices, label=_("Platform"))
    kind = forms.ChoiceField(
        choices=[("hashtag", _("Hashtag")), ("keyword", _("Keyword"))],
        initial="hashtag",
        widget=forms.RadioSelect,
        label=_("What to follow"),
    )
    query = forms.CharField(
        max_length=300,
        label=_("Hashtag or keyword"),
        help_text=_("A hashtag with or without #, like #BanTaliban; or a word or phrase."),
    )
    base_url = forms.CharField(
        required=False,
        max_length=300,
        label=_("Instance address"),
        help_text=_(
            "Mastodon: the instance whose public timeline to read, like "
            "https://mastodon.social. Leave empty for X and Bluesky."
        ),
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "url"}),
    )
    token = forms.CharField(
        required=False,
        max_length=2100,
        label=_("Token"),
        help_text=_(
            "X: the bearer token of your organisation's X developer app. It is stored "
            "encrypted and never shown again."
        ),
        # Never echoed back into the page, not even after an error.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        max_length=2100,
        label=_("New token"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class PostSearchForm(forms.Form):
    SHOW = [("all", _("All posts")), ("hidden", _("Hidden")), ("shown", _("Shown"))]

    q = forms.CharField(
        required=False,
        max_length=200,
        label=_("Hashtag or handle"),
        help_text=_("#hashtag, or a handle (the start is enough)."),
    )
    show = forms.ChoiceField(choices=SHOW, required=False, label=_("Show"))
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, label=_("Page"))


class ExportForm(forms.Form):
    AUTHORS = [
        ("hashed", _("Hash the authors (a code per author, no handles, links or post ids)")),
        ("handles", _("Handles, links and post ids as the platforms show them")),
    ]

    authors = forms.ChoiceField(
        choices=AUTHORS,
        required=False,
        initial="hashed",
        widget=forms.RadioSelect,
        label=_("Authors"),
    )

    def hash_authors(self) -> bool:
        """Hashed unless the organiser chose otherwise: an export passed on must not
        become a list of people by accident."""
        return self.cleaned_data.get("authors") != "handles"
