"""Template context shared by every page: languages with this page's URL in each."""

from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language_bidi

from hamseda.languages import current_language

NAMES = {"en": "English", "fa": "دری", "ps": "پښتو"}


def site(request) -> dict:
    path = request.path
    return {
        "language": current_language(),
        "direction": "rtl" if get_language_bidi() else "ltr",
        "alternates": [
            {"code": code, "name": NAMES.get(code, code), "url": translate_url(path, code)}
            for code, _name in settings.LANGUAGES
        ],
        "base_url": settings.BASE_URL,
    }
