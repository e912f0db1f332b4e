"""Mail-outs: an update or a decision-maker's response mailed to a petition's consenting
signers (docs/mailouts.md).

The addresses are sealed to the organisation's key (PRIVACY.md rule 1), so a mail-out
is prepared without them and sent only by a process that holds the secret key in
memory for that job:

1. `create_mailout()` records what is mailed and to whom (a Segment), as a DRAFT.
2. `queue_mailout()` lists one MailoutRecipient row per consenting signer with one
   INSERT … SELECT, without any key: the rows point at signatures, nothing more.
3. `start_mailout()` checks the keys and marks the mail-out RUNNING (one per
   organisation, enforced by a unique constraint); `run_mailout()` (mail.sending) then
   opens each address at its turn, sends, and records the outcome row by row.

A RUNNING mail-out carries a heartbeat written by its sender. The heartbeat is also the
sender's lease: the sender only goes on while the row still holds the heartbeat it
wrote itself, so a second sender (a resume after an interruption) makes the first one
stop. A mail-out whose heartbeat is older than STALE_AFTER lost its sender (killed,
server restarted) and can be resumed with the key.
"""

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import nacl.public
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction
from hamseda.languages import CODES
from hamseda.mail.models import (
    Mailout,
    MailoutRecipient,
    MailoutState,
    RecipientState,
    Undeliverable,
)
from hamseda.petitions.models import Petition, Response, Signature, SignatureState, Update

# A sender writes its heartbeat at least every HEARTBEAT_EVERY; one silent for longer
# than STALE_AFTER is gone, and its mail-out shows as interrupted.
HEARTBEAT_EVERY = timedelta(seconds=10)
STALE_AFTER = timedelta(seconds=60)


class MailoutError(Exception):
    """A mail-out action that cannot be done; str() is a translated message for people."""


class WrongKey(MailoutError):
    """The key is unreadable, not this organisation's, or keys the records need are missing."""


class AlreadyRunning(MailoutError):
    """This or another mail-out of the organisation is being sent."""


class NothingToSend(MailoutError):
    """No consenting signer in the segment."""


class NotAllowed(MailoutError):
    """The action is not possible in the mail-out's current state."""


# The keys' part of the contract lives in mail.mailout_keys; imported here so that
# callers find the whole API in this module.
from hamseda.mail.mailout_keys import check_keys as check_keys  # noqa: E402
from hamseda.mail.mailout_keys import read_keys as read_keys  # noqa: E402

