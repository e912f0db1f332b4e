"""Connecting, pausing and removing a campaign's sources (the organisers' pulse page).

A Source is one hashtag or keyword on one platform (for Mastodon, on one instance);
pulse.fetch keeps it current. Every change goes through a function here, each atomic
and each checking what an organiser typed, with a translated message on SourceError.

Tokens (X's bearer token; an optional Mastodon access token for instances that hide
their tag timelines from anonymous readers) are locked with the server key
(vault.crypto.lock) and never shown again: an organiser can only replace one.

Addresses: an instance or API base URL must be https and may not name this machine or
a private network (the server would fetch whatever address an organiser typed). Tests
and local experiments allow loopback and plain http with
`HAMSEDA["PULSE_LOCAL_SOURCES"] = True`.
"""

import ipaddress
import unicodedata
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.campaigns.models import Campaign
from hamseda.pulse.hashtags import HashtagError, clean_hashtag, normalise_hashtag
from hamseda.pulse.models import Platform, Source, SourceState
from hamseda.vault import crypto

MAX_QUERY = 200
MAX_TOKEN = 2000
MAX_SOURCES = 50
# Schemes of live streams (Jetstream): their sources are made by `run_stream`, never
# by an organiser's form, and the scheduler leaves them alone.
STREAM_SCHEMES = ("ws://", "wss://")


class SourceError(ValueError):
    """A source that cannot be added or changed; the message is translated and safe to
    show, and `field` names the form field it is about (or "")."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def local_addresses_allowed() -> bool:
    return bool(settings.HAMSEDA.get("PULSE_LOCAL_SOURCES", False))


def is_stream(source: Source) -> bool:
    """A live Jetstream source (connectors.jetstream), not fetched by the scheduler."""
    return source.base_url.startswith(STREAM_SCHEMES)


def token_of(source: Source) -> str:
    """The source's token in plain text, for the request that needs it ("" if none)."""
    if not source.locked_token:
        return ""
    return str(crypto.unlock(source.locked_token).get("token", ""))


# --- checking what an organiser typed -----------------------------------------------------


