"""Erasure by e-mail address (PRIVACY.md rule 8): a supporter deletes everything Hamseda
holds for their address, on every petition, from a link mailed to that address.

The address itself is never stored. It is turned into its keyed fingerprint
(`crypto.email_fingerprint`, the same on every petition), and every app that holds data
by fingerprint registers an *eraser* here, in its `AppConfig.ready()`:

    register_eraser("petitions.signatures", count=..., erase=..., describe=...)

`count(fingerprint)` says how many records the app holds, `erase(fingerprint, now=...)`
deletes them (keeping its own counters exact) and returns how many it deleted, and
`describe(n)` names them for the supporter ("3 signatures"). Petitions register their
signatures; an app that adds RSVPs registers those, and erasure covers them with no
change here.

1. `request_erasure(address)`: fingerprint the address; at most once per
   ERASURE_MAIL_MINUTES per address, and only if some eraser holds something for it,
   queue a mail through the encrypted outbox with a link /privacy/erase/<token>. The
   page says the same whatever happened: it must not tell whether an address signed.
2. The token is the fingerprint and the time it was issued, encrypted and authenticated
   with a key derived from the server secret for this purpose alone (XSalsa20-Poly1305):
   a forged or altered token fails, nothing about the address can be read from the URL
   (which reaches access logs and browser histories), and it expires after
   ERASURE_LINK_HOURS.
3. `erase_with_token(token)`: every eraser deletes what it holds, in one transaction.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import nacl.exceptions
import nacl.secret
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from hamseda.links import absolute_url
from hamseda.mail.services import queue_message
from hamseda.vault import crypto
from hamseda.vault.models import ErasureMailLimit

# Our tokens are 107 characters; a longer one is not worth decoding.
MAX_TOKEN = 200
_TOKEN_VERSION = 1


@dataclass(frozen=True)
class Eraser:
    name: str
    count: Callable[[str], int]
    erase: Callable[..., int]  # erase(fingerprint, *, now) -> records deleted
    describe: Callable[[int], str]


_erasers: dict[str, Eraser] = {}


def register_eraser(
    name: str,
    *,
    count: Callable[[str], int],
    erase: Callable[..., int],
    describe: Callable[[int], str],
) -> None:
    """Make erasure by e-mail address cover the records an app keeps by fingerprint.
    Call it from the app's AppConfig.ready(); registering a name again replaces it."""
    _erasers[name] = Eraser(name, count, erase, describe)


def erasers() -> list[Eraser]:
    return list(_erasers.values())