# --- segments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Which consenting signers a mail-out goes to. Empty fields mean "all"."""

    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    # The signature's created_at date (UTC), both ends inclusive.
    signed_from: date | None = None
    signed_until: date | None = None

    def __post_init__(self) -> None:
        # Normalised here, so a segment read back from JSON compares equal.
        object.__setattr__(
            self, "countries", tuple(sorted({c.strip().upper() for c in self.countries if c}))
        )
        object.__setattr__(
            self, "languages", tuple(sorted({c.strip().lower() for c in self.languages if c}))
        )

    def as_json(self) -> dict:
        data: dict[str, Any] = {}
        if self.countries:
            data["countries"] = list(self.countries)
        if self.languages:
            data["languages"] = list(self.languages)
        if self.signed_from:
            data["signed_from"] = self.signed_from.isoformat()
        if self.signed_until:
            data["signed_until"] = self.signed_until.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> "Segment":
        data = data or {}

        def day(value: Any) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            countries=tuple(data.get("countries") or ()),
            languages=tuple(data.get("languages") or ()),
            signed_from=day(data.get("signed_from")),
            signed_until=day(data.get("signed_until")),
        )

    def check(self) -> None:
        """MailoutError if the segment cannot select anyone sensibly."""
        for country in self.countries:
            if not (len(country) == 2 and country.isascii() and country.isalpha()):
                raise MailoutError(_("%(code)s is not a country code.") % {"code": country})
        for language in self.languages:
            if language not in CODES:
                raise MailoutError(
                    _("%(code)s is not a language of this site.") % {"code": language}
                )
        if self.signed_from and self.signed_until and self.signed_from > self.signed_until:
            raise MailoutError(_("The start date of the segment is after its end date."))

    def describe(self) -> str:
        """A one-line summary in the current language, for pages and the CLI."""
        from django.conf import settings

        parts = []
        if self.countries:
            parts.append(_("countries: %(list)s") % {"list": ", ".join(self.countries)})
        if self.languages:
            names = dict(settings.LANGUAGES)
            listed = ", ".join(str(names.get(code, code)) for code in self.languages)
            parts.append(_("languages: %(list)s") % {"list": listed})
        if self.signed_from and self.signed_until:
            parts.append(
                _("signed from %(start)s to %(end)s")
                % {"start": self.signed_from.isoformat(), "end": self.signed_until.isoformat()}
            )
        elif self.signed_from:
            parts.append(_("signed from %(start)s") % {"start": self.signed_from.isoformat()})
        elif self.signed_until:
            parts.append(_("signed until %(end)s") % {"end": self.signed_until.isoformat()})
        if not parts:
            return _("Every signer who asked to be kept updated")
        return _("Signers who asked to be kept updated; %(filters)s") % {
            "filters": "; ".join(parts)
        }


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def recipients(petition: Petition, segment: Segment = Segment()) -> QuerySet[Signature]:
    """The signatures a mail-out with this segment would reach: confirmed, with consent
    ("keep me updated"), in the segment, and not known undeliverable."""
    signatures = Signature.objects.filter(
        petition=petition, state=SignatureState.VALIDATED, keep_updated=True
    )
    if segment.countries:
        signatures = signatures.filter(country__in=segment.countries)
    if segment.languages:
        languages = Q(language__in=segment.languages)
        # Signatures made before the language was recorded read the petition's language.
        if petition.default_language in segment.languages:
            languages |= Q(language="")
        signatures = signatures.filter(languages)
    if segment.signed_from:
        signatures = signatures.filter(created_at__gte=_day_start(segment.signed_from))
    if segment.signed_until:
        signatures = signatures.filter(
            created_at__lt=_day_start(segment.signed_until + timedelta(days=1))
        )
    return signatures.exclude(
        email_fingerprint__in=Undeliverable.objects.values("email_fingerprint")
    )


def count_recipients(petition: Petition, segment: Segment = Segment()) -> int:
    return recipients(petition, segment).count()


# --- creating and queueing ----------------------------------------------------------------


def create_mailout(
    petition: Petition,
    *,
    update: Update | None = None,
    response: Response | None = None,
    segment: Segment = Segment(),
    created_by=None,
    now: datetime | None = None,
) -> Mailout:
    """A DRAFT mail-out of a published update or a visible response of `petition`."""
    now = now or timezone.now()
    if (update is None) == (response is None):
        raise MailoutError(_("Choose either an update or a response to mail."))
    if update is not None and (update.petition_id != petition.pk or update.published_at is None):
        raise MailoutError(_("Only a published update of this petition can be mailed."))
    if response is not None and (response.petition_id != petition.pk or response.hidden):
        raise MailoutError(_("Only a response shown on this petition's page can be mailed."))
    segment.check()
    return Mailout.objects.create(
        organization_id=petition.organization_id,
        petition=petition,
        update=update,
        response=response,
        segment=segment.as_json(),
        state=MailoutState.DRAFT,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        created_at=now,
    )


