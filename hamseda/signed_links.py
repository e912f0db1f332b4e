"""Stateless signed tokens that name one row of one parent, for links in mails: withdraw
a signature (petitions.withdrawal), withdraw an RSVP (actions.notices), stop mail-outs
(mail.unsubscribe).

A token is "<parent id>-<row id>" signed with the server secret (django.core.signing,
HMAC-SHA256) under a salt of its own per purpose, so no other value the site signs is
accepted as one. It needs no storage, works from every mail ever sent, and dies with the
row: deleting the row is what revokes it. Ids are never reused (AUTOINCREMENT on SQLite,
sequences on PostgreSQL), so a link cannot come to name someone else's row.
"""

from django.core import signing

# Ours are about 60 characters; anything much longer is not worth verifying.
MAX_TOKEN = 200


def _signer(salt: str) -> signing.Signer:
    return signing.Signer(salt=salt, sep=".")


def make_token(salt: str, parent_id: int, row_id: int) -> str:
    return _signer(salt).sign(f"{parent_id}-{row_id}")


def read_token(salt: str, token: str) -> tuple[int, int] | None:
    """(parent id, row id) of a genuine token under `salt`, else None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        value = _signer(salt).unsign(token)
    except signing.BadSignature:
        return None
    parent_id, _, row_id = value.partition("-")
    if not all(part.isascii() and part.isdigit() for part in (parent_id, row_id)):
        return None
    return int(parent_id), int(row_id)


def read_row_id(salt: str, token: str, parent_id: int) -> int | None:
    """The row a genuine token names, if it is for this parent, else None."""
    pair = read_token(salt, token)
    if pair is None or pair[0] != parent_id:
        return None
    return pair[1]
