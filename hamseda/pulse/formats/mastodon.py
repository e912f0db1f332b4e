"""Mastodon: the Status entity of the REST API (tag timelines, search, exports).

A post is keyed by the status's `uri`, the ActivityPub id its author's server gave
it: the same post seen through two instances has two local `id`s but one `uri`.

How a status is counted:

- a boost (`reblog` set) is a repost by the booster: its own uri (the boost's
  activity), its author the booster, its text and hashtags the boosted status's, and no
  engagement of its own (the counts belong to the boosted status). Tag timelines do not
  return boosts; home timelines and exports do;
- `in_reply_to_id` set → reply; `quote` set (Mastodon 4.4+: a Quote or ShallowQuote)
  → quote; otherwise an original;
- the text is the HTML `content` made plain: tags stripped by nh3 (Ammonia), `<br>` and
  paragraphs kept as line breaks, entities unescaped;
- the author: `account.acct` is "user" for the instance's own accounts and
  "user@domain" for others; the domain is added when missing (from the account's URL),
  so the handle reads "@user@domain" whichever instance answered. The same lower-cased
  "user@domain" is the author's id, since account ids are per instance;
- hashtags from `tags[].name`, or from the text when a server sent none.
"""

import html
import re
from urllib.parse import urlsplit

import nh3
from django.utils.translation import gettext

from hamseda.pulse.formats import FormatError, count, nfc, normal_tags, parse_time
from hamseda.pulse.hashtags import hashtags_in_text
from hamseda.pulse.records import PostRecord

_BREAK = re.compile(r"<br\s*/?>")
_PARAGRAPH_GAP = re.compile(r"</p>\s*<p>")
_PARAGRAPH = re.compile(r"</?p>")


def html_to_text(content: object) -> str:
    """Plain text of a status's HTML: no tags, line breaks kept, entities unescaped."""
    if not isinstance(content, str) or not content:
        return ""
    # Keep only <p> and <br> (nh3 parses like a browser and drops everything else,
    # including the contents of <script> and <style>), then turn those into breaks.
    cleaned = nh3.clean(content, tags={"p", "br"}, attributes={})
    cleaned = _BREAK.sub("\n", cleaned)
    cleaned = _PARAGRAPH_GAP.sub("\n\n", cleaned)
    cleaned = _PARAGRAPH.sub("", cleaned)
    return html.unescape(cleaned).strip()


def _author(status: dict) -> tuple[str, str]:
    """(author id, handle) of a status: ("user@domain", "@user@domain")."""
    account = status.get("account")
    if not isinstance(account, dict):
        raise FormatError(gettext("A Mastodon status without its account."))
    acct = account.get("acct") or account.get("username")
    if not isinstance(acct, str) or not acct:
        raise FormatError(gettext("A Mastodon status whose account has no acct."))
    acct = acct.lstrip("@")
    if "@" not in acct:
        domain = urlsplit(account.get("url") or status.get("uri") or "").hostname
        if domain:
            acct = f"{acct}@{domain}"
    return acct.lower(), f"@{acct}"


def _kind(status: dict) -> str:
    if status.get("in_reply_to_id"):
        return "reply"
    if status.get("quote"):
        return "quote"
    return "original"


def _content(status: dict) -> tuple[str, str, list[str]]:
    text = html_to_text(status.get("content"))
    tags = status.get("tags")
    if isinstance(tags, list) and tags:
        hashtags = normal_tags(tag.get("name") for tag in tags if isinstance(tag, dict))
    else:
        hashtags = hashtags_in_text(text)
    language = status.get("language")
    language = language.lower()[:16] if isinstance(language, str) else ""
    return nfc(text), language, hashtags


def parse_status(status: dict) -> PostRecord:
    """One Mastodon Status entity."""
    if not isinstance(status, dict):
        raise FormatError(gettext("A Mastodon status must be a JSON object."))
    uri = status.get("uri")
    if not isinstance(uri, str) or not uri:
        raise FormatError(gettext("A Mastodon status without its uri."))
    if len(uri) > 300:
        raise FormatError(gettext("A Mastodon status uri longer than 300 characters."))
    author_id, handle = _author(status)
    created_at = parse_time(status.get("created_at"))
    boosted = status.get("reblog")
    if isinstance(boosted, dict):
        text, language, hashtags = _content(boosted)
        url = status.get("url") or boosted.get("url") or boosted.get("uri") or ""
        return PostRecord(
            platform="mastodon",
            platform_id=uri,
            author_id=author_id,
            author_handle=handle,
            created_at=created_at,
            text=text,
            language=language,
            kind="repost",
            hashtags=hashtags,
            url=url if isinstance(url, str) and url.startswith("http") else "",
        )
    text, language, hashtags = _content(status)
    edited = status.get("edited_at")
    url = status.get("url") or uri
    return PostRecord(
        platform="mastodon",
        platform_id=uri,
        author_id=author_id,
        author_handle=handle,
        created_at=created_at,
        text=text,
        language=language,
        kind=_kind(status),
        hashtags=hashtags,
        url=url if isinstance(url, str) and url.startswith("http") else "",
        like_count=count(status.get("favourites_count")),
        repost_count=count(status.get("reblogs_count")),
        reply_count=count(status.get("replies_count")),
        quote_count=count(status.get("quotes_count")),
        edited_at=parse_time(edited) if edited else None,
    )


def parse_statuses(statuses: list, problems: list[str] | None = None) -> list[PostRecord]:
    """A JSON array of statuses (a timeline answer); with `problems`, bad statuses are
    skipped and described there, otherwise the first raises FormatError."""
    if not isinstance(statuses, list):
        if isinstance(statuses, dict) and "error" in statuses:
            raise FormatError(
                gettext("An error answer of the Mastodon API, not posts: %(detail)s")
                % {"detail": str(statuses["error"])[:200]}
            )
        raise FormatError(gettext("A Mastodon timeline must be a JSON array of statuses."))
    records = []
    for status in statuses:
        try:
            records.append(parse_status(status))
        except (FormatError, ValueError, TypeError, AttributeError, KeyError) as error:
            if problems is None:
                raise
            problems.append(_problem(status, error))
    return records


def parse_line(value: object, problems: list[str] | None = None) -> list[PostRecord]:
    """One line of a Mastodon JSONL file: a status, or an array of them."""
    if isinstance(value, list):
        return parse_statuses(value, problems)
    if not isinstance(value, dict):
        raise FormatError(gettext("Each line must be a Mastodon status (a JSON object)."))
    if "error" in value:
        raise FormatError(
            gettext("An error answer of the Mastodon API, not posts: %(detail)s")
            % {"detail": str(value["error"])[:200]}
        )
    return [parse_status(value)]


def _problem(status: object, error: Exception) -> str:
    if isinstance(error, FormatError):
        return str(error)
    uri = status.get("uri") if isinstance(status, dict) else None
    return gettext("Status %(uri)s could not be read (%(error)s).") % {
        "uri": uri[:120] if isinstance(uri, str) else "?",
        "error": type(error).__name__,
    }