def queue_mailout(mailout: Mailout, *, now: datetime | None = None) -> int:
    """List the recipients of a DRAFT mail-out and make it QUEUED; return their number.

    1. Move the mail-out from DRAFT to QUEUED with a conditional UPDATE: of two requests
       (a double click), one lists the recipients and the other is refused.
    2. One INSERT … SELECT copies the ids of the segment's signatures into recipient
       rows, inside the database: no row travels through Python, so 100,000 recipients
       take seconds. The unique (mailout, signature) constraint makes a second listing
       impossible anyway.
    3. Nobody listed: roll back (the mail-out stays a DRAFT) and raise NothingToSend.
    """
    now = now or timezone.now()
    segment = Segment.from_json(mailout.segment)
    with transaction.atomic():
        moved = Mailout.objects.filter(pk=mailout.pk, state=MailoutState.DRAFT).update(
            state=MailoutState.QUEUED, queued_at=now
        )
        if not moved:
            raise NotAllowed(_("This mail-out has already been queued."))
        petition = Petition.objects.get(pk=mailout.petition_id)
        select, params = (
            recipients(petition, segment).order_by("pk").values("pk").query.sql_with_params()
        )
        table = connection.ops.quote_name(MailoutRecipient._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} "  # noqa: S608 - table name from the model; values bound.
                "(mailout_id, signature_id, state, attempts, last_error) "
                f"SELECT %s, chosen.pk, %s, 0, '' FROM ({select}) chosen",
                [mailout.pk, RecipientState.QUEUED, *params],
            )
            listed = cursor.rowcount
        if listed <= 0:
            raise NothingToSend(
                _("No signer in this selection asked to be kept updated: nothing to send.")
            )
        Mailout.objects.filter(pk=mailout.pk).update(total=listed)
    mailout.refresh_from_db()
    return listed


# --- starting, pausing, cancelling --------------------------------------------------------


def _stale_before(now: datetime) -> datetime:
    return now - STALE_AFTER


def is_interrupted(mailout: Mailout, *, now: datetime | None = None) -> bool:
    """RUNNING, but its sender has not been heard of for STALE_AFTER: it was killed or
    the server restarted. Give the key again to resume."""
    now = now or timezone.now()
    return mailout.state == MailoutState.RUNNING and (
        mailout.heartbeat_at is None or mailout.heartbeat_at < _stale_before(now)
    )


def start_mailout(
    mailout: Mailout,
    keys: dict[str, nacl.public.PrivateKey],
    *,
    actor=None,
    via: str = "web",
    now: datetime | None = None,
) -> Mailout:
    """Make a QUEUED or PAUSED mail-out (or an interrupted one) RUNNING, after checking
    the keys; the caller then runs `run_mailout()` with the same keys.

    1. check_keys(): refused before anything changes.
    2. A conditional UPDATE moves the state to RUNNING and writes a fresh heartbeat,
       the new sender's lease. It only matches a mail-out whose previous sender is
       gone: PAUSED or RUNNING with no heartbeat or a stale one (a sender that was
       paused clears its heartbeat when it stops; until then it is still finishing a
       message). The unique constraint "one RUNNING mail-out per organisation" turns a
       second organisation-wide start into an IntegrityError: AlreadyRunning.
    3. Rows left in SENDING by a previous sender go back to QUEUED: that sender is gone,
       and each was perhaps accepted by the mail server just before it died. They are
       sent again with the same Message-ID (mail.compose.message_id), so a mail client
       folds a duplicate into one message.
    4. Counters are recounted from the rows (a killed sender may have left them
       behind) and the start is written to the audit log, in the same transaction.
    """
    now = now or timezone.now()
    mailout = Mailout.objects.select_related("organization", "petition").get(pk=mailout.pk)
    if mailout.state in {MailoutState.DRAFT, MailoutState.DONE, MailoutState.CANCELLED}:
        raise NotAllowed(_state_refusal(mailout))
    check_keys(mailout, keys)
    stale = _stale_before(now)
    startable = Q(state__in=[MailoutState.QUEUED]) | (
        Q(state__in=[MailoutState.PAUSED, MailoutState.RUNNING])
        & (Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale))
    )
    try:
        with transaction.atomic():
            moved = Mailout.objects.filter(startable, pk=mailout.pk).update(
                state=MailoutState.RUNNING,
                started_at=Coalesce("started_at", now),
                heartbeat_at=now,
                finished_at=None,
                last_error="",
            )
            if moved:
                MailoutRecipient.objects.filter(
                    mailout=mailout, state=RecipientState.SENDING
                ).update(state=RecipientState.QUEUED, claimed_at=None)
                counts = recount_mailout(mailout)
                audit.record(
                    AuditAction.MAILOUT,
                    organization=mailout.organization,
                    actor=actor,
                    subject=mailout.petition.slug,
                    details={
                        "mailout": mailout.pk,
                        "event": "resumed" if mailout.state != MailoutState.QUEUED else "started",
                        "petition": mailout.petition.slug,
                        "recipients": counts["total"],
                        "to_send": counts["queued"],
                        "resumed": mailout.state != MailoutState.QUEUED,
                        "via": via,
                    },
                    now=now,
                )
    except IntegrityError as error:
        raise AlreadyRunning(
            _("Another mail-out of this organisation is being sent; wait for it or pause it.")
        ) from error
    if not moved:
        mailout.refresh_from_db()
        if mailout.state in {MailoutState.RUNNING, MailoutState.PAUSED}:
            raise AlreadyRunning(
                _(
                    "This mail-out is being sent by another process (or is finishing its "
                    "current message). If that process was stopped, wait a minute and try "
                    "again."
                )
            )
        raise NotAllowed(_state_refusal(mailout))
    mailout.refresh_from_db()
    return mailout


