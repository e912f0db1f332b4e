"""Proof of work: how a real person behind a busy address gets past a limit.

When a network or e-mail-domain limit is reached, the sign page answers 429 with a
challenge; the browser (hamseda/static/hamseda/pow.js, Web Crypto, self-hosted)
searches for a counter such that SHA-256("<challenge>:<counter>") starts with
`bits` zero bits, and resubmits the form with it. One solved challenge lets one
signature through those limits. A script must pay the same few seconds of CPU for
every signature, which makes mass signing from one address slow and costly, while a
person waits a few seconds once. No third party is involved (PRIVACY.md rule 6).

The challenge is "<petition id>.<nonce>.<bits>.<expires>.<mac>", the MAC an HMAC-SHA256
under a key derived from the server secret, so nothing is stored when issuing it. On
verification:

1. parse it, and check the MAC (constant time): a forged or altered challenge fails;
2. check it is for this petition and has not expired;
3. check the work: SHA-256 of "<challenge>:<counter>" has `bits` leading zero bits;
4. claim it as spent (integrity.limits.claim_once, until it would expire anyway):
   a replayed solution fails.

Difficulty: `INTEGRITY_POW_BITS` (default 17): on average 2**17 ≈ 131,000 hashes. In
Web Crypto each hash is an async call; a cheap Android phone manages about 30,000–60,000
a second, a laptop ten times that, so it takes a few seconds on the phone (longer when
unlucky: the work is random), under a second on a laptop. Each extra bit doubles it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache

from django.conf import settings
from django.utils import timezone

from hamseda.integrity import limits


class Outcome(StrEnum):
    SOLVED = "solved"
    FORGED = "forged"  # Not our MAC, or not for this petition, or unreadable.
    EXPIRED = "expired"
    WRONG = "wrong"  # Our challenge, but the counter does not do the work.
    REPLAYED = "replayed"


MAX_COUNTER_LENGTH = 20


@cache
def _key() -> bytes:
    from hamseda.vault.crypto import derive_key

    return derive_key("integrity-pow")


def _mac(payload: str) -> str:
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def difficulty() -> int:
    return int(settings.HAMSEDA.get("INTEGRITY_POW_BITS", 17))


def issue(petition_id: int, *, now: datetime | None = None, bits: int | None = None) -> str:
    now = now or timezone.now()
    bits = difficulty() if bits is None else bits
    expires = int(now.timestamp()) + int(settings.HAMSEDA.get("INTEGRITY_POW_SECONDS", 600))
    payload = f"{petition_id}.{secrets.token_hex(12)}.{bits}.{expires}"
    return f"{payload}.{_mac(payload)}"


@dataclass(frozen=True)
class Challenge:
    petition_id: int
    nonce: str
    bits: int
    expires: int


def _parse(challenge: str) -> Challenge | None:
    parts = challenge.split(".")
    if len(challenge) > 200 or len(parts) != 5:
        return None
    payload, mac = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_mac(payload), mac):
        return None
    petition_id, nonce, bits, expires = parts[:4]
    return Challenge(int(petition_id), nonce, int(bits), int(expires))


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return 256 - value.bit_length()


def does_the_work(challenge: str, counter: str, bits: int) -> bool:
    digest = hashlib.sha256(f"{challenge}:{counter}".encode()).digest()
    return leading_zero_bits(digest) >= bits


def solve(challenge: str) -> str:
    """Find a counter (for tests and the benchmark; browsers use pow.js)."""
    bits = int(challenge.split(".")[2])
    counter = 0
    while not does_the_work(challenge, str(counter), bits):
        counter += 1
    return str(counter)


def verify(
    challenge: str, counter: str, petition_id: int, *, now: datetime | None = None
) -> Outcome:
    now = now or timezone.now()
    parsed = _parse(challenge)
    if parsed is None or parsed.petition_id != petition_id:
        return Outcome.FORGED
    if parsed.expires < now.timestamp():
        return Outcome.EXPIRED
    if not counter.isdigit() or len(counter) > MAX_COUNTER_LENGTH:
        return Outcome.WRONG
    if not does_the_work(challenge, counter, parsed.bits):
        return Outcome.WRONG
    seconds_left = max(1, parsed.expires - int(now.timestamp()) + 60)
    if not limits.claim_once(f"pow:{parsed.nonce}", seconds_left, now=now):
        return Outcome.REPLAYED
    return Outcome.SOLVED
