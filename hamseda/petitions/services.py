"""Every state change of petitions and signatures goes through a function here.

Each function is atomic, takes `now` for testability and queues follow-up work (mail)
inside the same transaction, so what the caller is told has happened has happened.
"""

import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from hamseda.integrity.checks import may_mail_address, refund_mail
from hamseda.links import absolute_url
from hamseda.mail.services import queue_message
from hamseda.petitions import counting, pagecache, partner_consent, withdrawal
from hamseda.petitions.models import (
    Petition,
    PetitionState,
    Signature,
    SignatureState,
)
from hamseda.vault import crypto

# How often a signer who signs again may be mailed about it: the form must not become a
# way to mail-bomb an address.
RESEND_INTERVAL = timedelta(minutes=10)


class PetitionNotOpen(Exception):
    """The petition is not open for signatures (draft, closed, won or past its date)."""


class TransitionRefused(Exception):
    """A petition state change that is not allowed from its current state."""


class SignatureOutcome(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    # Nothing stored or mailed: the address had too many mails lately (integrity rules).
    MAIL_LIMITED = "mail_limited"


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class Signer:
    """What a signer typed, already validated by the form."""

    first_name: str
    last_name: str
    email: str
    country: str
    postcode: str = ""
    reason: str = ""
    show_name: bool = False
    keep_updated: bool = False
    language: str = "en"
    # The daily-rotating keyed fingerprint of the signer's network address
    # (network.client_fingerprint), for integrity limits and trends; never the address.
    network_fingerprint: str = ""
    # Where they came from (petitions.sources.attribute): the share channel, their sharer
    # generation, and the random part of the sharer code they followed, if any.
    source_channel: str = ""
    source_generation: int = 0
    source_code: str = ""
    # Ids of the co-hosts the signer ticked "Let … contact me" for (partner_consent);
    # empty for almost every signature, and then signing costs nothing more.
    share_with: tuple[int, ...] = ()


def clean_text(value: str) -> str:
    """Unicode NFC and trimmed; names are otherwise kept exactly as typed."""
    return unicodedata.normalize("NFC", value).strip()


def sealed_record(signer: Signer, now: datetime) -> dict:
    """The personal data of a signature, as sealed to the organisation's key."""
    return {
        "first_name": clean_text(signer.first_name),
        "last_name": clean_text(signer.last_name),
        "email": crypto.normalise_email(signer.email),
        "country": signer.country,
        "postcode": clean_text(signer.postcode),
        "reason": clean_text(signer.reason),
        "show_name": signer.show_name,
        "keep_updated": signer.keep_updated,
        "language": signer.language,
        "signed_at": now.isoformat(timespec="seconds"),
    }


def _create_signature(
    petition: Petition,
    signer: Signer,
    record: dict,
    *,
    fingerprint: str,
    token_hash: str,
    now: datetime,
    **extra,
) -> Signature:
    """Insert a signature row: the record sealed to the organisation's key, the keyed
    fingerprint of the e-mail, and only the opted-in first name in the clear."""
    public_key = petition.organization.public_key
    return Signature.objects.create(
        petition=petition,
        email_fingerprint=fingerprint,
        token_hash=token_hash,
        token_sent_at=now,
        sealed=crypto.seal(public_key, record),
        key_id=crypto.key_id(public_key),
        country=signer.country,
        public_name=record["first_name"][:100] if signer.show_name else "",
        keep_updated=signer.keep_updated,
        language=signer.language[:8],
        email_domain=crypto.email_domain(record["email"]),
        network_fingerprint=signer.network_fingerprint[:16],
        source_channel=signer.source_channel[:16],
        source_generation=signer.source_generation,
        source_code=signer.source_code[:8],
        created_at=now,
        **extra,
    )


def _token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, crypto.token_hash(token)


def confirmation_url(petition: Petition, token: str, language: str) -> str:
    with translation.override(language):
        return absolute_url(reverse("petitions:confirm", args=[petition.slug, token]))


def sign_petition(
    petition: Petition,
    signer: Signer,
    *,
    now: datetime | None = None,
    mail_allowed: bool | None = None,
):
    """Record a pending signature and queue its confirmation mail, in one transaction.

    1. Refuse if the petition is not open.
    2. Fingerprint the e-mail (keyed HMAC) and seal the personal data to the
       organisation's public key; nothing personal is stored in plain text.
    3. Insert the signature. The unique constraint on (petition, fingerprint) settles
       concurrent duplicates: exactly one insert wins. Only if the signer ticked a
       co-host's box, the consent is kept with it (petitions.partner_consent).
    4. Before queuing either mail below, take the mail-bomb limit: `mail_allowed` when
       the sign view's integrity check has counted it (integrity.checks.Verdict),
       else integrity.checks.may_mail_address. Over it, roll back and return
       MAIL_LIMITED.
    5. On a duplicate, mail the address (not the browser: the form must not reveal who
       signed) a new confirmation link if still pending, or a thank-you if confirmed, at
       most once per RESEND_INTERVAL.
    """
    now = now or timezone.now()
    if not petition.is_open(now):
        raise PetitionNotOpen(petition.slug)
    record = sealed_record(signer, now)
    email, first_name = record["email"], record["first_name"]
    fingerprint = crypto.email_fingerprint(email)
    token, token_hash = _token()
    context = {"petition_id": petition.pk, "first_name": first_name}
    try:
        # One transaction, no savepoint: a duplicate aborts it and is handled after.
        with transaction.atomic():
            signature = _create_signature(
                petition, signer, record, fingerprint=fingerprint, token_hash=token_hash, now=now
            )
            if signer.share_with:
                partner_consent.share_signature(
                    petition, signature, record, signer.share_with, now=now
                )
            # The mail-bomb limit, counted only for a mail about to be queued; over it
            # the insert is rolled back: nothing stored, nothing mailed.
            if not _may_mail(fingerprint, mail_allowed, now):
                raise _MailLimited
            queue_message(
                kind="confirm-signature",
                to=email,
                template="petitions/mail/confirm.txt",
                context={
                    **context,
                    "url": confirmation_url(petition, token, signer.language),
                    **withdrawal.supporter_links(petition, signature.pk, signer.language),
                },
                language=signer.language,
                now=now,
            )
    except _MailLimited:
        return SignatureOutcome.MAIL_LIMITED
    except IntegrityError:
        with transaction.atomic():
            if not _notify_duplicate(
                petition, fingerprint, email, signer.language, context, now, mail_allowed
            ):
                return SignatureOutcome.MAIL_LIMITED
        return SignatureOutcome.DUPLICATE
    return SignatureOutcome.NEW


def _may_mail(fingerprint: str, mail_allowed: bool | None, now: datetime) -> bool:
    """The mail-bomb limit's answer: already counted by the caller, or counted now."""
    if mail_allowed is not None:
        return mail_allowed
    return may_mail_address(fingerprint, now=now)


def _give_back_mail(fingerprint: str, mail_allowed: bool | None, now: datetime) -> None:
    """Counted by the sign view's check, but no mail goes: give the count back, so that
    repeated clicks do not use up the address's mails."""
    if mail_allowed is not None:
        refund_mail(fingerprint, now=now)


class _MailLimited(Exception):
    """Raised inside the signing transaction to roll it back (integrity mail limit)."""


def _notify_duplicate(petition, fingerprint, email, language, context, now, mail_allowed) -> bool:
    """Mail a repeated signer; False if the mail-bomb limit stopped it (the token is
    then left as it was, so the link already mailed keeps working)."""
    existing = Signature.objects.filter(petition=petition, email_fingerprint=fingerprint).first()
    if existing is None or existing.state == SignatureState.INVALIDATED:
        # Withdrawn since our insert failed, or removed by moderators: neither the
        # "confirm" nor the "already counted" mail would be true, so none is sent.
        _give_back_mail(fingerprint, mail_allowed, now)
        return True
    token, token_hash = _token()
    # The conditional update both rate-limits and, for a pending signature, replaces
    # the token: the old link stops working, the new one is mailed.
    changes = {"token_sent_at": now}
    if existing.state == SignatureState.PENDING:
        changes["token_hash"] = token_hash
    updated = Signature.objects.filter(
        pk=existing.pk, token_sent_at__lt=now - RESEND_INTERVAL
    ).update(**changes)
    if not updated:
        _give_back_mail(fingerprint, mail_allowed, now)
        return True
    if not _may_mail(fingerprint, mail_allowed, now):
        transaction.set_rollback(True)  # Keep the old token: no new link is mailed.
        return False
    if existing.state == SignatureState.PENDING:
        url = confirmation_url(petition, token, language)
        template = "petitions/mail/confirm_again.txt"
    else:
        url = absolute_url(petition.get_absolute_url())
        template = "petitions/mail/already_signed.txt"
    queue_message(
        kind="duplicate-signature",
        to=email,
        template=template,
        context={
            **context,
            "url": url,
            **withdrawal.supporter_links(petition, existing.pk, language),
        },
        language=language,
        now=now,
    )
    return True


def confirm_signature(petition: Petition, token: str, *, now: datetime | None = None):
    """Validate the signature behind a confirmation token, and count it, exactly once.

    Following the link twice, or two clicks racing, count once: the state change is a
    conditional UPDATE (pending → validated) and only the request that changed the row
    increments the counters, in the same transaction.
    """
    now = now or timezone.now()
    if not token or len(token) > 100:
        return ConfirmOutcome.INVALID
    signature = Signature.objects.filter(
        petition=petition, token_hash=crypto.token_hash(token)
    ).first()
    if signature is None or signature.state == SignatureState.INVALIDATED:
        return ConfirmOutcome.INVALID
    if signature.state == SignatureState.VALIDATED:
        return ConfirmOutcome.ALREADY
    valid_days = settings.HAMSEDA["CONFIRMATION_DAYS"]
    if signature.token_sent_at < now - timedelta(days=valid_days):
        return ConfirmOutcome.EXPIRED
    if petition.state not in {PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON}:
        return ConfirmOutcome.INVALID
    with transaction.atomic():
        changed = Signature.objects.filter(pk=signature.pk, state=SignatureState.PENDING).update(
            state=SignatureState.VALIDATED, validated_at=now
        )
        if not changed:
            return ConfirmOutcome.ALREADY
        counting.count_confirmation(petition.pk, signature.country, now)
    return ConfirmOutcome.CONFIRMED


# --- petition life cycle --------------------------------------------------------------


def _transition(petition: Petition, allowed: set[str], **changes) -> Petition:
    """Move a petition to a new state only if it is in one of `allowed` right now."""
    with transaction.atomic():
        changed = Petition.objects.filter(pk=petition.pk, state__in=allowed).update(**changes)
        if not changed:
            raise TransitionRefused(f"{petition.slug} is {petition.state}")
        # Cached public pages show the old state (a sign form on a closed petition).
        transaction.on_commit(lambda: pagecache.forget(petition.slug))
    petition.refresh_from_db()
    return petition


def submit_petition(petition: Petition, *, now: datetime | None = None) -> Petition:
    if not petition.translations.exists():
        raise TransitionRefused("a petition needs a title and text before it is submitted")
    return _transition(
        petition,
        {PetitionState.DRAFT, PetitionState.REJECTED},
        state=PetitionState.SUBMITTED,
        submitted_at=now or timezone.now(),
        rejection_reason="",
    )


def approve_petition(petition: Petition, *, now: datetime | None = None) -> Petition:
    if not petition.organization.public_key:
        # Without a public key signatures could not be sealed: refuse to open rather
        # than accept signers whose data we could not protect.
        raise TransitionRefused(
            "the organisation has no sealing key yet: run `hamseda keys generate`"
        )
    return _transition(
        petition,
        {PetitionState.SUBMITTED},
        state=PetitionState.OPEN,
        opened_at=now or timezone.now(),
    )


def reject_petition(petition: Petition, reason: str) -> Petition:
    if not reason.strip():
        raise TransitionRefused("a rejection needs a reason")
    return _transition(
        petition,
        {PetitionState.SUBMITTED},
        state=PetitionState.REJECTED,
        rejection_reason=reason.strip(),
    )


def close_petition(petition: Petition, *, now: datetime | None = None) -> Petition:
    return _transition(
        petition,
        {PetitionState.OPEN},
        state=PetitionState.CLOSED,
        closed_at=now or timezone.now(),
    )


def mark_won(petition: Petition, *, now: datetime | None = None) -> Petition:
    now = now or timezone.now()
    return _transition(
        petition,
        {PetitionState.OPEN, PetitionState.CLOSED},
        state=PetitionState.WON,
        won_at=now,
        closed_at=petition.closed_at or now,
    )


def recent_public_signers(petition: Petition, limit: int = 10):
    """First names and countries of the latest signers who chose to be shown."""
    return (
        Signature.objects.filter(petition=petition, state=SignatureState.VALIDATED)
        .exclude(public_name="")
        .order_by("-validated_at")
        .values("public_name", "country", "validated_at")[:limit]
    )


def open_petitions(now: datetime | None = None):
    now = now or timezone.now()
    return (
        Petition.objects.filter(state=PetitionState.OPEN)
        .filter(Q(closing_at__isnull=True) | Q(closing_at__gt=now))
        .select_related("campaign", "organization")
        .prefetch_related("translations")
    )


# --- writing petitions ----------------------------------------------------------------


def save_petition(
    petition: Petition,
    *,
    texts: dict[str, dict],
    targets: Iterable = (),
    new_targets: Iterable[tuple[str, str]] = (),
    co_hosts: Iterable | None = None,
) -> Petition:
    """Save a petition (new or edited) with its texts per language, in one transaction.

    `petition` is an unsaved or changed instance (from the form); `texts` maps a
    language to {"title", "summary", "story"}, and a language left out is removed.
    Only a draft or rejected petition may be edited; an open one keeps its wording, as
    people signed what it said. `co_hosts` (None: unchanged) must be partners of the
    petition's campaign (campaigns.partners.set_co_hosts raises PartnerRefused).
    """
    from hamseda.petitions.models import DecisionMaker, PetitionTranslation

    if petition.pk and petition.state not in {PetitionState.DRAFT, PetitionState.REJECTED}:
        raise TransitionRefused("only a draft or rejected petition can be edited")
    with transaction.atomic():
        petition.save()
        petition.targets.set(targets)
        if co_hosts is not None:
            from hamseda.campaigns.partners import set_co_hosts

            set_co_hosts(petition, co_hosts)
        for name, position in new_targets:
            target, _ = DecisionMaker.objects.get_or_create(
                organization=petition.organization, name=name, defaults={"position": position}
            )
            petition.targets.add(target)
        PetitionTranslation.objects.filter(petition=petition).exclude(
            language__in=list(texts)
        ).delete()
        for language, fields in texts.items():
            PetitionTranslation.objects.update_or_create(
                petition=petition, language=language, defaults=fields
            )
    return petition


def record_confirmed_signature(
    petition: Petition, signer: Signer, *, now: datetime | None = None
) -> SignatureOutcome:
    """Add a signature that was confirmed elsewhere (a paper sheet signed at a protest,
    or the demo data): sealed and fingerprinted like any other, counted at once, no mail.
    """
    now = now or timezone.now()
    record = sealed_record(signer, now)
    try:
        with transaction.atomic():
            _create_signature(
                petition,
                signer,
                record,
                fingerprint=crypto.email_fingerprint(record["email"]),
                token_hash=_token()[1],
                now=now,
                state=SignatureState.VALIDATED,
                validated_at=now,
            )
            counting.count_confirmation(petition.pk, signer.country, now)
    except IntegrityError:
        return SignatureOutcome.DUPLICATE
    return SignatureOutcome.NEW


def purge_unconfirmed(*, now: datetime | None = None) -> int:
    """Delete pending signatures whose confirmation link has expired.

    The confirmation mail promises it: without confirmation nothing is counted, and
    the record is deleted. Pending signatures are never counted, so no counter changes.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HAMSEDA["CONFIRMATION_DAYS"])
    with transaction.atomic():
        return withdrawal.delete_signature_rows(
            Signature.objects.filter(state=SignatureState.PENDING, token_sent_at__lt=cutoff)
        )
