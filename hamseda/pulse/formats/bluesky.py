"""Bluesky: post views of `app.bsky.feed.searchPosts`, and Jetstream events.

A search page is `{"posts": [postView…], "cursor": "…", "hitsTotal": n}`; a post view
(`app.bsky.feed.defs#postView`) carries the post's `uri` (at://DID/app.bsky.feed.post/
RKEY — the post's id here), its `author` (did, handle), the `record` as written
(`app.bsky.feed.post`: text, createdAt, langs, facets, reply, embed) and the counts.

How a post is counted:

- kind: a record with `reply` is a reply; one embedding another post
  (`app.bsky.embed.record`, or `app.bsky.embed.recordWithMedia` around one) is a quote;
  anything else is an original. Search never returns reposts (a repost is a separate
  `app.bsky.feed.repost` record that points at the post, with no text of its own), so
  Bluesky contributes no reposts; the post's `repostCount` is kept as engagement.
- hashtags: tag facets (`app.bsky.richtext.facet#tag`), the record's extra `tags`, and
  any "#word" of the text (some clients write no facets);
- language: the first of `langs`, as the author's client tagged it;
- link: https://bsky.app/profile/HANDLE/post/RKEY.

Jetstream (Bluesky's JSON firehose) gives commits of `app.bsky.feed.post` records:
create, update and delete. An event names its author by DID only — Jetstream does not
resolve handles — so such posts carry the DID as their handle (and in their link, which
bsky.app accepts) until a search answer for the same post brings the handle. A post's
record key is a TID, which holds its creation time, so a delete tells which hour's
count to take it from.
"""

from datetime import UTC, datetime

from django.utils.translation import gettext

from hamseda.pulse.formats import FormatError, count, normal_tags, parse_time
from hamseda.pulse.hashtags import hashtags_in_text
from hamseda.pulse.records import PostRecord

POST_COLLECTION = "app.bsky.feed.post"
_QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")
_TAG_FEATURE = "app.bsky.richtext.facet#tag"
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_VALUE = {char: index for index, char in enumerate(_TID_ALPHABET)}


