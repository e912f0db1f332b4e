"""Solar Hijri dates as Afghans write them, for Dari and Pashto readers.

Afghanistan uses the Solar Hijri calendar at home, with month names of the zodiac
(Hamal, Sawr, …) rather than the Iranian ones (Farvardin, …), and Eastern Arabic-Indic
digits. The day arithmetic comes from `jdatetime` (the same 33-year rule Iran's and
Afghanistan's calendars share for centuries around now); the names and digits are ours.
"""

import datetime

import jdatetime

# The months in order, Hamal (starting at Nowruz, 20 or 21 March) to Hoot.
MONTHS = {
    "fa": [
        "حمل",
        "ثور",
        "جوزا",
        "سرطان",
        "اسد",
        "سنبله",
        "میزان",
        "عقرب",
        "قوس",
        "جدی",
        "دلو",
        "حوت",
    ],
    # Pashto writes g with ګ (U+06AB), as in چنګاښ; the Persian گ is a common
    # keyboard substitute but not the standard Afghan Pashto spelling.
    "ps": [
        "وری",
        "غویی",
        "غبرګولی",
        "چنګاښ",
        "زمری",
        "وږی",
        "تله",
        "لړم",
        "لیندۍ",
        "مرغومی",
        "سلواغه",
        "کب",
    ],
}

LANGUAGES = frozenset(MONTHS)

# Extended Arabic-Indic digits (U+06F0…U+06F9), used in Afghanistan and Iran.
_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def eastern_digits(text: str) -> str:
    """`text` with its ASCII digits written as Eastern Arabic-Indic digits."""
    return text.translate(_DIGITS)


def to_solar_hijri(value: datetime.date) -> tuple[int, int, int]:
    """(year, month 1–12, day) of a Gregorian date in the Solar Hijri calendar."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    solar = jdatetime.date.fromgregorian(date=value)
    return solar.year, solar.month, solar.day


def month_name(month: int, language: str) -> str:
    """The Afghan name of a Solar Hijri month (1 = Hamal) in Dari ("fa") or Pashto."""
    return MONTHS[language][month - 1]


def format_solar_hijri(value: datetime.date, language: str) -> str:
    """E.g. "۲۴ حوت ۱۴۰۴" for 15 March 2026 in Dari: day, month name, year."""
    year, month, day = to_solar_hijri(value)
    return f"{eastern_digits(str(day))} {month_name(month, language)} {eastern_digits(str(year))}"
