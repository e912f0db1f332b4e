"""Parsers from the platforms' documented JSON and from CSV exports to PostRecords.

One module per input kind (x, bluesky, mastodon, csv_rows) and `detect` to tell which
kind a file is. Parsers are pure: they take parsed JSON (dicts) or CSV rows and return
PostRecords, raising FormatError for input that is not what they expect. They never
touch the database; `pulse.ingest` stores what they return.
"""

import unicodedata
from datetime import UTC, datetime

from django.utils.translation import gettext

from hamseda.pulse.hashtags import HashtagError, normalise_hashtag
from hamseda.pulse.records import ascii_digits


class FormatError(ValueError):
    """Input that is not in the expected shape; the message says what is wrong."""


def parse_time(value: object) -> datetime:
    """An ISO 8601 time as the APIs write it ("2024-05-01T12:34:56.000Z"), aware UTC.

    A time without a zone is taken as UTC, which is what every platform means.
    """
    if not isinstance(value, str) or not value:
        raise FormatError(gettext("The post has no time."))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FormatError(
            gettext("'%(value)s' is not a time in ISO 8601 form.") % {"value": value[:40]}
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment


# name as given → stored form ("" for a name that cannot be a hashtag). A campaign's
# posts repeat the same few hashtags millions of times; the cache is emptied when it
# grows past _CACHE_SIZE, which a stream of always-new names would otherwise make it.
_TAGS: dict[str, str] = {}
_CACHE_SIZE = 65536


def _tag(name: str) -> str:
    try:
        tag = normalise_hashtag(name)
    except HashtagError:
        tag = ""
    if len(_TAGS) >= _CACHE_SIZE:
        _TAGS.clear()
    _TAGS[name] = tag
    return tag


def normal_tags(names) -> list[str]:
    """The stored form of hashtag names given by a platform (entities, facets, tags),
    each once; names that cannot be hashtags are dropped rather than failing a post."""
    found: list[str] = []
    for name in names:
        if type(name) is not str:
            continue
        tag = _TAGS.get(name)
        if tag is None:
            tag = _tag(name)
        if tag and tag not in found:
            found.append(tag)
    return found


def nfc(text: object) -> str:
    return unicodedata.normalize("NFC", text) if isinstance(text, str) else ""


# A metric is capped so that the four of them summed (Post.engagement) still fit the
# database's 32-bit integer; no post comes near it (the most liked ones have millions).
MAX_METRIC = 500_000_000


def count(value: object) -> int:
    """A metric as an int; anything else (null, text, negative) counts as 0."""
    if type(value) is int and value > 0:
        return value if value < MAX_METRIC else MAX_METRIC
    if isinstance(value, str) and ascii_digits(value):
        return min(int(value), MAX_METRIC)
    return 0
