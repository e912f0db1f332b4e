"""The sender of a mail-out: `run()`, called as mailouts.run_mailout() by the CLI
(`hamseda mailout ID --key FILE`) or a web process's background thread.

It holds the organisation's secret keys in memory for the job. An address exists in
plain text only in the local variables of `Sender.send_one()`, for the few
milliseconds between opening the sealed record and the mail server's answer.

The loop (docs/mailouts.md has the guarantees):

1. Adopt the lease: the heartbeat start_mailout() wrote. Every later write of the
   sender is conditional on still holding it, so a sender that was taken over stops.
2. Claim a small batch of queued recipients with a conditional UPDATE (QUEUED →
   SENDING, stamped with the claim time), and commit.
3. For each: re-read the signature (unsubscribed, withdrawn, invalidated or known
   undeliverable since it was queued → SKIPPED), open the address, render the mail in
   the signer's language, send it over one SMTP connection per batch, and record the
   outcome at once (SENT, BOUNCED, retry later, FAILED), before the next message.
4. Between messages: obey the organisation's rate (a token bucket), stop if the
   mail-out was paused or cancelled, or `stop` was set (then pause it).
5. After each batch add its outcomes to the mail-out's counters and renew the
   heartbeat. When nobody is left: DONE, with the counters recounted from the rows.

A refused recipient (5xx) is a bounce: the row is BOUNCED and the signature's
fingerprint becomes Undeliverable. A 4xx is retried after RETRY_AFTER, up to
MAX_ATTEMPTS. A failing mail server (refused connection, dropped connection, our
sender refused) puts the recipient back and backs off 1, 2, 4 … seconds; after
OUTAGE_LIMIT failures in a row the mail-out is PAUSED with the reason (never an
address: mail.services.describe_failure).
"""

import contextlib
import logging
import smtplib
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import nacl.exceptions
import nacl.public
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone

from hamseda.mail import bounces
from hamseda.mail.compose import MailoutContent
from hamseda.mail.mailouts import HEARTBEAT_EVERY
from hamseda.mail.models import (
    Mailout,
    MailoutRecipient,
    MailoutState,
    RecipientState,
    Undeliverable,
)
from hamseda.mail.services import describe_failure, is_permanent
from hamseda.mail.transport import connection_from_url
from hamseda.petitions.models import SignatureState

log = logging.getLogger(__name__)

BATCH = 20
MAX_ATTEMPTS = 5
# A recipient refused with a 4xx (greylisting, a full mailbox) is tried again this
# much later.
RETRY_AFTER = timedelta(minutes=2)
OUTAGE_LIMIT = 5
MAX_BACKOFF = 30.0
# Sleep in slices no longer than this, to notice a pause or a stop quickly.
SLICE = 1.0


class Clock:
    """Time for the sender; tests pass one that does not really sleep."""

    def now(self) -> datetime:
        return timezone.now()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Outcome(StrEnum):
    SENT = "sent"
    BOUNCED = "bounced"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"
    OUTAGE = "outage"


class Stopped(Exception):
    """The sender must stop: the lease was lost, the mail-out paused or cancelled, or
    `stop` was set."""


class TokenBucket:
    """At most `per_minute` messages a minute, in bursts of at most a second's worth."""

    def __init__(self, per_minute: int, clock: Clock):
        self.rate = max(1, per_minute) / 60.0
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.clock = clock
        self.last = clock.monotonic()

    def wait_time(self) -> float:
        now = self.clock.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


# The exceptions that say the mail server, not this recipient, is the problem.
OUTAGES = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
)


def classify(error: Exception) -> Outcome:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return Outcome.BOUNCED if is_permanent(error) else Outcome.RETRY
    if isinstance(error, OUTAGES):
        return Outcome.OUTAGE
    if isinstance(error, smtplib.SMTPResponseException):
        # Refused at DATA: the content or a policy, not proof that the address is bad.
        return Outcome.FAILED if is_permanent(error) else Outcome.RETRY
    return Outcome.OUTAGE


