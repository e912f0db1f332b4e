"""Where signatures come from: the source code that every share link carries.

A share link is the petition's address with `?s=<channel>` or `?s=<channel>.<code>`:
the channel it was shared on (one of CHANNELS) and, optionally, the anonymous sharer
code of the thank-you or confirmation page it was shared from, which tells the sharer's
generation (people who signed because someone shared). See docs/sharing.md.

A sharer code is stateless: two letters for the sharer's generation, eight random
letters, and eight letters of an HMAC over both (and the petition), under a key derived
from the server secret, so nobody can forge a code of a higher generation. The code is
made for the page that shows it and stored nowhere with the sharer's own signature: a
new signer who arrives through it stores only its random part and the generation it
gives them. The database therefore holds no link from a recruit to the person who
recruited them (no social graph; PRIVACY.md rule 5).

Everything that arrives in `?s=` is hostile until parsed here: a malformed value counts
as "other" without a code, never as an error, and only [a-z] channels and base32 codes
ever reach a page.
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.db.models import Count, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hamseda.petitions.models import Signature, SignatureState
from hamseda.vault import crypto

SOURCE_PARAMETER = "s"

# Every channel a link can be tagged with, and what it means. Unknown channels count as
# "other"; a link without a source counts as "direct".
CHANNELS: dict[str, str | Promise] = {
    "whatsapp": _("WhatsApp"),
    "telegram": _("Telegram"),
    "x": _("X"),
    "facebook": _("Facebook"),
    "email": _("E-mail"),
    "copy": _("Copied link"),
    "kit": _("Kit image"),
    "qr": _("QR code (kit image)"),
    "poster": _("Poster"),
    "card": _("Link preview"),
    "widget": _("Embedded form"),
}
# What is stored in Signature.source_channel besides the keys of CHANNELS.
DIRECT = ""
OTHER = "other"
LABELS: dict[str, str | Promise] = {DIRECT: _("Direct (no source)"), OTHER: _("Other"), **CHANNELS}

# A value longer than this is not one of ours: it counts as "other".
MAX_VALUE_LENGTH = 40
MAX_CHANNEL_LENGTH = 16

# The code: lower-case RFC 4648 base32 letters, which need no escaping in a URL, in a
# query string or in HTML.
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
GENERATION_LETTERS = 2
RANDOM_BYTES = 5  # 8 letters: the part a recruit stores, to group by sharer.
MAC_BYTES = 5  # 8 letters: 40 bits, and each guess costs a signature.
CODE_LENGTH = GENERATION_LETTERS + 8 + 8
# Two letters count to 1023; a deeper chain stays at the top.
MAX_GENERATION = len(ALPHABET) ** GENERATION_LETTERS - 1

_CHANNEL = re.compile(rf"[a-z]{{1,{MAX_CHANNEL_LENGTH}}}")
_CODE = re.compile(rf"[a-z2-7]{{{CODE_LENGTH}}}")


def tagged_url(url: str, channel: str, sharer_code: str = "") -> str:
    """`url` with its source parameter set to `channel` (and the sharer's code)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    value = f"{channel}.{sharer_code}" if sharer_code else channel
    scheme, netloc, path, _query, _fragment = urlsplit(url)
    return urlunsplit((scheme, netloc, path, urlencode({SOURCE_PARAMETER: value}), ""))


def channel_label(channel: str) -> str:
    """The organisers' name for a stored channel (a retired channel keeps its key)."""
    return str(LABELS.get(channel, channel))


# --- reading `?s=` ---------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A parsed `?s=` value: well-formed, but its code not yet verified."""

    channel: str = DIRECT  # a key of CHANNELS, OTHER, or DIRECT
    code: str = ""

    @property
    def value(self) -> str:
        """The canonical `channel[.code]`, safe to put into a page as it is."""
        return f"{self.channel}.{self.code}" if self.code else self.channel


def parse(raw: object) -> Source:
    """The source a `?s=` value names; never raises.

    Empty → direct. Malformed (too long, other characters, a bad code) → "other"
    without a code. A well-formed value with a channel we do not know → "other", but
    its code is kept: the sharer's generation still counts if the code verifies.
    """
    if not isinstance(raw, str) or not raw:
        return Source()
    if len(raw) > MAX_VALUE_LENGTH or not raw.isascii():
        return Source(OTHER)
    channel, _dot, code = raw.strip().lower().partition(".")
    # "whatsapp." (a chat app may keep the dot that ended a sentence) has no code.
    if not _CHANNEL.fullmatch(channel) or (code and not _CODE.fullmatch(code)):
        return Source(OTHER)
    return Source(channel if channel in CHANNELS else OTHER, code)


def form_value(raw: object) -> str:
    """What the sign form's hidden `source` field carries for a `?s=` value."""
    return parse(raw).value


# --- sharer codes ----------------------------------------------------------------------


def _key() -> bytes:
    return crypto.derive_key("petitions-sharer-code")


def _letters(data: bytes) -> str:
    return base64.b32encode(data).decode().lower()


def _mac(petition_id: int, body: str) -> str:
    digest = hmac.new(_key(), f"{petition_id}:{body}".encode(), hashlib.sha256).digest()
    return _letters(digest[:MAC_BYTES])


def make_code(petition_id: int, generation: int) -> str:
    """A fresh sharer code for a signer of `generation` on this petition.

    Random each time, and not stored: the same signer gets a new code on every page
    that shows one, so a code is never a handle on a person.
    """
    generation = max(0, min(int(generation), MAX_GENERATION))
    high, low = divmod(generation, len(ALPHABET))
    body = ALPHABET[high] + ALPHABET[low] + _letters(secrets.token_bytes(RANDOM_BYTES))
    return body + _mac(petition_id, body)


def read_code(code: str, petition_id: int) -> tuple[int, str] | None:
    """(the sharer's generation, the code's random part), or None if the code is not
    one we made for this petition."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return None
    body, mac = code[:-8], code[-8:]
    if not hmac.compare_digest(mac, _mac(petition_id, body)):
        return None
    high, low = ALPHABET.index(body[0]), ALPHABET.index(body[1])
    return high * len(ALPHABET) + low, body[GENERATION_LETTERS:]


@dataclass(frozen=True)
class Attribution:
    """What a new signature stores about where it came from (Signature.source_*)."""

    channel: str = DIRECT
    # 0: no signer's share; n + 1 through a code of a signer of generation n.
    generation: int = 0
    # The random part of the sharer's code, to count what one anonymous sharer brought.
    sharer: str = ""


def attribute(raw: object, petition_id: int) -> Attribution:
    """The attribution of a signature sent with source field `raw`. A forged or
    foreign code is dropped (generation 0); its channel is kept."""
    source = parse(raw)
    found = read_code(source.code, petition_id) if source.code else None
    if found is None:
        return Attribution(source.channel)
    generation, sharer = found
    return Attribution(source.channel, min(generation + 1, MAX_GENERATION), sharer)


def signer_generation(petition, token: str) -> int:
    """The generation of the signature behind a confirmation token (0 if none), for the
    sharer code of the confirmation page."""
    generation = (
        Signature.objects.filter(petition=petition, token_hash=crypto.token_hash(token))
        .values_list("source_generation", flat=True)
        .first()
    )
    return generation or 0


# --- the organisers' sources table -----------------------------------------------------

# Generations shown one by one; deeper ones are summed in the last row ("3 or more").
GENERATION_ROWS = 3
TOP_SHARERS = 10


@dataclass(frozen=True)
class SourceRow:
    key: str  # the stored channel, the generation ("0", "1", "2", "3+") or a sharer's code
    label: str
    signed: int  # signatures not invalidated: pending and confirmed
    confirmed: int

    @property
    def rate(self) -> int | None:
        """Confirmed, in per cent of signed (None with nothing signed)."""
        return self.confirmed * 100 // self.signed if self.signed else None


@dataclass(frozen=True)
class SourcesReport:
    channels: list[SourceRow]
    generations: list[SourceRow]
    sharers: list[SourceRow]

    @property
    def signed(self) -> int:
        return sum(row.signed for row in self.channels)

    @property
    def confirmed(self) -> int:
        return sum(row.confirmed for row in self.channels)

    @property
    def through_sharers(self) -> int:
        """Signatures that came through another signer's share (generation 1 or more)."""
        return sum(row.signed for row in self.generations[1:])


def _generation_label(key: int) -> str:
    if key == 0:
        return str(_("0: no signer's share"))
    if key < GENERATION_ROWS:
        return str(key)
    return str(_("%(n)d or more")) % {"n": GENERATION_ROWS}


def sources_report(petition) -> SourcesReport:
    """Signatures and confirmations of a petition by channel, by sharer generation and
    for the top anonymous sharers. Invalidated signatures are left out (a withdrawn one
    no longer exists).

    Two GROUP BY queries, each answered from an index (sig_petition_source,
    sig_petition_sharer); the Python loops below run over their few aggregated rows
    (channels × generations), never over signatures.
    """
    held = Signature.objects.filter(petition=petition).exclude(state=SignatureState.INVALIDATED)
    # Counting `state` (never null) rather than the id lets both queries read the index
    # alone, without the table rows.
    counted = Count("state")
    confirmed_only = Count("state", filter=Q(state=SignatureState.VALIDATED))
    groups = (
        held.values("source_channel", "source_generation")
        .annotate(signed=counted, confirmed=confirmed_only)
        .values_list("source_channel", "source_generation", "signed", "confirmed")
    )
    by_channel: dict[str, list[int]] = {}
    by_generation = {key: [0, 0] for key in range(GENERATION_ROWS + 1)}
    for channel, generation, signed, confirmed in groups:
        for totals in (
            by_channel.setdefault(channel, [0, 0]),
            by_generation[min(generation, GENERATION_ROWS)],
        ):
            totals[0] += signed
            totals[1] += confirmed

    channels = sorted(
        (SourceRow(key, channel_label(key), *totals) for key, totals in by_channel.items()),
        key=lambda row: (-row.signed, row.label),
    )
    generations = [
        SourceRow(
            f"{key}+" if key == GENERATION_ROWS else str(key), _generation_label(key), *totals
        )
        for key, totals in by_generation.items()
    ]
    top = (
        held.exclude(source_code="")
        .values("source_code")
        .annotate(signed=counted, confirmed=confirmed_only)
        .order_by("-signed", "-confirmed", "source_code")
        .values_list("source_code", "signed", "confirmed")[:TOP_SHARERS]
    )
    sharers = [SourceRow(code, code, signed, confirmed) for code, signed, confirmed in top]
    return SourcesReport(channels, generations, sharers)