def _state_refusal(mailout: Mailout) -> str:
    return {
        MailoutState.DRAFT: _("This mail-out has no recipients yet: queue it first."),
        MailoutState.DONE: _("This mail-out has been sent."),
        MailoutState.CANCELLED: _("This mail-out was cancelled."),
        MailoutState.RUNNING: _("This mail-out is being sent."),
        MailoutState.PAUSED: _("This mail-out is paused."),
        MailoutState.QUEUED: _("This mail-out is ready to send."),
    }.get(MailoutState(mailout.state), _("This mail-out cannot do that now."))


def pause_mailout(
    mailout: Mailout, *, actor=None, via: str = "web", now: datetime | None = None
) -> Mailout:
    """RUNNING → PAUSED, audited. The sender notices before its next message and stops;
    nothing is lost or sent twice. The heartbeat stays until the sender has stopped, so
    a resume cannot start a second sender while the first finishes its message."""
    with transaction.atomic():
        moved = Mailout.objects.filter(pk=mailout.pk, state=MailoutState.RUNNING).update(
            state=MailoutState.PAUSED
        )
        mailout.refresh_from_db()
        if not moved:
            raise NotAllowed(_state_refusal(mailout))
        _record(mailout, "paused", actor=actor, via=via, now=now)
    return mailout


def _record(mailout: Mailout, event: str, *, actor, via: str, now: datetime | None) -> None:
    """An audit event for a person's action on a mail-out (PRIVACY.md rule 7)."""
    audit.record(
        AuditAction.MAILOUT,
        organization=mailout.organization,
        actor=actor,
        subject=mailout.petition.slug,
        details={"mailout": mailout.pk, "event": event, "via": via},
        now=now,
    )


def cancel_mailout(
    mailout: Mailout, *, actor=None, via: str = "web", now: datetime | None = None
) -> Mailout:
    """DRAFT, QUEUED, PAUSED (or interrupted) → CANCELLED, audited. Whoever was not sent
    yet gets nothing; a running mail-out must be paused first."""
    now = now or timezone.now()
    cancellable = Q(state__in=[MailoutState.DRAFT, MailoutState.QUEUED, MailoutState.PAUSED]) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before(now)),
        state=MailoutState.RUNNING,
    )
    with transaction.atomic():
        moved = Mailout.objects.filter(cancellable, pk=mailout.pk).update(
            state=MailoutState.CANCELLED, finished_at=now
        )
        mailout.refresh_from_db()
        if not moved:
            if mailout.state == MailoutState.RUNNING:
                raise NotAllowed(_("Pause the mail-out before cancelling it."))
            raise NotAllowed(_state_refusal(mailout))
        _record(mailout, "cancelled", actor=actor, via=via, now=now)
    return mailout


def run_mailout(
    mailout_id: int,
    keys: dict[str, nacl.public.PrivateKey],
    *,
    stop: threading.Event | None = None,
    **options: Any,
) -> Mailout:
    """Send a RUNNING mail-out until it is done, paused, cancelled or `stop` is set
    (then it pauses). See mail.sending.run for the loop and its options."""
    from hamseda.mail import sending

    return sending.run(mailout_id, keys, stop=stop, **options)


