"""Withdrawing a signature, and erasing every signature of one e-mail address
(PRIVACY.md rule 8). Every mail to a signer carries the links (supporter_links); the
vault's eraser registry calls erase_signatures for `/privacy/erase/`.
"""

from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from hamseda import signed_links
from hamseda.links import absolute_url
from hamseda.petitions import pagecache
from hamseda.petitions.counting import uncount
from hamseda.petitions.models import Petition, Signature, SignatureState


class WithdrawOutcome(StrEnum):
    READY = "ready"  # A good link to a signature that exists (what a GET finds).
    WITHDRAWN = "withdrawn"
    GONE = "gone"  # A good link, but the signature no longer exists.
    INVALID = "invalid"


# The withdraw link in every mail to a signer names its signature with a stateless
# signed token (hamseda.signed_links explains why). Stateless on purpose: the
# confirmation token is kept only as a hash and replaced on every resend, so it can
# neither be shown again nor outlive a resend, and a second stored token would go stale
# the same way and cost a column.
WITHDRAW_SALT = "hamseda.petitions.withdraw"


def withdraw_token(petition_id: int, signature_id: int) -> str:
    return signed_links.make_token(WITHDRAW_SALT, petition_id, signature_id)


def supporter_links(petition: Petition, signature_id: int, language: str) -> dict[str, str]:
    """The links every mail to a signer carries (PRIVACY.md rule 8), in their language:
    withdraw this signature, and erase everything held for the address."""
    token = withdraw_token(petition.pk, signature_id)
    with translation.override(language):
        return {
            "withdraw_url": absolute_url(
                reverse("petitions:withdraw", args=[petition.slug, token])
            ),
            "erase_url": absolute_url(reverse("erasure:request")),
        }


def delete_signature_rows(signatures: QuerySet[Signature]) -> int:
    """Delete many signatures in three statements, whatever their number.

    Django's `QuerySet.delete()` would load every row (sealed data included) into
    memory first, because other tables point at signatures: a partner's consent copy
    (SignatureShare, deleted with it) and a mail-out's recipient row (MailoutRecipient,
    kept with its signature set to NULL so the mail-out's counts add up). For a purge of
    a petition with half a million signatures that is too much; so the dependent rows
    are handled with one statement each, then the signatures are deleted with one
    `DELETE … WHERE` (`_raw_delete`, which sends no signals — signatures have none).
    Returns the number of signatures deleted. Call it inside a transaction.
    """
    from hamseda.mail.models import MailoutRecipient
    from hamseda.petitions.models import SignatureShare

    SignatureShare.objects.filter(signature__in=signatures.values("pk")).delete()
    MailoutRecipient.objects.filter(signature__in=signatures.values("pk")).update(signature=None)
    return signatures._raw_delete(signatures.db)


def remove_signature(signature_id: int) -> bool:
    """Delete one signature and take it out of the counters it is in, exactly once.

    1. Lock the row and read its state, country and confirmation day. The lock
       (select_for_update on PostgreSQL; on SQLite the IMMEDIATE transaction holds the
       write lock from its start) closes the race with a confirmation of the same
       signature: without it the row could turn validated, and be counted, between our
       read and our delete, and we would not take it out again.
    2. Delete it. Of two removals racing (a double click, the withdraw link and an
       erasure), the second waits for the lock, then finds no row and changes nothing:
       only the request whose DELETE removed the row touches the counters.
    3. A validated signature leaves signature_count, its country and its day; an
       invalidated one leaves invalidated_count (the number of invalidated signatures
       held, so that `recount` agrees); a pending one counted nowhere.
    4. On commit, drop the petition's cached pages (its count, its recent signers).

    Returns whether this call removed it. Call through withdraw_signature() or the
    eraser; it takes part in the caller's transaction.
    """
    with transaction.atomic():
        row = (
            Signature.objects.select_for_update()
            .filter(pk=signature_id)
            .values("petition_id", "state", "country", "validated_at")
            .first()
        )
        if row is None:
            return False
        deleted, _ = Signature.objects.filter(pk=signature_id).delete()
        if not deleted:
            return False
        petition_id = row["petition_id"]
        if row["state"] == SignatureState.VALIDATED:
            uncount(petition_id, row["country"], row["validated_at"])
        elif row["state"] == SignatureState.INVALIDATED:
            Petition.objects.filter(pk=petition_id).update(
                invalidated_count=Greatest(F("invalidated_count") - 1, 0)
            )
        slug = Petition.objects.filter(pk=petition_id).values_list("slug", flat=True).get()
        transaction.on_commit(lambda: pagecache.forget(slug))
    return True


def _withdrawn_signature_id(petition: Petition, token: str) -> int | None:
    """The signature a withdraw link names, if the link is genuine and for this petition."""
    return signed_links.read_row_id(WITHDRAW_SALT, token, petition.pk)


def check_withdrawal(petition: Petition, token: str) -> WithdrawOutcome:
    """What following a withdraw link finds, changing nothing: mail scanners and link
    previews open links, so only the button (a POST) withdraws."""
    signature_id = _withdrawn_signature_id(petition, token)
    if signature_id is None:
        return WithdrawOutcome.INVALID
    exists = Signature.objects.filter(pk=signature_id, petition=petition).exists()
    return WithdrawOutcome.READY if exists else WithdrawOutcome.GONE


def withdraw_signature(
    petition: Petition, token: str, *, now: datetime | None = None
) -> WithdrawOutcome:
    """Withdraw the signature a withdraw link names: delete its row, with its sealed
    personal data and its fingerprint, and take it out of the counts (remove_signature).

    Confirmed, pending and invalidated signatures can all be withdrawn. `now` is taken
    for the services' common form; nothing here depends on the time, because the link
    is valid for as long as the signature exists.
    """
    signature_id = _withdrawn_signature_id(petition, token)
    if signature_id is None:
        return WithdrawOutcome.INVALID
    return WithdrawOutcome.WITHDRAWN if remove_signature(signature_id) else WithdrawOutcome.GONE


def signatures_held(fingerprint: str) -> int:
    """How many signatures, on all petitions, one e-mail fingerprint has (the eraser's
    count; found through the index of the one_signature_per_email constraint)."""
    return Signature.objects.filter(email_fingerprint=fingerprint).count()


def erase_signatures(fingerprint: str, *, now: datetime | None = None) -> int:
    """Withdraw every signature of one e-mail fingerprint, on every petition (the eraser
    petitions register with vault.erasure). In one transaction, in id order so that two
    erasures of one address lock rows in the same order."""
    with transaction.atomic():
        ids = list(
            Signature.objects.filter(email_fingerprint=fingerprint)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return sum(remove_signature(signature_id) for signature_id in ids)


def describe_signatures(count: int) -> str:
    return ngettext("%(count)d signature", "%(count)d signatures", count) % {"count": count}
