"""An organisation's sealing keys as organisers see them, and the secret key file format.

The state changes (adopting a new public key, retiring the old one) are in
orgs.services.adopt_public_key; this module only reads and formats.
"""

from dataclasses import dataclass
from datetime import datetime

from hamseda.orgs.models import Organization, SealingKey
from hamseda.vault import crypto


@dataclass(frozen=True)
class KeyListing:
    key_id: str
    created_at: datetime | None
    created_by: str
    retired_at: datetime | None
    # Signatures sealed to this key (Signature.key_id): what its secret key opens.
    records: int
    current: bool
    # False for a key that records are sealed to but that was never listed (set before
    # key rotation existed, or by hand): organisers still need its secret key.
    listed: bool = True


def list_keys(organization: Organization) -> list[KeyListing]:
    """Every key of the organisation, newest first, with the records sealed to each."""
    from hamseda.vault.export import sealed_records_by_key

    counts = sealed_records_by_key(organization)
    current_id = crypto.key_id(organization.public_key) if organization.public_key else ""
    listings = [
        KeyListing(
            key_id=key.key_id,
            created_at=key.created_at,
            created_by=key.created_by,
            retired_at=key.retired_at,
            records=counts.pop(key.key_id, 0),
            current=key.key_id == current_id,
        )
        for key in SealingKey.objects.filter(organization=organization)
    ]
    if current_id and not any(listing.current for listing in listings):
        listings.insert(0, _unlisted(current_id, counts.pop(current_id, 0), current=True))
    listings += [_unlisted(key_id, n, current=False) for key_id, n in sorted(counts.items())]
    return listings


def _unlisted(key_id: str, records: int, *, current: bool) -> KeyListing:
    return KeyListing(
        key_id=key_id,
        created_at=None,
        created_by="",
        retired_at=None,
        records=records,
        current=current,
        listed=False,
    )


def check_public_key(public_key: str) -> None:
    """Raise crypto.UnusableKey unless records can be sealed to `public_key`.

    Parsing is not enough: 32 bytes make a "public key", but a low-order point (all
    zeros, for one) makes every seal fail, and every signer would get an error page.
    A trial seal catches both.
    """
    import nacl.exceptions

    if len(public_key) > 64:
        raise crypto.UnusableKey("Not a valid public key.")
    try:
        crypto.seal(public_key, {})
    except nacl.exceptions.CryptoError as error:
        raise crypto.UnusableKey("Not a valid public key.") from error


def key_file_text(organization_slug: str, key_id: str, secret_key: str) -> str:
    """A secret key file, as `generate_sealing_key` writes it and `hamseda decrypt` reads
    it. static/hamseda/keys.js writes the same text in the browser."""
    return (
        "# Hamseda sealing secret key\n"
        f"# organisation: {organization_slug}\n"
        f"# key id: {key_id}\n"
        "# Keep this file offline. Whoever holds it can read every supporter's data.\n"
        f"{secret_key}\n"
    )


def key_file_name(organization_slug: str, key_id: str) -> str:
    return f"hamseda-{organization_slug}-{key_id}.key"
