"""How the dashboard writes numbers, percentages and dates for its reader: in the page's
language, with Eastern Arabic-Indic digits on Dari and Pashto pages of a campaign that
chose them (Campaign.eastern_digits, as on its kit images), and Unicode isolates that keep
a label's direction its own (pulse.charts, pulse.views.public)."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from django.utils import dateformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from hamseda.kit.numbers import EASTERN_DIGITS, format_number


@dataclass(frozen=True)
class Style:
    """How numbers and dates read for this page: its language and digits."""

    language: str = "en"
    eastern_digits: bool = False

    @property
    def rtl(self) -> bool:
        return self.language in ("fa", "ps")

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"

    def digits(self, text: str) -> str:
        if self.eastern_digits and self.rtl:
            return text.translate(EASTERN_DIGITS)
        return text

    def number(self, value: int) -> str:
        return format_number(int(value), self.language, self.eastern_digits)

    def percent(self, value: float) -> str:
        text = "<0.1%" if 0 < value < 0.1 else f"{value:.1f}%"
        if self.eastern_digits and self.rtl:
            # The Arabic decimal separator and percent sign go with Eastern digits.
            return self.digits(text).replace(".", "\u066b").replace("%", "\u066a")
        return text

    def day(self, value: date) -> str:
        # The month's name from our catalogue, in the active (the page's) language.
        return _day_label(value, get_language(), self.eastern_digits and self.rtl)

    def hour(self, value: datetime) -> str:
        return self.digits(f"{value:%H}:00")

    def moment(self, value: datetime) -> str:
        """ "5 March, 14:00 UTC": the start of an hour, for milestones."""
        return _("%(day)s, %(hour)s UTC") % {
            "day": self.day(value.date()),
            "hour": self.hour(value),
        }


FSI, PDI = "\u2068", "\u2069"


def isolate(text: str) -> str:
    """`text` between Unicode isolates: it takes its direction from its own first
    letter, so "#زنان_افغان" keeps its '#' at its start in a left-to-right chart, and a
    figure next to a Dari word stays on its own side."""
    return f"{FSI}{text}{PDI}"


@lru_cache(maxsize=2048)
def _day_label(value: date, language: str, eastern: bool) -> str:
    """ "5 March" in `language` (the active one): a page labels a few dates hundreds of
    times, and formatting one takes longer than looking it up."""
    text = dateformat.format(value, "j F")
    return text.translate(EASTERN_DIGITS) if eastern else text
