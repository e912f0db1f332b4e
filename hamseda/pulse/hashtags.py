"""Hashtags: checking what an organiser typed, and finding the hashtags in a post's text.

A hashtag is kept in two forms:

- `clean_hashtag()` — as typed, without '#', Unicode NFC: what an organiser sees again
  (Source.query) and what is sent to a platform's search;
- `normalise_hashtag()` — the same, case-folded: the stored and compared form
  (Post.hashtags, HashtagDay.tag, PostRecord.hashtags), so #BanTaliban, #bantaliban and
  #BANTALIBAN are one hashtag.

A hashtag holds letters and combining marks of any script, decimal digits of any script,
underscores, and the zero-width non-joiner (U+200C) that Dari and Pashto words need
between some letters (#آزادی‌بیان). Everything else — spaces, punctuation, emoji,
variation selectors, the zero-width joiner of emoji sequences — cannot be part of one,
as on the platforms themselves.
"""

import re
import unicodedata

from django.utils.translation import gettext

MAX_LENGTH = 100
ZWNJ = "\u200c"
_HASH_SIGNS = "#\uff03"  # '#' and the full-width '＃' that X also accepts


class HashtagError(ValueError):
    """A hashtag that cannot be one; the message is translated and safe to show."""


def _is_tag_char(char: str) -> bool:
    if char == "_" or char == ZWNJ:
        return True
    category = unicodedata.category(char)
    if category[0] == "L" or category == "Nd":
        return True
    # Non-spacing and spacing marks (Arabic harakat, Indic vowel signs) belong to the
    # letters they sit on; variation selectors are marks too, but only dress up emoji.
    return category in ("Mn", "Mc") and not _is_variation_selector(char)


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _shown(char: str) -> str:
    """How to name a refused character in a message: itself if it can be seen."""
    if char.isprintable() and unicodedata.category(char)[0] not in ("M", "C", "Z"):
        return char
    return f"U+{ord(char):04X}"


def clean_hashtag(text: str) -> str:
    """Check a hashtag as typed and return it without '#', NFC, case kept.

    Raises HashtagError with a translated message saying what is wrong.
    """
    value = unicodedata.normalize("NFC", str(text)).strip()
    if value[:1] and value[0] in _HASH_SIGNS:
        value = value[1:]
    # A zero-width non-joiner at either end joins nothing: drop it, so that two ways of
    # typing the same word are one hashtag.
    value = value.strip(ZWNJ)
    if not value:
        raise HashtagError(gettext("Enter a hashtag, for example #BanTaliban."))
    if len(value) > MAX_LENGTH:
        raise HashtagError(
            gettext("A hashtag can be at most %(max)d characters long; this one has %(length)d.")
            % {"max": MAX_LENGTH, "length": len(value)}
        )
    for char in value:
        if char.isspace():
            raise HashtagError(
                gettext("A hashtag cannot contain spaces; enter one hashtag at a time.")
            )
        if not _is_tag_char(char):
            raise HashtagError(
                gettext(
                    "Hashtags can hold letters, digits and underscores; "
                    "'%(char)s' cannot be part of one."
                )
                % {"char": _shown(char)}
            )
    if not any(unicodedata.category(char)[0] == "L" for char in value):
        # X and Mastodon do not link a hashtag of digits only (#2024), so it would
        # never match a post.
        raise HashtagError(gettext("A hashtag needs at least one letter."))
    return value


def normalise_hashtag(text: str) -> str:
    """The stored and compared form of a hashtag: checked, NFC, case-folded, no '#'."""
    return clean_hashtag(text).casefold()


# A candidate: '#' not glued to a word before it (so "C#" and HTML's "&#39;" are not
# hashtags), then a word character; the run is cut at the first character that cannot
# be in a hashtag (see _tag_prefix), which lets marks and ZWNJ through.
_CANDIDATE = re.compile(r"(?<![\w&#\uff03])[#\uff03](\w[^\s#\uff03]*)")


def _tag_prefix(run: str) -> str:
    for index, char in enumerate(run):
        if not _is_tag_char(char):
            return run[:index]
    return run


def hashtags_in_text(text: str) -> list[str]:
    """The hashtags of a post's text, normalised, each once, in order of appearance.

    For CSV rows and for platforms that give no hashtag entities. Like the platforms,
    it skips hashtags of digits only and those longer than MAX_LENGTH.
    """
    if not text or ("#" not in text and "\uff03" not in text):
        return []
    found: list[str] = []
    seen: set[str] = set()
    for match in _CANDIDATE.finditer(unicodedata.normalize("NFC", text)):
        tag = _tag_prefix(match.group(1)).strip(ZWNJ)
        if not tag or len(tag) > MAX_LENGTH:
            continue
        if not any(unicodedata.category(char)[0] == "L" for char in tag):
            continue
        tag = tag.casefold()
        if tag not in seen:
            seen.add(tag)
            found.append(tag)
    return found
