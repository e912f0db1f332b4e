"""RSVPs: saying one is coming to an event, with a signature's privacy.

The flow is a signature's (petitions.services.sign_petition): fingerprint the e-mail,
seal name and address to the HOST organisation's key, write a pending RSVP and queue
its confirmation mail in one transaction; the attendee confirms from the mail and only
then counts. A repeated RSVP gets the same page and a kind mail to the address, so the
browser never learns whether an address had RSVPed.

Capacity holds under concurrency: an RSVP is refused when the event is full, and the
confirmation counts the attendee only through a conditional UPDATE
(attendee_count < capacity), so two last-seat confirmations cannot both win.
"""

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hamseda.actions import notices
from hamseda.actions.models import Event, PublicationState, Rsvp, RsvpState
from hamseda.integrity import checks, disposable, limits, rules
from hamseda.links import absolute_url
from hamseda.vault import crypto

# How often a repeated RSVP may mail the address again (as for signatures).
RESEND_INTERVAL = timedelta(minutes=10)


class RsvpOutcome(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    # Nothing stored or mailed: the address had too many mails lately.
    MAIL_LIMITED = "mail_limited"


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    EXPIRED = "expired"
    FULL = "full"
    CLOSED = "closed"
    INVALID = "invalid"


class WithdrawOutcome(StrEnum):
    READY = "ready"
    WITHDRAWN = "withdrawn"
    GONE = "gone"
    INVALID = "invalid"


class RsvpRefused(Exception):
    """The event takes no RSVP (full, cancelled, over, unpublished, or its host has no
    sealing key); the message says why, in the reader's language."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Attendee:
    """What an attendee typed, already validated by the form."""

    first_name: str
    last_name: str
    email: str
    language: str = "en"
    # Remind me the day before and tell me about changes: keeps the address locked on
    # the server (Rsvp.contact_locked) until the event is over.
    wants_notices: bool = True
    network_fingerprint: str = ""


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def check_open(event: Event, now: datetime) -> None:
    """Refuse, with the reason, an event that takes no RSVP now."""
    if event.state == PublicationState.CANCELLED:
        raise RsvpRefused(_("This event has been cancelled."))
    if event.state != PublicationState.PUBLISHED:
        raise RsvpRefused(_("This event is not open for RSVPs."), status=404)
    if event.starts_at <= now:
        raise RsvpRefused(_("This event has already started or is over."))
    if event.capacity is not None and event.attendee_count >= event.capacity:
        raise RsvpRefused(_("This event is full."))
    if not event.host.public_key:
        # Without the host's key the data could not be sealed: refuse rather than keep
        # what we could not protect.
        raise RsvpRefused(
            _("The hosts of this event cannot take RSVPs yet. Please try again later."),
            status=503,
        )


def check_attempt(event: Event, data: dict, fingerprint: str, *, now: datetime) -> str:
    """The integrity checks of an RSVP attempt; the refusal's message, or "".

    The sign form's rules (integrity.rules), applied per event: the honeypot and fill
    time, throw-away domains, and the per-network limits (10 minutes, a day). The
    per-address mail limit is taken where the mail is queued (rsvp()).
    """
    if not checks.enabled():
        return ""
    rule = rules.site_rules()
    if rule["honeypot"] and str(data.get(checks.HONEYPOT_FIELD, "")).strip():
        return _("The field “Leave this field empty” was filled in. Please empty it and try again.")
    started = str(data.get(checks.STARTED_FIELD, "") or "")
    if started:
        served = checks.form_started_at(started)
        if served is None:
            return _("This form could not be checked. Please reload the page and try again.")
        if now.timestamp() - served < rule["min_fill_seconds"]:
            return _("That was faster than a person can fill in the form. Please try again.")
    domain = crypto.email_domain(str(data.get("email", "")))
    if rule["refuse_disposable"] and disposable.is_disposable(domain):
        return _(
            "Addresses from %(domain)s are throw-away addresses, and we cannot accept them. "
            "Please use an address you keep."
        ) % {"domain": domain}
    subject = f"event:{event.pk}:{fingerprint}"
    windows = [
        limits.Window("rsvp_network_10min", subject, 600, rule["per_network_10min"]),
        limits.Window("rsvp_network_day", subject, 86400, rule["per_network_day"]),
    ]
    counts = limits.hit([w for w in windows if w.limit > 0], now=now)
    over = [count for count in counts if count.over]
    if over:
        return _("Many RSVPs have come from your network in a short time. Please try again later.")
    return ""


def _token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, crypto.token_hash(token)


def confirmation_url(event: Event, token: str, language: str) -> str:
    with translation.override(language):
        return absolute_url(reverse("actions:confirm", args=[event.slug, token]))


class _MailLimited(Exception):
    """Raised inside the RSVP transaction to roll it back (the mail limit)."""


def rsvp(event: Event, attendee: Attendee, *, now: datetime | None = None) -> RsvpOutcome:
    """Record a pending RSVP and queue its confirmation mail, in one transaction.

    1. Refuse if the event takes no RSVP (check_open: cancelled, over, full, no key).
    2. Fingerprint the e-mail and seal name, address, language and time to the host
       organisation's public key; lock the address with the server key only if the
       attendee asked for a reminder and change notices.
    3. Insert the RSVP; the unique constraint (event, fingerprint) settles concurrent
       duplicates. Take the per-address mail limit before queuing the mail.
    4. On a duplicate, mail the address (never the browser) a new confirmation link if
       still pending, or "you are already coming" if confirmed, at most once per
       RESEND_INTERVAL.
    """
    now = now or timezone.now()
    check_open(event, now)
    email = crypto.normalise_email(attendee.email)
    first_name = _clean(attendee.first_name)
    language = attendee.language[:8]
    record = {
        "first_name": first_name,
        "last_name": _clean(attendee.last_name),
        "email": email,
        "language": language,
        "event": event.slug,
        "wants_notices": attendee.wants_notices,
        "rsvped_at": now.isoformat(timespec="seconds"),
    }
    fingerprint = crypto.email_fingerprint(email)
    token, token_hash = _token()
    public_key = event.host.public_key
    try:
        with transaction.atomic():
            created = Rsvp.objects.create(
                event=event,
                email_fingerprint=fingerprint,
                token_hash=token_hash,
                token_sent_at=now,
                sealed=crypto.seal(public_key, record),
                key_id=crypto.key_id(public_key),
                language=language,
                contact_locked=crypto.lock({"email": email}) if attendee.wants_notices else b"",
                network_fingerprint=attendee.network_fingerprint[:16],
                created_at=now,
            )
            if not checks.may_mail_address(fingerprint, now=now):
                raise _MailLimited
            notices.queue_to_address(
                event,
                kind="confirm-rsvp",
                template="actions/mail/confirm.txt",
                to=email,
                rsvp_id=created.pk,
                language=language,
                now=now,
                first_name=first_name,
                url=confirmation_url(event, token, language),
                wants_notices=attendee.wants_notices,
            )
    except _MailLimited:
        return RsvpOutcome.MAIL_LIMITED
    except IntegrityError:
        with transaction.atomic():
            if not _notify_duplicate(event, fingerprint, email, first_name, language, now):
                return RsvpOutcome.MAIL_LIMITED
        return RsvpOutcome.DUPLICATE
    return RsvpOutcome.NEW


def _notify_duplicate(event, fingerprint, email, first_name, language, now) -> bool:
    existing = Rsvp.objects.filter(event=event, email_fingerprint=fingerprint).first()
    if existing is None:
        return True  # Withdrawn in between: nothing true to say.
    token, token_hash = _token()
    changes = {"token_sent_at": now}
    if existing.state == RsvpState.PENDING:
        changes["token_hash"] = token_hash
    # Rate-limits the mail and, when pending, replaces the token (the old link dies).
    updated = Rsvp.objects.filter(pk=existing.pk, token_sent_at__lt=now - RESEND_INTERVAL).update(
        **changes
    )
    if not updated:
        return True
    if not checks.may_mail_address(fingerprint, now=now):
        transaction.set_rollback(True)
        return False
    pending = existing.state == RsvpState.PENDING
    notices.queue_to_address(
        event,
        kind="duplicate-rsvp",
        template="actions/mail/confirm_again.txt" if pending else "actions/mail/already.txt",
        to=email,
        rsvp_id=existing.pk,
        language=language,
        now=now,
        first_name=first_name,
        url=confirmation_url(event, token, language) if pending else "",
        wants_notices=bool(existing.contact_locked),
    )
    return True


def confirm_rsvp(event: Event, token: str, *, now: datetime | None = None) -> ConfirmOutcome:
    """Confirm the RSVP behind a token and count it, exactly once, within capacity.

    In one transaction: a conditional UPDATE pending → confirmed, then a conditional
    UPDATE of the event's count (attendee_count < capacity). If the event filled up in
    between, the transaction rolls back and the attendee is told it is full; of two
    clicks racing for the last place, one wins.
    """
    now = now or timezone.now()
    if not token or len(token) > 100:
        return ConfirmOutcome.INVALID
    row = Rsvp.objects.filter(event=event, token_hash=crypto.token_hash(token)).first()
    if row is None:
        return ConfirmOutcome.INVALID
    if row.state == RsvpState.CONFIRMED:
        return ConfirmOutcome.ALREADY
    if row.token_sent_at < now - timedelta(days=settings.HAMSEDA["CONFIRMATION_DAYS"]):
        return ConfirmOutcome.EXPIRED
    if event.state != PublicationState.PUBLISHED or event.starts_at <= now:
        return ConfirmOutcome.CLOSED
    with transaction.atomic():
        changed = Rsvp.objects.filter(pk=row.pk, state=RsvpState.PENDING).update(
            state=RsvpState.CONFIRMED, confirmed_at=now
        )
        if not changed:
            return ConfirmOutcome.ALREADY
        counted = Event.objects.filter(
            Q(capacity__isnull=True) | Q(attendee_count__lt=F("capacity")),
            pk=event.pk,
            state=PublicationState.PUBLISHED,
        ).update(attendee_count=F("attendee_count") + 1)
        if not counted:
            transaction.set_rollback(True)
            return ConfirmOutcome.FULL
    return ConfirmOutcome.CONFIRMED


def remove_rsvp(rsvp_id: int) -> bool:
    """Delete one RSVP and, if it was confirmed, take it out of the count, exactly once.

    The row lock closes the race with its confirmation (which could otherwise count it
    between our read and our delete); of two removals racing, only the one whose DELETE
    removed the row changes the count.
    """
    with transaction.atomic():
        row = (
            Rsvp.objects.select_for_update().filter(pk=rsvp_id).values("event_id", "state").first()
        )
        if row is None:
            return False
        deleted, _ = Rsvp.objects.filter(pk=rsvp_id).delete()
        if not deleted:
            return False
        if row["state"] == RsvpState.CONFIRMED:
            Event.objects.filter(pk=row["event_id"]).update(
                attendee_count=Greatest(F("attendee_count") - 1, 0)
            )
    return True


def check_withdrawal(event: Event, token: str) -> WithdrawOutcome:
    """What a withdraw link finds, changing nothing (scanners open links)."""
    rsvp_id = notices.withdrawn_rsvp_id(event, token)
    if rsvp_id is None:
        return WithdrawOutcome.INVALID
    exists = Rsvp.objects.filter(pk=rsvp_id, event=event).exists()
    return WithdrawOutcome.READY if exists else WithdrawOutcome.GONE


def withdraw_rsvp(event: Event, token: str, *, now: datetime | None = None) -> WithdrawOutcome:
    """Withdraw the RSVP a withdraw link names: its row goes, with its sealed data."""
    rsvp_id = notices.withdrawn_rsvp_id(event, token)
    if rsvp_id is None:
        return WithdrawOutcome.INVALID
    return WithdrawOutcome.WITHDRAWN if remove_rsvp(rsvp_id) else WithdrawOutcome.GONE


def purge_unconfirmed(*, now: datetime | None = None) -> int:
    """Delete pending RSVPs whose link has expired, or whose event is over or cancelled:
    the confirmation mail promises that an unconfirmed RSVP is deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HAMSEDA["CONFIRMATION_DAYS"])
    deleted, _ = (
        Rsvp.objects.filter(state=RsvpState.PENDING)
        .filter(
            Q(token_sent_at__lt=cutoff)
            | Q(event__starts_at__lte=now)
            | Q(event__state=PublicationState.CANCELLED)
        )
        .delete()
    )
    return deleted


# --- erasure (vault.erasure) --------------------------------------------------------------


def rsvps_held(fingerprint: str) -> int:
    return Rsvp.objects.filter(email_fingerprint=fingerprint).count()


def erase_rsvps(fingerprint: str, *, now: datetime | None = None) -> int:
    """Withdraw every RSVP of one e-mail fingerprint, on every event, in id order."""
    with transaction.atomic():
        ids = list(
            Rsvp.objects.filter(email_fingerprint=fingerprint)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return sum(remove_rsvp(rsvp_id) for rsvp_id in ids)


def describe_rsvps(count: int) -> str:
    return ngettext("%(count)d RSVP to an event", "%(count)d RSVPs to events", count) % {
        "count": count
    }
