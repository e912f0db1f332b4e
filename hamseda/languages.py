"""The content languages Hamseda speaks, and picking the best text for a reader."""

from django.conf import settings
from django.utils.translation import get_language

CODES = [code for code, _name in settings.LANGUAGES]


def current_language() -> str:
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return language if language in CODES else settings.LANGUAGE_CODE


def pick(translations: dict, *fallbacks: str):
    """The translation in the reader's language, else the first fallback that exists."""
    for code in (current_language(), *fallbacks, settings.LANGUAGE_CODE):
        if code in translations:
            return translations[code]
    return next(iter(translations.values()), None)
