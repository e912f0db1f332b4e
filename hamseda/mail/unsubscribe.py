"""The one-click unsubscribe link in every mail-out (RFC 8058, docs/mailouts.md).

The link names one signature with a signed token, stateless like the withdraw link
(petitions.withdrawal, which explains the choice): an HMAC by the server secret over
"<petition id>-<signature id>", under a salt of its own so that no other signed value of
the site is accepted as one. Unsubscribing clears the signature's `keep_updated`; a
mail-out that is running skips the signer when their turn comes.
"""

from enum import StrEnum

from django.urls import reverse
from django.utils import translation

from hamseda import signed_links
from hamseda.links import absolute_url
from hamseda.petitions.models import Petition, Signature

# The unsubscribe link: a stateless signed token (hamseda.signed_links) under its own salt.
UNSUBSCRIBE_SALT = "hamseda.mail.unsubscribe"


class UnsubscribeOutcome(StrEnum):
    READY = "ready"  # A good link to a signer who still gets mail-outs (what a GET finds).
    UNSUBSCRIBED = "unsubscribed"
    ALREADY = "already"  # Unsubscribed before: nothing changes.
    GONE = "gone"  # A good link, but the signature was withdrawn or erased.
    INVALID = "invalid"


def unsubscribe_token(petition_id: int, signature_id: int) -> str:
    return signed_links.make_token(UNSUBSCRIBE_SALT, petition_id, signature_id)


def unsubscribe_url(signature: Signature, language: str) -> str:
    """The absolute unsubscribe link of a signature, in the reader's language."""
    return unsubscribe_link(signature.petition_id, signature.pk, language)


def unsubscribe_link(petition_id: int, signature_id: int, language: str) -> str:
    """unsubscribe_url() without loading the signature."""
    token = unsubscribe_token(petition_id, signature_id)
    with translation.override(language):
        return absolute_url(reverse("mail:unsubscribe", args=[token]))


def signature_of(token: str) -> tuple[int, int] | None:
    """(petition id, signature id) a genuine token names, else None."""
    return signed_links.read_token(UNSUBSCRIBE_SALT, token)


def check_unsubscribe(token: str) -> tuple[UnsubscribeOutcome, Petition | None]:
    """What following the link finds, changing nothing (link scanners open links)."""
    named = signature_of(token)
    if named is None:
        return UnsubscribeOutcome.INVALID, None
    petition = _petition(named[0])
    row = (
        Signature.objects.filter(pk=named[1], petition_id=named[0])
        .values_list("keep_updated", flat=True)
        .first()
    )
    if row is None:
        return UnsubscribeOutcome.GONE, petition
    return (UnsubscribeOutcome.READY if row else UnsubscribeOutcome.ALREADY), petition


def unsubscribe(token: str) -> tuple[UnsubscribeOutcome, Petition | None]:
    """Stop mail-outs to the signature the link names.

    A conditional UPDATE (keep_updated true → false) makes it idempotent under a double
    click or a mail provider's one-click POST racing the signer's own: one changes the
    row, the other is told it was already done.
    """
    named = signature_of(token)
    if named is None:
        return UnsubscribeOutcome.INVALID, None
    petition = _petition(named[0])
    changed = Signature.objects.filter(pk=named[1], petition_id=named[0], keep_updated=True).update(
        keep_updated=False
    )
    if changed:
        return UnsubscribeOutcome.UNSUBSCRIBED, petition
    exists = Signature.objects.filter(pk=named[1], petition_id=named[0]).exists()
    return (UnsubscribeOutcome.ALREADY if exists else UnsubscribeOutcome.GONE), petition


def _petition(petition_id: int) -> Petition | None:
    return Petition.objects.prefetch_related("translations").filter(pk=petition_id).first()
