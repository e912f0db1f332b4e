"""`PostRecord`: one post as read from a file or an API answer, before it is stored.

Every parser (pulse.formats) turns a platform's JSON or a CSV row into PostRecords, and
`pulse.ingest` stores them; the two sides agree on nothing else.
"""

from dataclasses import dataclass, field
from datetime import datetime


def ascii_digits(text: str) -> bool:
    """Whether `text` is a number as the platforms write one (ids, counts, header
    values): ASCII digits only. `str.isdigit()` alone also takes "²", which int()
    refuses."""
    return text.isascii() and text.isdigit()


@dataclass(slots=True)
class PostRecord:
    platform: str  # models.Platform value
    platform_id: str
    author_id: str
    author_handle: str
    created_at: datetime  # aware, UTC
    text: str = ""
    language: str = ""  # BCP 47 as the platform tagged it, lower-case; "" unknown
    kind: str = "original"  # models.PostKind value
    hashtags: list[str] = field(default_factory=list)  # lower-case (casefold), NFC, no '#'
    url: str = ""
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    edited_at: datetime | None = None
    # True for a deletion notice (Jetstream delete, a "deleted" CSV row): only the
    # platform and id matter; the stored post loses its text and stops counting.
    deleted: bool = False
