"""Sealing supporters' personal data, keyed e-mail fingerprints, server-side secret boxes.

PRIVACY.md rules 1-3 live here:

- `seal()` encrypts a record to an organisation's public key with a libsodium sealed
  box (X25519 + XSalsa20-Poly1305). The server never holds the secret key, so it can
  write sealed records but never read them back.
- `email_fingerprint()` is an HMAC-SHA256 of the normalised address under a key derived
  from the server secret, which lives outside the database: a stolen database alone
  cannot test addresses against it.
- `lock()` / `unlock()` protect transient plain text (the outbox) with a symmetric key
  derived from the same server secret, for the short time a mail waits for delivery.
"""

import base64
import hashlib
import hmac
import json
import unicodedata

import nacl.exceptions
import nacl.public
import nacl.secret
import nacl.utils
from django.conf import settings


class UnusableKey(ValueError):
    """A key file or public key that cannot be used."""


def derive_key(purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the server secret (BLAKE2b keyed)."""
    return hashlib.blake2b(
        purpose.encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=32
    ).digest()


# --- organisation key pairs --------------------------------------------------------------


def generate_keypair() -> tuple[str, str]:
    """Return (public_key, secret_key), both base64 text."""
    secret = nacl.public.PrivateKey.generate()
    return (
        base64.b64encode(bytes(secret.public_key)).decode(),
        base64.b64encode(bytes(secret)).decode(),
    )


def key_id(public_key: str) -> str:
    """A short stable name for a public key, stored next to each sealed record."""
    return hashlib.blake2b(base64.b64decode(public_key), digest_size=8).hexdigest()


def parse_public_key(public_key: str) -> nacl.public.PublicKey:
    try:
        raw = base64.b64decode(public_key, validate=True)
        return nacl.public.PublicKey(raw)
    except (ValueError, nacl.exceptions.CryptoError) as error:
        raise UnusableKey("Not a valid public key.") from error


def parse_secret_key(secret_key: str) -> nacl.public.PrivateKey:
    try:
        raw = base64.b64decode(secret_key.strip(), validate=True)
        return nacl.public.PrivateKey(raw)
    except (ValueError, nacl.exceptions.CryptoError) as error:
        raise UnusableKey("Not a valid secret key.") from error


def seal(public_key: str, record: dict) -> bytes:
    """Encrypt a JSON-able record so that only the holder of the secret key can read it."""
    box = nacl.public.SealedBox(parse_public_key(public_key))
    return box.encrypt(json.dumps(record, ensure_ascii=False).encode())


def unseal(secret_key: str, sealed: bytes | memoryview) -> dict:
    box = nacl.public.SealedBox(parse_secret_key(secret_key))
    return json.loads(box.decrypt(bytes(sealed)).decode())


# --- e-mail normalisation and fingerprint ------------------------------------------------


def normalise_email(address: str) -> str:
    """Trim, Unicode NFC, lower-case the domain.

    The local part keeps its case (RFC 5321 says it may matter) but is compared
    case-insensitively for dedup because every real provider treats it so; no
    provider-specific rewriting (dots, +tags) is done (PRIVACY.md rule 2).
    """
    address = unicodedata.normalize("NFC", address.strip())
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def email_domain(address: str) -> str:
    """The domain of an address as integrity limits and trends group them: normalised,
    lower-case, at most 253 characters (Signature.email_domain)."""
    return normalise_email(address).rpartition("@")[2][:253]


def email_fingerprint(address: str) -> str:
    """Keyed fingerprint of an address for dedup: 64 hex characters."""
    canonical = normalise_email(address).casefold()
    return hmac.new(derive_key("email-fingerprint"), canonical.encode(), hashlib.sha256).hexdigest()


def day_fingerprint(purpose: str, value: str, *, now=None) -> str:
    """HMAC of `value` under a key that changes every UTC day: 16 hex characters.

    For network fingerprints (PRIVACY.md rule 4): the same client is the same
    fingerprint all day, and a different, unlinkable one tomorrow.
    """
    from django.utils import timezone

    day = (now or timezone.now()).date().isoformat()
    key = derive_key(f"{purpose}:{day}")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def token_hash(token: str) -> str:
    """What the database keeps of a confirmation token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- transient secrets (outbox) -----------------------------------------------------------


def lock(payload: dict) -> bytes:
    box = nacl.secret.SecretBox(derive_key("outbox"))
    return box.encrypt(json.dumps(payload, ensure_ascii=False).encode())


def unlock(locked: bytes | memoryview) -> dict:
    box = nacl.secret.SecretBox(derive_key("outbox"))
    return json.loads(box.decrypt(bytes(locked)).decode())
