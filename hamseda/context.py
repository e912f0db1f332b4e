"""Template context shared by every page: languages with this page's URL in each."""

from django.conf import settings
from django.utils.translation import get_language_bidi

from hamseda.languages import current_language

NAMES = {"en": "English", "fa": "دری", "ps": "پښتو"}
PREFIXED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def unprefixed(path: str) -> str:
    """The path without its language prefix: /fa/p/x/ → /p/x/."""
    for code in PREFIXED:
        if path == f"/{code}" or path.startswith(f"/{code}/"):
            return path[len(code) + 1 :] or "/"
    return path


def alternate_url(path: str, language: str) -> str:
    """The same page in another language. Our URL patterns are the same in every
    language, only prefixed (i18n_patterns, English without prefix), so this is string
    work, not the resolve and reverse of Django's translate_url() on every page."""
    bare = unprefixed(path)
    return bare if language == settings.LANGUAGE_CODE else f"/{language}{bare}"


def site(request) -> dict:
    path = request.path
    return {
        "language": current_language(),
        "direction": "rtl" if get_language_bidi() else "ltr",
        "alternates": [
            {"code": code, "name": NAMES.get(code, code), "url": alternate_url(path, code)}
            for code, _name in settings.LANGUAGES
        ],
        "base_url": settings.BASE_URL,
    }