def tid_time(rkey: str) -> datetime | None:
    """The creation time held in a TID record key (13 base32-sortable characters: 53
    bits of microseconds since 1970, then 10 bits of clock id), or None if not a TID."""
    if len(rkey) != 13:
        return None
    value = 0
    for char in rkey:
        digit = _TID_VALUE.get(char)
        if digit is None:
            return None
        value = value << 5 | digit
    microseconds = value >> 10
    try:
        moment = datetime.fromtimestamp(microseconds / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    # Bluesky began in 2022; a key that decodes to earlier is not a TID.
    return moment if moment.year >= 2022 else None


def _split_uri(uri: object) -> tuple[str, str]:
    """(DID, record key) of an at:// URI of a post."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise FormatError(gettext("A Bluesky post needs an at:// uri."))
    parts = uri[5:].split("/")
    if len(parts) != 3 or parts[1] != POST_COLLECTION or not parts[0] or not parts[2]:
        raise FormatError(
            gettext("'%(uri)s' is not the uri of a Bluesky post.") % {"uri": uri[:120]}
        )
    return parts[0], parts[2]


def _kind(record: dict) -> str:
    if record.get("reply"):
        return "reply"
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("$type") in _QUOTE_EMBEDS:
        inner = embed.get("record")
        if isinstance(inner, dict) and embed["$type"] == _QUOTE_EMBEDS[1]:
            inner = inner.get("record")
        # Embedding a feed generator or a list is not quoting a post.
        uri = inner.get("uri") if isinstance(inner, dict) else None
        if isinstance(uri, str) and f"/{POST_COLLECTION}/" in uri:
            return "quote"
    return "original"


def _hashtags(record: dict, text: str) -> list[str]:
    names: list[object] = []
    for facet in record.get("facets") or ():
        if isinstance(facet, dict):
            for feature in facet.get("features") or ():
                if isinstance(feature, dict) and feature.get("$type") == _TAG_FEATURE:
                    names.append(feature.get("tag"))
    extra = record.get("tags")
    if isinstance(extra, list):
        names.extend(extra)
    tags = normal_tags(names)
    for tag in hashtags_in_text(text):
        if tag not in tags:
            tags.append(tag)
    return tags


def _language(record: dict) -> str:
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        return langs[0].lower()[:16]
    return ""


def _from_record(
    did: str, rkey: str, handle: str, record: object, fallback_time: object
) -> PostRecord:
    if not isinstance(record, dict):
        raise FormatError(gettext("A Bluesky post without its record."))
    text = record.get("text")
    text = text if isinstance(text, str) else ""
    created = record.get("createdAt") or fallback_time
    return PostRecord(
        platform="bluesky",
        platform_id=f"at://{did}/{POST_COLLECTION}/{rkey}",
        author_id=did,
        author_handle=handle,
        created_at=parse_time(created),
        text=text,
        language=_language(record),
        kind=_kind(record),
        hashtags=_hashtags(record, text),
        url=f"https://bsky.app/profile/{handle or did}/post/{rkey}",
    )


def parse_post_view(view: dict) -> PostRecord:
    """One app.bsky.feed.defs#postView."""
    if not isinstance(view, dict):
        raise FormatError(gettext("A Bluesky post must be a JSON object."))
    did, rkey = _split_uri(view.get("uri"))
    author = view.get("author")
    handle = author.get("handle") if isinstance(author, dict) else None
    if not isinstance(handle, str) or handle == "handle.invalid":
        # The AppView says "handle.invalid" when a handle no longer verifies.
        handle = did
    post = _from_record(did, rkey, handle, view.get("record"), view.get("indexedAt"))
    post.like_count = count(view.get("likeCount"))
    post.repost_count = count(view.get("repostCount"))
    post.reply_count = count(view.get("replyCount"))
    post.quote_count = count(view.get("quoteCount"))
    return post


def parse_search_page(page: dict, problems: list[str] | None = None) -> list[PostRecord]:
    """The posts of one searchPosts answer; with `problems`, bad posts are skipped and
    described there, otherwise the first raises FormatError."""
    if not isinstance(page, dict) or not isinstance(page.get("posts"), list):
        if isinstance(page, dict) and "error" in page:
            raise FormatError(
                gettext("An error answer of the Bluesky API, not posts: %(detail)s")
                % {"detail": str(page.get("message") or page["error"])[:200]}
            )
        raise FormatError(gettext('Not a Bluesky search page: it has no "posts" list.'))
    return parse_views(page["posts"], problems)


def parse_views(views: list, problems: list[str] | None = None) -> list[PostRecord]:
    records = []
    for view in views:
        try:
            records.append(parse_post_view(view))
        except (FormatError, ValueError, TypeError, AttributeError, KeyError) as error:
            if problems is None:
                raise
            problems.append(_problem(view, error))
    return records


def parse_jetstream_event(event: dict) -> PostRecord | None:
    """A Jetstream event: a PostRecord for the create, update or delete of a post
    record, None for every other event (identity, account, other collections).

    Parsing does not filter: the caller keeps the posts that carry its hashtags.
    """
    if not isinstance(event, dict):
        raise FormatError(gettext("A Jetstream event must be a JSON object."))
    if event.get("kind", event.get("type")) not in ("commit", "com"):
        return None
    commit = event.get("commit")
    if not isinstance(commit, dict) or commit.get("collection") != POST_COLLECTION:
        return None
    did = event.get("did")
    rkey = commit.get("rkey")
    if not isinstance(did, str) or not did.startswith("did:") or not isinstance(rkey, str):
        raise FormatError(gettext("A Jetstream commit without its did or rkey."))
    operation = commit.get("operation", commit.get("type"))
    event_time = _event_time(event.get("time_us"))
    if operation in ("delete", "d"):
        created = tid_time(rkey) or event_time
        if created is None:
            raise FormatError(gettext("A Jetstream delete without a time."))
        return PostRecord(
            platform="bluesky",
            platform_id=f"at://{did}/{POST_COLLECTION}/{rkey}",
            author_id=did,
            author_handle=did,
            created_at=created,
            deleted=True,
        )
    if operation not in ("create", "c", "update", "u"):
        raise FormatError(gettext("A Jetstream commit of an unknown operation."))
    fallback = event_time.isoformat() if event_time else None
    post = _from_record(did, rkey, did, commit.get("record"), fallback)
    if operation in ("update", "u"):
        post.edited_at = event_time
    return post


def parse_line(value: object, problems: list[str] | None = None) -> list[PostRecord]:
    """One line of a Bluesky JSONL file: a search page, a post view, or a Jetstream
    event."""
    if isinstance(value, dict):
        if "posts" in value or ("error" in value and "uri" not in value):
            return parse_search_page(value, problems)
        if "commit" in value or "time_us" in value:
            post = parse_jetstream_event(value)
            return [post] if post is not None else []
        if "uri" in value:
            return [parse_post_view(value)]
    raise FormatError(gettext("Neither a Bluesky search page, a post nor a Jetstream event."))


def _event_time(time_us: object) -> datetime | None:
    if type(time_us) is not int or time_us <= 0:
        return None
    try:
        return datetime.fromtimestamp(time_us / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _problem(view: object, error: Exception) -> str:
    if isinstance(error, FormatError):
        return str(error)
    uri = view.get("uri") if isinstance(view, dict) else None
    return gettext("Post %(uri)s could not be read (%(error)s).") % {
        "uri": uri[:120] if isinstance(uri, str) else "?",
        "error": type(error).__name__,
    }
