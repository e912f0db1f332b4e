"""ISO 3166-1 countries with names in the reader's language.

Dari and Pashto names come from our own lists, `country_names/<language>.json` (code →
name, as Afghan media write them): pycountry's Pashto catalogue lacks about 107 names
(Iran, Türkiye, Russia…) and its Persian one is Iranian (سوئد, هلند, ژاپن where Afghans say
سویدن, هالند, جاپان). A code missing from our list, and every other language, falls back
to pycountry's `iso3166-1` catalogue, then to the English name. See docs/translations.md.
"""

import gettext
import json
import unicodedata
from functools import cache
from pathlib import Path

import pycountry

from hamseda.languages import current_language

CODES = frozenset(country.alpha_2 for country in pycountry.countries)

NAMES_DIR = Path(__file__).resolve().parent / "country_names"


@cache
def _translator(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


@cache
def _our_names(language: str) -> dict[str, str]:
    """Our list for the language ({} when we have none)."""
    path = NAMES_DIR / f"{language}.json"
    if not language.isalpha() or not path.is_file():
        return {}
    with path.open(encoding="utf-8") as file:
        return json.load(file)


def _pycountry_name(country, translate) -> str:
    """pycountry's translation of the common name ("Iran" rather than "Iran, Islamic
    Republic of"), else of the name, else of the official name; else the English name."""
    english = _english_name(country)
    for name in (english, country.name, getattr(country, "official_name", None)):
        if name and (translated := translate(name)) != name:
            return translated
    return english


def _english_name(country) -> str:
    return getattr(country, "common_name", None) or country.name


@cache
def _names(language: str) -> dict[str, str]:
    ours = _our_names(language)
    translate = _translator(language).gettext
    return {
        country.alpha_2: ours.get(country.alpha_2) or _pycountry_name(country, translate)
        for country in pycountry.countries
    }


def country_name(code: str, language: str | None = None) -> str:
    return _names(language or current_language()).get(code, code)


def country_choices(language: str | None = None) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs sorted by name as the reader would look for them."""
    return _sorted_choices(language or current_language())


@cache
def _sorted_choices(language: str) -> tuple[tuple[str, str], ...]:
    # Cached: the sign form asks for it on every request (bench/sign_load.py).
    return tuple(sorted(_names(language).items(), key=lambda item: collation_key(item[1])))


# Collation: Python compares strings by code point, which puts the Persian and Pashto
# letters added to the Arabic alphabet (پ چ ژ ک گ ی, ټ ډ ښ ګ ې…) after all the Arabic
# ones. This is the Pashto/Dari alphabet order, each Dari letter with its Pashto twin.
ALPHABET = "ا آ ب پ ت ټ ث ج چ ح خ څ ځ د ډ ذ ر ړ ز ژ ږ س ش ښ ص ض ط ظ ع غ ف ق ک ګ ل م ن ڼ و ه ی ې ۍ ئ"
# Spellings of one letter: Arabic kaf and yeh, Dari gaf, alef with hamza, teh marbuta…
_SAME_LETTER = {
    "ك": "ک",
    "ڪ": "ک",
    "گ": "ګ",
    "ي": "ی",
    "ى": "ی",
    "ۀ": "ه",
    "ة": "ه",
    "ە": "ه",
    "أ": "ا",
    "إ": "ا",
    "ٱ": "ا",
    "ؤ": "و",
}
_LETTERS = ALPHABET.split()
# (primary, secondary): آ is alef with madda, found under alef (آلمان among ال…), after
# plain alef when the rest is equal; every other letter has a rank of its own.
_RANKS = {letter: (1 + index, 0) for index, letter in enumerate(_LETTERS)}
_RANKS["آ"] = (_RANKS["ا"][0], 1)
for _variant, _letter in _SAME_LETTER.items():
    _RANKS[_variant] = (_RANKS[_letter][0], 1)
_OTHER = 1 + len(_LETTERS)  # Digits and other scripts sort after the letters.


def collation_key(name: str) -> tuple:
    """Sort key for a country name in Dari, Pashto (the alphabet above) or English.

    Spaces separate words (a shorter word first: گینه before گینه بیسائو); punctuation,
    zero-width (non-)joiners and vowel marks are ignored; Latin letters lose their accents
    (Åland among the A's).
    """
    primary: list[int] = []
    secondary: list[int] = []
    for char in unicodedata.normalize("NFC", name):
        if char == "\u0640":  # Tatweel, the stretching of a joined letter.
            continue
        if char in _RANKS:
            rank, variant = _RANKS[char]
        elif char.isspace():
            rank, variant = 0, 0
        elif unicodedata.category(char)[0] in "LN":
            base = unicodedata.normalize("NFKD", char)[0].casefold()
            rank, variant = _OTHER + ord(base), ord(char)
        else:  # Punctuation, vowel marks (harakat), zero-width (non-)joiners.
            continue
        primary.append(rank)
        secondary.append(variant)
    return (primary, secondary, name)
