"""X (Twitter) API v2: a response page of recent search, and the lines of twarc2.

A page is `{"data": [tweet…], "includes": {"users": […], "tweets": […]}, "meta": {…}}`.
A tweet names its author by `author_id`; the handle is found in `includes.users`.
Only the tweets in `data` are posts of the campaign: `includes.tweets` holds the tweets
they retweet, quote or answer, which need not carry the hashtag.

twarc2 writes one such page per line (`twarc2 search … > tweets.jsonl`); after
`twarc2 flatten`, one tweet per line with its `author` object inline and a `__twarc`
object of metadata. `parse_line` takes either.

How a tweet is counted:

- kind from `referenced_tweets`: "retweeted" → repost, "replied_to" → reply, "quoted"
  → quote (a reply that also quotes counts as a reply);
- a retweet's `public_metrics` are the retweeted tweet's, so a repost gets no
  engagement of its own (the original's would be counted once per retweet);
- language "und" (undetermined) and X's special codes ("qme", "zxx", "qht", "qam",
  "qct", "qst": media, hashtags or mentions only…) become "" (unknown);
- edits: X gives every version of an edited tweet its own id, listed in
  `edit_history_tweet_ids` oldest first, and the tweet returned is the newest version.
  The post is keyed by the FIRST id of that list, so every version of a tweet — from
  an older file, or the current one — collapses to one post; its time is the first
  version's (read from the snowflake id, since a newer version carries only its own
  time), `edited_at` is the newest version's time, and its link points at the newest
  id. A file that gives an old version without its edit history cannot be matched to
  the later versions: it stays a post of its own, and an edit made later creates a
  second post (documented in docs/pulse.md).
- long tweets (`note_tweet`) give their full text and hashtags.
"""

from datetime import UTC, datetime

from django.utils.translation import gettext

from hamseda.pulse.formats import MAX_METRIC, FormatError, count, normal_tags, parse_time
from hamseda.pulse.hashtags import hashtags_in_text
from hamseda.pulse.records import PostRecord, ascii_digits

# Twitter's snowflake ids carry their creation time: milliseconds since this epoch,
# shifted left by 22 bits.
_SNOWFLAKE_EPOCH_MS = 1288834974657
_NO_LANGUAGE = frozenset({"und", "qme", "zxx", "qht", "qam", "qct", "qst"})
_KIND = {"retweeted": "repost", "replied_to": "reply", "quoted": "quote"}
_KIND_ORDER = ("retweeted", "replied_to", "quoted")


def snowflake_time(tweet_id: str) -> datetime:
    milliseconds = (int(tweet_id) >> 22) + _SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _kind(references: object) -> str:
    if not references or not isinstance(references, list):
        return "original"
    types = {item.get("type") for item in references if isinstance(item, dict)}
    for name in _KIND_ORDER:
        if name in types:
            return _KIND[name]
    return "original"


def parse_tweet(tweet: dict, handle: str) -> PostRecord:
    """One tweet object of the v2 API, its author's handle found by the caller."""
    if type(tweet) is not dict:
        raise FormatError(gettext("A tweet must be a JSON object."))
    tweet_id = tweet.get("id")
    if type(tweet_id) is not str or not ascii_digits(tweet_id):
        raise FormatError(gettext("A tweet without a valid id."))
    author_id = tweet.get("author_id")
    if type(author_id) is not str or not author_id:
        raise FormatError(
            gettext("Tweet %(id)s has no author_id (ask for it with expansions=author_id).")
            % {"id": tweet_id}
        )
    created = tweet.get("created_at")
    created_at = parse_time(created) if created else snowflake_time(tweet_id)
    platform_id = tweet_id
    edited_at = None
    history = tweet.get("edit_history_tweet_ids")
    if history and type(history) is list and history[0] != tweet_id:
        first = history[0]
        if not isinstance(first, str) or not ascii_digits(first):
            raise FormatError(gettext("Tweet %(id)s has a bad edit history.") % {"id": tweet_id})
        platform_id = first
        edited_at = created_at
        created_at = snowflake_time(first)
    references = tweet.get("referenced_tweets")
    kind = _kind(references) if references else "original"
    note = tweet.get("note_tweet")
    if type(note) is dict and type(note.get("text")) is str:
        text = note["text"]
        entities = note.get("entities") or tweet.get("entities")
    else:
        text = tweet.get("text") or ""
        entities = tweet.get("entities")
    if type(text) is not str:
        text = ""
    if type(entities) is dict and "hashtags" in entities:
        try:
            names = [item["tag"] for item in entities["hashtags"]]
        except (TypeError, KeyError):
            names = [item.get("tag") for item in entities["hashtags"] if isinstance(item, dict)]
        hashtags = normal_tags(names)
    else:
        hashtags = hashtags_in_text(text)
    language = tweet.get("lang") or ""
    if language:
        language = language.lower()
        if language in _NO_LANGUAGE:
            language = ""
    likes = reposts = replies = quotes = 0
    metrics = tweet.get("public_metrics")
    if kind != "repost" and type(metrics) is dict:
        # The common case (small ints) without a call; count() for anything else.
        likes = metrics.get("like_count", 0)
        if type(likes) is not int or not 0 <= likes <= MAX_METRIC:
            likes = count(likes)
        reposts = metrics.get("retweet_count", 0)
        if type(reposts) is not int or not 0 <= reposts <= MAX_METRIC:
            reposts = count(reposts)
        replies = metrics.get("reply_count", 0)
        if type(replies) is not int or not 0 <= replies <= MAX_METRIC:
            replies = count(replies)
        quotes = metrics.get("quote_count", 0)
        if type(quotes) is not int or not 0 <= quotes <= MAX_METRIC:
            quotes = count(quotes)
    return PostRecord(
        platform="x",
        platform_id=platform_id,
        author_id=author_id,
        author_handle=handle,
        created_at=created_at,
        text=text,
        language=language[:16],
        kind=kind,
        hashtags=hashtags,
        url=(
            f"https://x.com/{handle}/status/{tweet_id}"
            if handle
            else f"https://x.com/i/web/status/{tweet_id}"
        ),
        like_count=likes,
        repost_count=reposts,
        reply_count=replies,
        quote_count=quotes,
        edited_at=edited_at,
    )


