"""CSV exports: one post per row, columns found by name.

The documented header (any order, any dialect csv.Sniffer recognises, UTF-8 with or
without a byte-order mark; columns not listed here are ignored):

    platform,id,created_at,author_id,author,text,lang,kind,like_count,repost_count,
    reply_count,quote_count,url,deleted

Required per row: `id`, `created_at` and a platform — from the `platform` column (x,
twitter, bluesky, bsky, mastodon), else from the id itself (at://… is Bluesky, an
https:// status uri is Mastodon), else from a header that only X exports have
(tweet_id, id_str, screen_name, retweet_count, favorite_count, twarc's
public_metrics.* and referenced_tweets.*). A row without them is a bad line.

Common other names are understood (ALIASES below): tweet_id/id_str/uri for id,
username/screen_name/user/author.username for author, date/timestamp for created_at,
retweet_count/reblogs_count for repost_count, favorite_count/favourites_count for
like_count, twarc-csv's public_metrics.* and referenced_tweets.*.id columns. Times are
ISO 8601 (a time without a zone is UTC), X's old "Wed Oct 10 20:19:24 +0000 2018", or
Unix seconds or milliseconds. `kind` is original, reply, quote or repost (retweet,
boost and reblog mean repost); without it, twarc-csv's referenced_tweets columns, an
in-reply-to column, or an X text beginning "RT @" tell. `deleted` is true/1/yes for a
post its author deleted. Hashtags come from a `hashtags` column (space- or
comma-separated) and from the text.
"""

import contextlib
import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.translation import gettext

from hamseda.pulse.formats import FormatError, count, nfc, normal_tags, parse_time
from hamseda.pulse.hashtags import hashtags_in_text
from hamseda.pulse.records import PostRecord, ascii_digits

ALIASES: dict[str, tuple[str, ...]] = {
    "platform": ("platform", "network", "site", "service"),
    # A status's or post's uri first: where a file has both, the uri is global and the
    # id only the answering server's (Mastodon).
    "id": ("uri", "post_uri", "id", "tweet_id", "id_str", "post_id", "status_id", "tweet.id"),
    "created_at": (
        "created_at",
        "date",
        "timestamp",
        "time",
        "datetime",
        "created",
        "posted_at",
        "tweet_created_at",
    ),
    "author_id": ("author_id", "user_id", "author.id", "account_id", "user.id", "did"),
    "author": (
        "author",
        "author_handle",
        "handle",
        "username",
        "screen_name",
        "user",
        "user_screen_name",
        "user.screen_name",
        "author.username",
        "author.handle",
        "acct",
        "account",
    ),
    "text": ("text", "content", "full_text", "tweet", "body", "message"),
    "lang": ("lang", "language"),
    "kind": ("kind", "type", "post_type"),
    "like_count": (
        "like_count",
        "likes",
        "favorite_count",
        "favourite_count",
        "favourites_count",
        "favorites",
        "public_metrics.like_count",
    ),
    "repost_count": (
        "repost_count",
        "retweet_count",
        "reposts",
        "retweets",
        "reblogs_count",
        "public_metrics.retweet_count",
    ),
    "reply_count": ("reply_count", "replies", "replies_count", "public_metrics.reply_count"),
    "quote_count": ("quote_count", "quotes", "quotes_count", "public_metrics.quote_count"),
    "url": ("url", "link", "permalink", "tweet_url", "status_url"),
    "deleted": ("deleted", "is_deleted"),
    "hashtags": ("hashtags", "tags", "entities.hashtags"),
    "edited_at": ("edited_at",),
    "retweeted_id": ("referenced_tweets.retweeted.id", "retweeted_status_id"),
    "quoted_id": ("referenced_tweets.quoted.id", "quoted_status_id"),
    "reply_to_id": (
        "referenced_tweets.replied_to.id",
        "in_reply_to_status_id",
        "in_reply_to_id",
        "in_reply_to_status_id_str",
    ),
}
# Columns only X exports have: a CSV with one of them and no platform column is X's.
_X_ONLY = frozenset(
    {
        "tweet_id",
        "id_str",
        "screen_name",
        "retweet_count",
        "favorite_count",
        "public_metrics.like_count",
        "public_metrics.retweet_count",
        "referenced_tweets.retweeted.id",
        "__twarc.url",
        "tweet_url",
    }
)
ID_COLUMNS = frozenset(ALIASES["id"])
_PLATFORMS = {
    "x": "x",
    "twitter": "x",
    "x.com": "x",
    "twitter.com": "x",
    "bluesky": "bluesky",
    "bsky": "bluesky",
    "bsky.app": "bluesky",
    "mastodon": "mastodon",
    "fediverse": "mastodon",
}
_KINDS = {
    "original": "original",
    "post": "original",
    "tweet": "original",
    "status": "original",
    "reply": "reply",
    "replied_to": "reply",
    "quote": "quote",
    "quoted": "quote",
    "repost": "repost",
    "retweet": "repost",
    "retweeted": "repost",
    "reblog": "repost",
    "boost": "repost",
}
_TRUE = frozenset({"1", "true", "yes", "y", "t", "deleted"})
_NO_LANGUAGE = frozenset({"und", "qme", "zxx", "qht", "qam", "qct", "qst"})
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_TAG_SPLIT = re.compile(r"[\s,;|]+")