class Sender:
    def __init__(
        self,
        mailout_id: int,
        keys: dict[str, nacl.public.PrivateKey],
        *,
        stop: threading.Event | None = None,
        clock: Clock | None = None,
        batch_size: int = BATCH,
        on_progress: Callable[[Mailout], None] | None = None,
        connect: Callable[[], BaseEmailBackend] = connection_from_url,
    ):
        self.mailout_id = mailout_id
        self.boxes = {key_id: nacl.public.SealedBox(key) for key_id, key in keys.items()}
        self.stop = stop or threading.Event()
        self.clock = clock or Clock()
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.connect = connect
        self.lease: datetime | None = None
        self.last_beat = 0.0
        self.outages = 0
        self.claim_time: datetime | None = None
        self.backend: BaseEmailBackend | None = None
        self.counts: Counter[str] = Counter()

    # --- the lease -------------------------------------------------------------------------

    def _mine(self) -> Q:
        return Q(pk=self.mailout_id, state=MailoutState.RUNNING, heartbeat_at=self.lease)

    def adopt(self) -> bool:
        """Take over the heartbeat start_mailout() wrote; of two callers one wins."""
        current = Mailout.objects.filter(
            pk=self.mailout_id, state=MailoutState.RUNNING
        ).values_list("heartbeat_at", flat=True)
        found = current.first()
        if found is None:
            return False
        self.lease = found
        return self.beat(force=True)

    def beat(self, *, force: bool = False) -> bool:
        """Renew the heartbeat (at most every few seconds unless forced)."""
        if not force and self.clock.monotonic() - self.last_beat < HEARTBEAT_EVERY.seconds / 4:
            return True
        fresh = self.clock.now()
        if fresh == self.lease:
            fresh += timedelta(microseconds=1)
        if not Mailout.objects.filter(self._mine()).update(heartbeat_at=fresh):
            return False
        self.lease = fresh
        self.last_beat = self.clock.monotonic()
        return True

    def still_mine(self) -> bool:
        return not self.stop.is_set() and Mailout.objects.filter(self._mine()).exists()

    def check(self) -> None:
        if not self.still_mine():
            raise Stopped

    def wait(self, seconds: float) -> None:
        """Sleep, renewing the heartbeat and watching for a pause or a stop."""
        deadline = self.clock.monotonic() + seconds
        while (left := deadline - self.clock.monotonic()) > 0:
            self.clock.sleep(min(SLICE, left))
            self.check()
            if not self.beat():
                raise Stopped

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> Mailout:
        if not self.adopt():
            return Mailout.objects.get(pk=self.mailout_id)
        content = MailoutContent.load(self.mailout_id)
        self.content = content
        self.bucket = TokenBucket(content.organization.mail_rate_per_minute, self.clock)
        try:
            while True:
                self.check()
                ids = self.claim()
                if not ids:
                    due = self.next_retry()
                    if due is None:
                        self.finish()
                        break
                    self.wait(max(0.0, (due - self.clock.now()).total_seconds()))
                    continue
                try:
                    self.send_batch(ids)
                finally:
                    self.release()
                    self.close_backend()
                    self.flush_counts()
                if not self.beat(force=True):
                    raise Stopped
                self.report()
                if self.outages:
                    if self.outages >= OUTAGE_LIMIT:
                        self.pause_for_outage()
                        break
                    self.wait(min(MAX_BACKOFF, 2.0 ** (self.outages - 1)))
        except Stopped:
            self.stopped()
        mailout = Mailout.objects.get(pk=self.mailout_id)
        self.report(mailout)
        return mailout

    def report(self, mailout: Mailout | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(mailout or Mailout.objects.get(pk=self.mailout_id))

    def claim(self) -> list[int]:
        """Up to a batch of due queued recipients, in id order, now SENDING."""
        now = self.clock.now()
        due = (
            MailoutRecipient.objects.filter(mailout_id=self.mailout_id, state=RecipientState.QUEUED)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - RETRY_AFTER))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        ids = list(due[: self.batch_size])
        if not ids:
            return []
        with transaction.atomic():
            MailoutRecipient.objects.filter(pk__in=ids, state=RecipientState.QUEUED).update(
                state=RecipientState.SENDING, claimed_at=now
            )
        self.claim_time = now
        return list(
            MailoutRecipient.objects.filter(
                pk__in=ids, state=RecipientState.SENDING, claimed_at=now
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def next_retry(self) -> datetime | None:
        """When the earliest recipient waiting for a retry is due; None if none waits."""
        oldest = MailoutRecipient.objects.filter(
            mailout_id=self.mailout_id, state=RecipientState.QUEUED
        ).aggregate(oldest=Min("claimed_at"))["oldest"]
        waiting = MailoutRecipient.objects.filter(
            mailout_id=self.mailout_id, state=RecipientState.QUEUED
        ).exists()
        if not waiting:
            return None
        return (oldest + RETRY_AFTER) if oldest else self.clock.now()

    def send_batch(self, ids: list[int]) -> None:
        for recipient_id in ids:
            self.check()
            delay = self.bucket.wait_time()
            if delay > 0:
                self.wait(delay)
                self.bucket.wait_time()
            outcome = self.send_one(recipient_id)
            if not self.beat():  # Every few seconds: a slow relay must not look dead.
                raise Stopped
            if outcome != Outcome.SKIPPED:
                self.bucket.take()
            if outcome == Outcome.OUTAGE:
                self.outages += 1
                return
            if outcome in {Outcome.SENT, Outcome.BOUNCED, Outcome.RETRY}:
                self.outages = 0

    def send_one(self, recipient_id: int) -> Outcome:
        """Send one recipient's message and record what happened."""
        # One query: the row, its signature as it is now (an unsubscribe or a withdrawal
        # since the mail-out was queued counts), and whether the address bounced since.
        row = (
            MailoutRecipient.objects.filter(pk=recipient_id)
            .annotate(
                undeliverable=Exists(
                    Undeliverable.objects.filter(pk=OuterRef("signature__email_fingerprint"))
                )
            )
            .values(
                "attempts",
                "signature_id",
                "undeliverable",
                signature_state=F("signature__state"),
                keep_updated=F("signature__keep_updated"),
                sealed=F("signature__sealed"),
                key_id=F("signature__key_id"),
                language=F("signature__language"),
                email_fingerprint=F("signature__email_fingerprint"),
            )
            .first()
        )
        if row is None:
            return Outcome.SKIPPED
        signature = row
        if (
            row["signature_id"] is None
            or row["signature_state"] != SignatureState.VALIDATED
            or not row["keep_updated"]
            or row["undeliverable"]
        ):
            return self.record(recipient_id, Outcome.SKIPPED)
        box = self.boxes.get(signature["key_id"])
        if box is None:
            return self.record(recipient_id, Outcome.FAILED, error="key not given")
        try:
            sealed_record = _loads(box.decrypt(bytes(signature["sealed"])))
        except (nacl.exceptions.CryptoError, ValueError):
            return self.record(recipient_id, Outcome.FAILED, error="record does not open")
        address = sealed_record.get("email") if isinstance(sealed_record, dict) else None
        if not address or not isinstance(address, str):
            # Purged by retention: nothing to write to.
            return self.record(recipient_id, Outcome.SKIPPED)
        language = self.content.language_for(signature["language"])
        message = self.content.message(
            address, language, recipient_id=recipient_id, signature_id=row["signature_id"]
        )
        try:
            backend = self.open_backend()
            backend.send_messages([message])
        except Exception as error:  # noqa: BLE001 - every failure is classified below.
            outcome = classify(error)
            described = describe_failure(error)
            log.warning("mail-out %s recipient %s: %s", self.mailout_id, recipient_id, described)
            if outcome == Outcome.OUTAGE:
                self.last_outage = described
                self.close_backend()
                return self.record(recipient_id, Outcome.OUTAGE)
            if outcome == Outcome.BOUNCED:
                status = _status_of(error)
                return self.record(
                    recipient_id,
                    Outcome.BOUNCED,
                    error=described,
                    fingerprint=signature["email_fingerprint"],
                    status=status,
                )
            if outcome == Outcome.RETRY and row["attempts"] + 1 >= MAX_ATTEMPTS:
                outcome = Outcome.FAILED
            return self.record(recipient_id, outcome, error=described, attempts=row["attempts"] + 1)
        finally:
            del address, message, sealed_record
        return self.record(recipient_id, Outcome.SENT, attempts=row["attempts"] + 1)

    def record(
        self,
        recipient_id: int,
        outcome: Outcome,
        *,
        error: str = "",
        attempts: int | None = None,
        fingerprint: str = "",
        status: str = "",
    ) -> Outcome:
        """Write one recipient's outcome at once (the row, and for a bounce the
        Undeliverable fingerprint, in one small transaction), and count it for the
        mail-out's counters (flush_counts). Only a row this sender claimed (SENDING, with
        this batch's claim time) changes."""
        now = self.clock.now()
        changes: dict[str, Any] = {"last_error": error[:120]}
        if attempts is not None:
            changes["attempts"] = attempts
        counter = None
        if outcome == Outcome.SENT:
            changes.update(state=RecipientState.SENT, sent_at=now)
            counter = "sent"
        elif outcome == Outcome.BOUNCED:
            changes.update(state=RecipientState.BOUNCED)
            counter = "bounced"
        elif outcome == Outcome.FAILED:
            changes.update(state=RecipientState.FAILED)
            counter = "failed"
        elif outcome == Outcome.SKIPPED:
            changes.update(state=RecipientState.SKIPPED)
            counter = "skipped"
        elif outcome == Outcome.RETRY:
            # Due again RETRY_AFTER from now (claim() compares claimed_at).
            changes.update(state=RecipientState.QUEUED, claimed_at=now)
        else:  # An outage: back in the queue as it was, due at once.
            changes.update(state=RecipientState.QUEUED, claimed_at=None)
        with transaction.atomic():
            changed = MailoutRecipient.objects.filter(
                pk=recipient_id, state=RecipientState.SENDING, claimed_at=self.claim_time
            ).update(**changes)
            if changed and fingerprint:
                bounces.mark_undeliverable(fingerprint, status, now=now)
        if changed and counter:
            self.counts[counter] += 1
        return outcome

    def flush_counts(self) -> None:
        """Add this batch's outcomes to the mail-out's counters, in one UPDATE. If the
        process dies before, start_mailout() and finish() recount from the rows."""
        if self.counts:
            Mailout.objects.filter(pk=self.mailout_id).update(
                **{name: F(name) + amount for name, amount in self.counts.items()}
            )
            self.counts.clear()

    def release(self) -> None:
        """Put back the rest of this batch (after a stop or an outage), due at once."""
        if self.claim_time is None:
            return
        MailoutRecipient.objects.filter(
            mailout_id=self.mailout_id, state=RecipientState.SENDING, claimed_at=self.claim_time
        ).update(state=RecipientState.QUEUED, claimed_at=None)

    # --- the SMTP connection ------------------------------------------------------------------

    def open_backend(self) -> BaseEmailBackend:
        if self.backend is None:
            backend = self.connect()
            backend.open()
            self.backend = backend
        return self.backend

    def close_backend(self) -> None:
        if self.backend is not None:
            # A broken connection is dropped anyway.
            with contextlib.suppress(Exception):
                self.backend.close()
            self.backend = None

    # --- the end ------------------------------------------------------------------------------

    def finish(self) -> None:
        """Nobody left: DONE (if still ours), counters recounted from the rows."""
        from hamseda.mail.mailouts import recount_mailout

        with transaction.atomic():
            now = self.clock.now()
            if Mailout.objects.filter(self._mine()).update(
                state=MailoutState.DONE, finished_at=now, heartbeat_at=None
            ):
                recount_mailout(Mailout(pk=self.mailout_id))

    def pause_for_outage(self) -> None:
        reason = getattr(self, "last_outage", "") or "mail server unreachable"
        Mailout.objects.filter(self._mine()).update(
            state=MailoutState.PAUSED,
            heartbeat_at=None,
            last_error=f"Paused: the mail server failed {OUTAGE_LIMIT} times in a row ({reason})"[
                :300
            ],
        )

    def stopped(self) -> None:
        """Stopped by `stop` (pause it), or noticed a pause, a cancel or a takeover
        (clear the heartbeat if it is still ours, so a resume may start at once)."""
        if self.stop.is_set():
            Mailout.objects.filter(self._mine()).update(
                state=MailoutState.PAUSED, heartbeat_at=None
            )
        else:
            Mailout.objects.filter(pk=self.mailout_id, heartbeat_at=self.lease).exclude(
                state=MailoutState.RUNNING
            ).update(heartbeat_at=None)


def _loads(data: bytes) -> Any:
    import json

    return json.loads(data.decode())


def _status_of(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _reply in error.recipients.values()})
        return codes[0] if codes else ""
    return ""


def run(
    mailout_id: int,
    keys: dict[str, nacl.public.PrivateKey],
    *,
    stop: threading.Event | None = None,
    **options: Any,
) -> Mailout:
    """Send a RUNNING mail-out (see the module's docstring). Options: `clock`,
    `batch_size`, `on_progress(mailout)`, `connect()` (the mail backend factory)."""
    return Sender(mailout_id, keys, stop=stop, **options).run()
