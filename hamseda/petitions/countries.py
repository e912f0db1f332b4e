"""ISO 3166-1 countries with names in the reader's language (from pycountry's catalogues)."""

import gettext
from functools import cache

import pycountry

from hamseda.languages import current_language

CODES = frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _translator(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


@cache
def _names(language: str) -> dict[str, str]:
    translate = _translator(language).gettext
    names = {}
    for country in pycountry.countries:
        # Prefer the common name ("Iran" rather than "Iran, Islamic Republic of").
        english = getattr(country, "common_name", None) or country.name
        translated = translate(english)
        if translated == english:
            translated = translate(country.name)
        names[country.alpha_2] = translated
    return names


def country_name(code: str, language: str | None = None) -> str:
    return _names(language or current_language()).get(code, code)


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name as the reader would look for them."""
    names = _names(language or current_language())
    return sorted(names.items(), key=lambda item: item[1].casefold())