def start_in_background(
    mailout: Mailout, keys: dict[str, nacl.public.PrivateKey], *, actor=None
) -> Mailout:
    """Start the mail-out and send it from a daemon thread of this process.

    The keys live only in that thread's memory while it sends. The thread dies with the
    process: a restart of the web server interrupts the mail-out, which then shows as
    interrupted until someone gives the key again (docs/mailouts.md).
    """
    started = start_mailout(mailout, keys, actor=actor, via="web")

    def send() -> None:
        from django.db import connection as thread_connection

        try:
            run_mailout(started.pk, keys)
        finally:
            thread_connection.close()

    threading.Thread(target=send, name=f"mailout-{started.pk}", daemon=True).start()
    return started


# --- reading progress and repairing counters ----------------------------------------------


def progress(mailout: Mailout, *, now: datetime | None = None) -> dict:
    """What a progress page or the CLI shows, JSON-ready."""
    now = now or timezone.now()
    done = mailout.sent + mailout.bounced + mailout.failed + mailout.skipped

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": mailout.pk,
        "state": mailout.state,
        "state_label": str(MailoutState(mailout.state).label),
        "total": mailout.total,
        "sent": mailout.sent,
        "bounced": mailout.bounced,
        "failed": mailout.failed,
        "skipped": mailout.skipped,
        "queued": max(0, mailout.total - done),
        "interrupted": is_interrupted(mailout, now=now),
        "last_error": mailout.last_error,
        "started_at": iso(mailout.started_at),
        "finished_at": iso(mailout.finished_at),
    }


def recount_mailout(mailout: Mailout) -> dict:
    """Rebuild the mail-out's counters from its recipient rows (the repair path, also
    run by `hamseda recount`). Returns the counts, with "queued" for those left."""
    rows = (
        MailoutRecipient.objects.filter(mailout_id=mailout.pk)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {row["state"]: row["n"] for row in rows}
    values = {
        "total": sum(counts.values()),
        "sent": counts.get(RecipientState.SENT, 0),
        "bounced": counts.get(RecipientState.BOUNCED, 0),
        "failed": counts.get(RecipientState.FAILED, 0),
        "skipped": counts.get(RecipientState.SKIPPED, 0),
    }
    Mailout.objects.filter(pk=mailout.pk).update(**values)
    return {
        **values,
        "queued": counts.get(RecipientState.QUEUED, 0) + counts.get(RecipientState.SENDING, 0),
    }


def recount_mailouts(petition: Petition) -> int:
    """Recount every mail-out of a petition that has recipients; return how many."""
    repaired = 0
    for mailout in Mailout.objects.filter(petition=petition).exclude(state=MailoutState.DRAFT):
        recount_mailout(mailout)
        repaired += 1
    return repaired


# --- test copies --------------------------------------------------------------------------


def send_test(mailout: Mailout, address: str, language: str, *, now: datetime | None = None):
    """Queue one test copy of the mail-out to `address`, in `language`, through the
    outbox (encrypted there until delivered, like every transient address). It is
    marked as a test, and its unsubscribe link is replaced by a note. No key needed.
    Returns the outbox message."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from hamseda.mail import compose
    from hamseda.mail.services import queue_message

    address = address.strip()
    try:
        validate_email(address)
    except ValidationError as error:
        raise MailoutError(_("Enter a valid e-mail address for the test copy.")) from error
    if language not in CODES:
        raise MailoutError(_("%(code)s is not a language of this site.") % {"code": language})
    if mailout.state == MailoutState.CANCELLED:
        raise NotAllowed(_state_refusal(mailout))
    content = compose.MailoutContent.load(mailout.pk)
    parts = content.test_copy(language)
    return queue_message(
        kind="mailout_test",
        to=address,
        template="mail/mailout/test_copy.txt",
        html_template="mail/mailout/test_copy.html",
        context={"subject": parts.subject, "text": parts.text, "html": parts.html},
        language=language,
        headers=parts.headers,
        now=now,
    )