def clean_query(platform: str, query: str, *, is_hashtag: bool) -> str:
    """A hashtag as typed without '#' (clean_hashtag), or a keyword on one line."""
    if is_hashtag:
        try:
            return clean_hashtag(query)
        except HashtagError as error:
            raise SourceError(str(error), "query") from None
    if platform == Platform.MASTODON:
        raise SourceError(
            _("Mastodon instances show hashtag timelines only; enter a hashtag."), "query"
        )
    value = " ".join(unicodedata.normalize("NFC", str(query)).split())
    if not value:
        raise SourceError(_("Enter a hashtag or a keyword."), "query")
    if len(value) > MAX_QUERY:
        raise SourceError(
            _("A keyword can be at most %(max)d characters long.") % {"max": MAX_QUERY}, "query"
        )
    if any(unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn") for char in value):
        raise SourceError(_("The keyword holds characters that cannot be searched."), "query")
    return value


def clean_base_url(platform: str, base_url: str) -> str:
    """An instance or API address as "https://host[:port]"; "" when none is given
    (X and Bluesky then use their public API)."""
    value = str(base_url).strip()
    if not value:
        if platform == Platform.MASTODON:
            raise SourceError(
                _("Enter the address of a Mastodon instance, like https://mastodon.social."),
                "base_url",
            )
        return ""
    if "://" not in value:
        value = f"https://{value}"
    invalid = SourceError(
        _("Enter an address like https://mastodon.social (https, no path)."), "base_url"
    )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise invalid from None
    host = (parts.hostname or "").rstrip(".")
    local = local_addresses_allowed()
    if parts.scheme != "https" and not (local and parts.scheme == "http"):
        raise invalid
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise invalid
    if parts.path not in ("", "/"):
        raise invalid
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise invalid from None
    if not local and _is_private(host):
        raise SourceError(
            _("That address is on this machine or a private network; enter a public instance."),
            "base_url",
        )
    shown_host = f"[{host}]" if ":" in host else host
    address = f"{parts.scheme}://{shown_host}" + (f":{port}" if port else "")
    if len(address) > 200:
        raise invalid
    return address


def _is_private(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def clean_token(token: str) -> str:
    value = str(token).strip()
    if not value:
        raise SourceError(_("Paste the token."), "token")
    if len(value) > MAX_TOKEN or not value.isascii() or not value.isprintable() or " " in value:
        raise SourceError(
            _("That does not look like a token: paste it without spaces or line breaks."),
            "token",
        )
    return value


def _same_query(platform: str, first: str, second: str, is_hashtag: bool) -> bool:
    if is_hashtag:
        try:
            return normalise_hashtag(first) == normalise_hashtag(second)
        except HashtagError:
            return False
    return first.casefold() == second.casefold()


# --- services -------------------------------------------------------------------------------


def add_source(
    campaign: Campaign,
    *,
    platform: str,
    query: str,
    is_hashtag: bool = True,
    base_url: str = "",
    token: str = "",
    now: datetime | None = None,
) -> Source:
    """Connect a new source to a campaign; the scheduler fetches it within minutes."""
    if platform not in Platform.values:
        raise SourceError(_("Choose X, Bluesky or Mastodon."), "platform")
    query = clean_query(platform, query, is_hashtag=is_hashtag)
    base_url = clean_base_url(platform, base_url)
    token = str(token or "").strip()
    if platform == Platform.X and not token:
        raise SourceError(
            _("X needs the bearer token of your X developer app to search for posts."), "token"
        )
    if platform == Platform.BLUESKY and token:
        raise SourceError(_("Bluesky needs no token; leave the token empty."), "token")
    locked = crypto.lock({"token": clean_token(token)}) if token else None
    with transaction.atomic():
        existing = list(
            Source.objects.select_for_update()
            .filter(campaign=campaign)
            .values_list("platform", "base_url", "query", "is_hashtag")
        )
        if len(existing) >= MAX_SOURCES:
            raise SourceError(
                _("A campaign can have at most %(max)d sources.") % {"max": MAX_SOURCES}
            )
        for other_platform, other_base, other_query, other_is_hashtag in existing:
            if (
                other_platform == platform
                and other_base == base_url
                and other_is_hashtag == is_hashtag
                and _same_query(platform, other_query, query, is_hashtag)
            ):
                raise SourceError(_("This source is already connected to the campaign."), "query")
        try:
            with transaction.atomic():
                return Source.objects.create(
                    campaign=campaign,
                    platform=platform,
                    query=query,
                    is_hashtag=is_hashtag,
                    base_url=base_url,
                    locked_token=locked,
                    state=SourceState.ACTIVE,
                    created_at=now or timezone.now(),
                )
        except IntegrityError:
            # Another organiser added the same source a moment ago.
            raise SourceError(
                _("This source is already connected to the campaign."), "query"
            ) from None


def remove_source(source: Source) -> None:
    """Stop fetching a source and forget it and its token. The posts it brought stay:
    they are the campaign's (Post has no link to its source)."""
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).delete()


def set_paused(source: Source, paused: bool) -> Source:
    """Pause or resume fetching; a paused source keeps its place and resumes where it
    stopped. Resuming a source whose token was refused leaves it needing a new token;
    one without a token (an instance that refused visitors) is simply tried again."""
    with transaction.atomic():
        current = Source.objects.select_for_update().get(pk=source.pk)
        retry = current.state == SourceState.FAILING and not current.locked_token
        if paused and current.state != SourceState.PAUSED:
            current.state = SourceState.PAUSED
        elif not paused and (current.state == SourceState.PAUSED or retry):
            current.state = SourceState.ACTIVE
            current.last_error = ""
        else:
            return current
        current.save(update_fields=["state", "last_error"])
    return current


def replace_token(source: Source, token: str) -> Source:
    """Give a source a new token (the old one was revoked or wrong): it is active again
    and the next scheduled fetch uses the new token."""
    if source.platform == Platform.BLUESKY:
        raise SourceError(_("Bluesky needs no token; leave the token empty."), "token")
    locked = crypto.lock({"token": clean_token(token)})
    with transaction.atomic():
        current = Source.objects.select_for_update().get(pk=source.pk)
        current.locked_token = locked
        current.state = SourceState.ACTIVE
        current.last_error = ""
        current.save(update_fields=["locked_token", "state", "last_error"])
    return current
