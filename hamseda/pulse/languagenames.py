"""Names of the languages posts are written in, in the reader's language.

Platforms tag a post's language with a BCP 47 code ("en", "fa", "pt-BR"), or "" when
they do not know. X also uses codes of its own for posts without words (hashtags,
mentions, links or media only) and "und" for posts it could not tell. The dashboard
folds a regional variant into its language (en-GB is English) and those special codes
into two rows, "no words" and "not known".

The languages of our campaigns are named by our own catalogue (Dari and Persian share the
code "fa", so it is named for both); any other by pycountry's ISO 639 catalogue in the
reader's language, then its English name, then the code itself.
"""

import gettext
from functools import cache

import pycountry
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hamseda.languages import current_language

UNKNOWN = ""
NO_WORDS = "zxx"
# X's codes for posts without words (its documentation: "qme" media, "qam" mentions,
# "qct" cashtags, "qht" hashtags only) and the ISO code for "no linguistic content".
_NO_WORDS_CODES = {"zxx", "qme", "qam", "qct", "qht", "qst"}
_UNKNOWN_CODES = {"", "und", "mul", "xx"}

# Marked for translation here, translated when shown (the reader's language).
_OURS = {
    "en": gettext_noop("English"),
    "fa": gettext_noop("Dari/Persian"),
    "prs": gettext_noop("Dari/Persian"),
    "ps": gettext_noop("Pashto"),
    "ar": gettext_noop("Arabic"),
    "ur": gettext_noop("Urdu"),
    "uz": gettext_noop("Uzbek"),
    "tk": gettext_noop("Turkmen"),
    "tr": gettext_noop("Turkish"),
    "de": gettext_noop("German"),
    "fr": gettext_noop("French"),
    "sv": gettext_noop("Swedish"),
    "nl": gettext_noop("Dutch"),
    "es": gettext_noop("Spanish"),
    "it": gettext_noop("Italian"),
    "ru": gettext_noop("Russian"),
    "hi": gettext_noop("Hindi"),
}


def base_code(code: str) -> str:
    """The language a tag names, lower-case, without region or script: "pt-BR" → "pt";
    codes for posts without words → NO_WORDS; unknown → UNKNOWN."""
    code = (code or "").strip().lower().replace("_", "-")
    base = code.split("-", 1)[0]
    if base in _NO_WORDS_CODES:
        return NO_WORDS
    if base in _UNKNOWN_CODES or not base.isascii() or not base.isalpha():
        return UNKNOWN
    if base == "prs":  # Dari's own ISO 639-3 code: the same language as "fa" here.
        return "fa"
    return base


@cache
def _iso_catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso639-3", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def name(code: str, language: str | None = None) -> str:
    """The name of the language `code` (a base_code()) for a reader of `language`."""
    if code == UNKNOWN:
        return _("Language not known")
    if code == NO_WORDS:
        return _("No words (only hashtags, links or media)")
    if code in _OURS:
        return _(_OURS[code])
    found = (
        pycountry.languages.get(alpha_2=code)
        if len(code) == 2
        else pycountry.languages.get(alpha_3=code)
    )
    if found is None:
        return code
    english = found.name
    return _iso_catalogue(language or current_language()).gettext(english)