def parse_page(page: dict, problems: list[str] | None = None) -> list[PostRecord]:
    """The tweets of one API response page.

    With `problems` given, a bad tweet is described there and skipped; without it, the
    first bad tweet raises FormatError.
    """
    if not isinstance(page, dict):
        raise FormatError(gettext("An X API page must be a JSON object."))
    data = page.get("data")
    if data is None:
        if "status" in page and "title" in page:
            # An API problem answer saved as if it were a page (401, 429…).
            raise FormatError(
                gettext("An error answer of the X API, not tweets: %(detail)s")
                % {"detail": _error_detail([page])}
            )
        if page.get("errors") and not page.get("meta"):
            raise FormatError(
                gettext("An error answer of the X API, not tweets: %(detail)s")
                % {"detail": _error_detail(page["errors"])}
            )
        if "meta" in page or "includes" in page:
            return []  # a page with no results ("result_count": 0)
        raise FormatError(gettext('Not an X API page: it has no "data".'))
    if isinstance(data, dict):
        data = [data]  # a single-tweet lookup answers with one object
    if not isinstance(data, list):
        raise FormatError(gettext('An X API page\'s "data" must be a list of tweets.'))
    handles: dict[str, str] = {}
    includes = page.get("includes")
    if isinstance(includes, dict):
        for user in includes.get("users") or ():
            if isinstance(user, dict) and isinstance(user.get("username"), str):
                handles[str(user.get("id"))] = user["username"]
    records = []
    for tweet in data:
        try:
            author_id = tweet.get("author_id") if isinstance(tweet, dict) else None
            records.append(parse_tweet(tweet, handles.get(str(author_id), "")))
        except (FormatError, ValueError, TypeError, AttributeError, KeyError) as error:
            if problems is None:
                raise
            problems.append(_problem(tweet, error))
    return records


def parse_flat_tweet(tweet: dict) -> PostRecord:
    """A tweet as `twarc2 flatten` writes it: the author's user object inline."""
    author = tweet.get("author")
    handle = author.get("username", "") if isinstance(author, dict) else ""
    return parse_tweet(tweet, handle if isinstance(handle, str) else "")


def parse_line(value: object, problems: list[str] | None = None) -> list[PostRecord]:
    """One line of a twarc2 file: a whole API page, or one flattened tweet."""
    if not isinstance(value, dict):
        raise FormatError(gettext("Each line must be a JSON object (an X API page or a tweet)."))
    if "data" in value or "meta" in value or "errors" in value or "title" in value:
        return parse_page(value, problems)
    if "id" in value and ("text" in value or "note_tweet" in value):
        return [parse_flat_tweet(value)]
    raise FormatError(gettext("Neither an X API page nor a tweet."))


def _error_detail(errors: object) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("detail") or first.get("message") or first.get("title") or "")[:200]
    return ""


def _problem(tweet: object, error: Exception) -> str:
    if isinstance(error, FormatError):
        return str(error)
    tweet_id = tweet.get("id") if isinstance(tweet, dict) else None
    return gettext("Tweet %(id)s could not be read (%(error)s).") % {
        "id": tweet_id if isinstance(tweet_id, str) else "?",
        "error": type(error).__name__,
    }