class LinkOutcome(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class ErasureLink:
    outcome: LinkOutcome
    fingerprint: str = ""


@dataclass(frozen=True)
class Erasure:
    """What following an erasure link found (`held`) or deleted (`erased`), per eraser."""

    outcome: LinkOutcome
    held: dict[str, int] = field(default_factory=dict)
    erased: dict[str, int] = field(default_factory=dict)

    @property
    def total_held(self) -> int:
        return sum(self.held.values())

    @property
    def total_erased(self) -> int:
        return sum(self.erased.values())

    @property
    def held_described(self) -> list[str]:
        return _describe(self.held)

    @property
    def erased_described(self) -> list[str]:
        return _describe(self.erased)


def _describe(counts: dict[str, int]) -> list[str]:
    """["2 signatures", …] in the active language, for the records there are."""
    return [_erasers[name].describe(n) for name, n in counts.items() if n and name in _erasers]


# --- the link ---------------------------------------------------------------------------


def _box() -> nacl.secret.SecretBox:
    return nacl.secret.SecretBox(crypto.derive_key("erasure-link"))


def erasure_token(fingerprint: str, *, now: datetime) -> str:
    """version (1 byte) + issued at (8 bytes, Unix seconds) + fingerprint (32 bytes),
    encrypted and authenticated, in URL-safe base64 without padding."""
    plain = (
        bytes([_TOKEN_VERSION])
        + int(now.timestamp()).to_bytes(8, "big")
        + bytes.fromhex(fingerprint)
    )
    return base64.urlsafe_b64encode(bytes(_box().encrypt(plain))).decode().rstrip("=")


def read_erasure_token(token: str, *, now: datetime | None = None) -> ErasureLink:
    """The fingerprint an erasure link is for, if the link is ours and not expired."""
    now = now or timezone.now()
    if not token or len(token) > MAX_TOKEN or not token.isascii():
        return ErasureLink(LinkOutcome.INVALID)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = _box().decrypt(raw)
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        # Not base64, too short, or not encrypted by us (the MAC does not match).
        return ErasureLink(LinkOutcome.INVALID)
    if len(plain) != 41 or plain[0] != _TOKEN_VERSION:
        return ErasureLink(LinkOutcome.INVALID)
    issued = datetime.fromtimestamp(int.from_bytes(plain[1:9], "big"), tz=UTC)
    if now - issued > timedelta(hours=settings.HAMSEDA["ERASURE_LINK_HOURS"]):
        return ErasureLink(LinkOutcome.EXPIRED)
    return ErasureLink(LinkOutcome.VALID, plain[9:].hex())


def erasure_url(fingerprint: str, language: str, *, now: datetime) -> str:
    with translation.override(language):
        path = reverse("erasure:confirm", args=[erasure_token(fingerprint, now=now)])
    return absolute_url(path)


# --- asking for the link ----------------------------------------------------------------


def mail_limit_key(fingerprint: str) -> str:
    """What the mail limit is keyed by: an HMAC of the fingerprint under its own key."""
    key = crypto.derive_key("erasure-mail-limit")
    return hmac.new(key, fingerprint.encode(), hashlib.sha256).hexdigest()


def _claim_mail_slot(fingerprint: str, now: datetime) -> bool:
    """Whether this request may mail the address: true at most once per interval.

    A conditional UPDATE takes the slot of an address mailed long enough ago; for an
    address never mailed (or whose row was pruned) the unique key lets exactly one
    INSERT win. Two requests racing for one address thus mail it once.
    """
    key = mail_limit_key(fingerprint)
    interval = timedelta(minutes=settings.HAMSEDA["ERASURE_MAIL_MINUTES"])
    if ErasureMailLimit.objects.filter(key=key, mailed_at__lte=now - interval).update(
        mailed_at=now
    ):
        return True
    try:
        with transaction.atomic():
            ErasureMailLimit.objects.create(key=key, mailed_at=now)
    except IntegrityError:
        return False  # Mailed within the interval, or by a request racing this one.
    return True


def records_held(fingerprint: str) -> dict[str, int]:
    return {eraser.name: eraser.count(fingerprint) for eraser in erasers()}


def request_erasure(address: str, *, language: str, now: datetime | None = None) -> bool:
    """Mail an erasure link to `address` if anything is held for it, at most once per
    ERASURE_MAIL_MINUTES. Returns whether a mail was queued (for tests and logs only:
    the person asking must be told the same either way).

    The mail slot is claimed before looking for records, for every address asked
    about, so that both answers do the same database work up to the queued mail.
    """
    now = now or timezone.now()
    fingerprint = crypto.email_fingerprint(address)
    with transaction.atomic():
        if not _claim_mail_slot(fingerprint, now):
            return False
        if not any(records_held(fingerprint).values()):
            return False
        queue_message(
            kind="erasure-link",
            to=crypto.normalise_email(address),
            template="vault/mail/erasure_link.txt",
            context={
                "url": erasure_url(fingerprint, language, now=now),
                "hours": settings.HAMSEDA["ERASURE_LINK_HOURS"],
            },
            language=language,
            now=now,
        )
    return True


def prune_mail_limits(*, now: datetime | None = None) -> int:
    """Delete the mail-limit rows whose interval has passed: they limit nothing more,
    and would only say that someone asked about some address."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.HAMSEDA["ERASURE_MAIL_MINUTES"])
    deleted, _ = ErasureMailLimit.objects.filter(mailed_at__lte=cutoff).delete()
    return deleted


# --- following the link -----------------------------------------------------------------


def check_erasure(token: str, *, now: datetime | None = None) -> Erasure:
    """What an erasure link would delete, changing nothing (for the GET: mail scanners
    follow links, so only the button erases)."""
    link = read_erasure_token(token, now=now)
    if link.outcome != LinkOutcome.VALID:
        return Erasure(link.outcome)
    return Erasure(LinkOutcome.VALID, held=records_held(link.fingerprint))


def erase_fingerprint(fingerprint: str, *, now: datetime | None = None) -> dict[str, int]:
    """Every registered eraser deletes what it holds for `fingerprint`, all in one
    transaction: the supporter is told it is done only once all of it is gone."""
    now = now or timezone.now()
    with transaction.atomic():
        return {eraser.name: eraser.erase(fingerprint, now=now) for eraser in erasers()}


def erase_with_token(token: str, *, now: datetime | None = None) -> Erasure:
    """Erase everything held for the address an erasure link was mailed to. Following
    it again finds nothing left to erase (an empty result, not an error)."""
    link = read_erasure_token(token, now=now)
    if link.outcome != LinkOutcome.VALID:
        return Erasure(link.outcome)
    return Erasure(LinkOutcome.VALID, erased=erase_fingerprint(link.fingerprint, now=now))