def sniff_dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    """The CSV dialect of a file from its first lines: what csv.Sniffer finds, checked
    against the header line; if that header has no id and time column, the first of
    comma, semicolon, tab and bar that gives one (Sniffer can be misled by separators
    inside the posts' text)."""
    sample = sample.lstrip("\ufeff")
    first_line = sample.splitlines()[0] if sample else ""
    candidates: list = []
    with contextlib.suppress(csv.Error):
        candidates.append(csv.Sniffer().sniff(sample[:16384], delimiters=",;\t|"))
    for delimiter in ",;\t|":
        candidates.append(type("Separated", (csv.excel,), {"delimiter": delimiter}))
    for dialect in candidates:
        try:
            read_header(next(csv.reader([first_line], dialect), []))
        except (FormatError, csv.Error):
            continue
        return dialect
    return candidates[0]


def _key(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_")


@dataclass(frozen=True)
class Columns:
    """Where each known field is in a row; -1 when the file has no such column."""

    index: dict[str, int]
    default_platform: str

    def has(self, field: str) -> bool:
        return self.index.get(field, -1) >= 0


def read_header(header: list[str]) -> Columns:
    """Map a CSV header to the known fields; FormatError if it has no id column."""
    names = [_key(name) for name in header]
    index: dict[str, int] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            if alias in names:
                index[field] = names.index(alias)
                break
    if "id" not in index:
        raise FormatError(
            gettext("The CSV header has no id column (id, tweet_id, uri…): %(header)s")
            % {"header": ", ".join(header)[:200]}
        )
    if "created_at" not in index:
        raise FormatError(
            gettext("The CSV header has no time column (created_at, date, timestamp…).")
        )
    default = "x" if _X_ONLY.intersection(names) else ""
    return Columns(index=index, default_platform=default)


def _get(columns: Columns, row: list[str], field: str) -> str:
    position = columns.index.get(field, -1)
    if position < 0 or position >= len(row):
        return ""
    return row[position].strip()


def parse_csv_time(value: str) -> datetime:
    if not value:
        raise FormatError(gettext("The row has no time."))
    if ascii_digits(value):
        number = int(value)
        # Unix milliseconds have 13 digits until the year 2286.
        seconds = number / 1000 if number >= 100_000_000_000 else number
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise FormatError(
                gettext("'%(value)s' is not a time.") % {"value": value[:40]}
            ) from None
    if value[:3].isalpha() and "+" in value:
        try:
            return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        except ValueError:
            pass
    return parse_time(value)


def _platform(columns: Columns, row: list[str], post_id: str) -> str:
    given = _get(columns, row, "platform").lower()
    if given:
        platform = _PLATFORMS.get(given)
        if platform is None:
            raise FormatError(
                gettext("Unknown platform '%(platform)s' (x, bluesky or mastodon).")
                % {"platform": given[:40]}
            )
        return platform
    if post_id.startswith("at://"):
        return "bluesky"
    if post_id.startswith(("https://", "http://")):
        return "mastodon"
    if columns.default_platform:
        return columns.default_platform
    raise FormatError(gettext("The row does not say its platform (add a platform column)."))


def _check_id(platform: str, post_id: str) -> None:
    if not post_id:
        raise FormatError(gettext("The row has no id."))
    if len(post_id) > 300:
        raise FormatError(gettext("The id is longer than 300 characters."))
    if platform == "x" and not ascii_digits(post_id):
        if _SCIENTIFIC.match(post_id):
            raise FormatError(
                gettext(
                    "The tweet id %(id)s was rounded by a spreadsheet; "
                    "export the id column as text."
                )
                % {"id": post_id}
            )
        raise FormatError(gettext("'%(id)s' is not a tweet id.") % {"id": post_id[:40]})
    if platform == "bluesky" and not (
        post_id.startswith("at://") and "/app.bsky.feed.post/" in post_id
    ):
        raise FormatError(
            gettext("'%(id)s' is not the at:// uri of a Bluesky post.") % {"id": post_id[:80]}
        )
    if platform == "mastodon" and not post_id.startswith(("https://", "http://")):
        raise FormatError(
            gettext("'%(id)s' is not the uri of a Mastodon status.") % {"id": post_id[:80]}
        )


def _kind(columns: Columns, row: list[str], platform: str, text: str) -> str:
    given = _get(columns, row, "kind").lower()
    if given:
        kind = _KINDS.get(given)
        if kind is None:
            raise FormatError(
                gettext("Unknown kind '%(kind)s' (original, reply, quote or repost).")
                % {"kind": given[:40]}
            )
        return kind
    if _get(columns, row, "retweeted_id"):
        return "repost"
    if _get(columns, row, "reply_to_id"):
        return "reply"
    if _get(columns, row, "quoted_id"):
        return "quote"
    if platform == "x" and text.startswith("RT @"):
        return "repost"
    return "original"


def _url(platform: str, post_id: str, handle: str, author_id: str, given: str) -> str:
    if given.startswith(("https://", "http://")) and len(given) <= 500:
        return given
    if platform == "x":
        return (
            f"https://x.com/{handle}/status/{post_id}"
            if handle
            else f"https://x.com/i/web/status/{post_id}"
        )
    if platform == "bluesky":
        did, _, rkey = post_id[5:].partition("/app.bsky.feed.post/")
        return f"https://bsky.app/profile/{handle or did}/post/{rkey}"
    return post_id if len(post_id) <= 500 else ""


def _number(value: str) -> int:
    return count(value.replace(",", "").replace("_", "").replace(" ", ""))


def parse_row(columns: Columns, row: list[str]) -> PostRecord:
    """One CSV row as a PostRecord; FormatError says what is wrong with a bad one."""
    post_id = _get(columns, row, "id")
    if not post_id:
        raise FormatError(gettext("The row has no id."))
    platform = _platform(columns, row, post_id)
    _check_id(platform, post_id)
    created_at = parse_csv_time(_get(columns, row, "created_at"))
    handle = _get(columns, row, "author").lstrip("@")[:200]
    author_id = _get(columns, row, "author_id")[:200]
    if not author_id:
        # A Bluesky post's uri holds its author's DID, the id the API gives; elsewhere
        # the handle is the best id there is (docs/pulse.md: a CSV without author ids
        # may count a person seen through the API twice).
        author_id = post_id[5:].partition("/")[0] if platform == "bluesky" else handle.lower()
    deleted = _get(columns, row, "deleted").lower() in _TRUE
    if deleted:
        return PostRecord(
            platform=platform,
            platform_id=post_id,
            author_id=author_id,
            author_handle=handle,
            created_at=created_at,
            deleted=True,
        )
    if not author_id:
        raise FormatError(gettext("The row has no author (author or author_id)."))
    text = nfc(_get(columns, row, "text"))
    names = _TAG_SPLIT.split(_get(columns, row, "hashtags"))
    hashtags = normal_tags(name for name in names if name)
    for tag in hashtags_in_text(text):
        if tag not in hashtags:
            hashtags.append(tag)
    language = _get(columns, row, "lang").lower()[:16]
    if language in _NO_LANGUAGE:
        language = ""
    kind = _kind(columns, row, platform, text)
    edited = _get(columns, row, "edited_at")
    record = PostRecord(
        platform=platform,
        platform_id=post_id,
        author_id=author_id,
        author_handle=handle,
        created_at=created_at,
        text=text,
        language=language,
        kind=kind,
        hashtags=hashtags,
        url=_url(platform, post_id, handle, author_id, _get(columns, row, "url")),
        edited_at=parse_csv_time(edited) if edited else None,
    )
    if kind != "repost":
        record.like_count = _number(_get(columns, row, "like_count"))
        record.repost_count = _number(_get(columns, row, "repost_count"))
        record.reply_count = _number(_get(columns, row, "reply_count"))
        record.quote_count = _number(_get(columns, row, "quote_count"))
    return record
