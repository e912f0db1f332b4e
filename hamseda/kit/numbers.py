"""Numbers on kit images: rounded so a cached image lasts minutes, in Latin or Eastern
Arabic-Indic digits, inside a phrase in the image's language."""

from django.utils import translation
from django.utils.translation import ngettext

EASTERN_DIGITS = str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")


def display_count(count: int) -> tuple[int, bool]:
    """The count to print, and whether it is exact.

    Exact below 100; then rounded down to tens (below 1,000), hundreds (below 10,000)
    and three significant figures above (41,872 → 41,800; 123,456 → 123,000). Rounding
    down keeps the phrase true ("more than …") while the image stays the same for as
    long as the count stays inside one step.
    """
    count = max(0, int(count))
    if count < 100:
        return count, True
    if count < 1000:
        step = 10
    elif count < 10_000:
        step = 100
    else:
        step = 10 ** (len(str(count)) - 3)
    shown = count - count % step
    return shown, shown == count


def format_number(value: int, language: str, eastern_digits: bool) -> str:
    """1234567 → "1,234,567", or "۱٬۲۳۴٬۵۶۷" in Eastern digits for Dari and Pashto."""
    text = f"{value:,}"
    if eastern_digits and language in ("fa", "ps"):
        return text.translate(EASTERN_DIGITS)
    return text


def count_phrase(count: int, exact: bool, language: str, eastern_digits: bool) -> str:
    """ "41,872 people have signed" / "More than 41,800 people have signed", translated."""
    number = format_number(count, language, eastern_digits)
    with translation.override(language):
        if exact:
            return ngettext(
                "%(number)s person has signed", "%(number)s people have signed", count
            ) % {"number": number}
        return ngettext(
            "More than %(number)s person has signed",
            "More than %(number)s people have signed",
            count,
        ) % {"number": number}
