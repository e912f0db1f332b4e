"""Selected reasons for signing, as the organisers paste them into a delivery document.

Reasons are sealed personal data (PRIVACY.md rule 1): the server cannot read them. The
organisers read them in their decrypted export (`hamseda decrypt`), choose a few, and
give them to `hamseda deliver --reasons FILE` or the delivery page's text box. They are
used for that one document and never stored.

The format is plain UTF-8 text, one reason per paragraph (paragraphs are separated by
a blank line). A paragraph's last line that starts with a dash ("— Maryam, Sweden") is
its attribution, printed under it exactly as typed.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hamseda.kit.frame import text_direction
from hamseda.petitions.delivery.errors import DeliveryError

MAX_REASONS = 200
MAX_REASON_CHARS = 2000
# A reasons file larger than this cannot hold 200 reasons of 2,000 characters (at most
# four bytes a character, plus the blank lines): refused before it is read into memory.
MAX_REASONS_BYTES = MAX_REASONS * (MAX_REASON_CHARS * 4 + 4)

# A blank line: a line break, any spaces or tabs, another line break.
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
# Dashes that open an attribution line: em dash, en dash, horizontal bar, "--", "- ".
_ATTRIBUTION = re.compile(r"^(?:[\u2014\u2013\u2015]|--|-\s)")


@dataclass(frozen=True)
class Reason:
    text: str
    attribution: str
    # "rtl" or "ltr", from the first strong letter: each reason runs in its own script's
    # direction, whatever the document's language.
    direction: str


def _without_controls(text: str) -> str:
    """Line breaks kept; other control characters (NUL, escape…) dropped. They cannot
    be printed, and the HTML parser would turn some of them into replacement marks."""
    return "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")


def parse_reasons(text: str) -> list[Reason]:
    """The reasons in `text`, in order; DeliveryError if there are too many or one is
    too long. Text is normalised to NFC; bidi marks and any script are kept as typed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _without_controls(unicodedata.normalize("NFC", text))
    reasons: list[Reason] = []
    for number, paragraph in enumerate(
        (p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()), start=1
    ):
        if len(paragraph) > MAX_REASON_CHARS:
            raise DeliveryError(
                _(
                    "Reason %(number)s is %(length)s characters long; a reason may have at "
                    "most %(max)s. Shorten it or choose another."
                )
                % {"number": number, "length": len(paragraph), "max": MAX_REASON_CHARS}
            )
        reasons.append(_reason(paragraph))
        if len(reasons) > MAX_REASONS:
            raise DeliveryError(
                ngettext(
                    "There are more than %(max)s reason; choose at most %(max)s.",
                    "There are more than %(max)s reasons; choose at most %(max)s.",
                    MAX_REASONS,
                )
                % {"max": MAX_REASONS}
            )
    return reasons


def _reason(paragraph: str) -> Reason:
    lines = [line.strip() for line in paragraph.split("\n")]
    attribution = ""
    # A last line starting with a dash is an attribution, unless the line before it is
    # also a "- " item: then the paragraph is a list, and stays as it is.
    if len(lines) > 1 and _ATTRIBUTION.match(lines[-1]) and not lines[-2].startswith(("- ", "-\t")):
        attribution = lines.pop()
    body = "\n".join(lines)
    return Reason(text=body, attribution=attribution, direction=text_direction(body))


def read_reasons_file(data: bytes, name: str) -> list[Reason]:
    """The reasons in a file's bytes (UTF-8, a byte-order mark allowed)."""
    if len(data) > MAX_REASONS_BYTES:
        raise DeliveryError(
            _("%(name)s is too large for a reasons file (at most %(max)s reasons).")
            % {"name": name, "max": MAX_REASONS}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DeliveryError(
            _(
                "%(name)s is not UTF-8 text (a byte at position %(position)s is not). Save "
                "it as UTF-8 from your text editor."
            )
            % {"name": name, "position": error.start}
        ) from None
    return parse_reasons(text)
