"""Queueing and delivering e-mail.

`queue_message()` is called inside the caller's transaction: the outbox row and the
delivery task are committed together with whatever caused the mail (a signature), so
a 2xx to the signer means the mail is durably queued. `deliver_message()` runs in the
worker; a failure reschedules it with exponential backoff, so an SMTP outage delays
mail but loses none.
"""

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from hamseda.mail.models import MessageState, OutboundMessage
from hamseda.mail.transport import connection_from_url
from hamseda.vault import crypto

log = logging.getLogger(__name__)

# How long a claimed message is held by the worker sending it.
LEASE = timedelta(minutes=15)


def queue_message(
    *,
    kind: str,
    to: str,
    template: str,
    context: dict,
    language: str,
    now: datetime | None = None,
) -> OutboundMessage:
    """Render a mail in the reader's language and put it, encrypted, in the outbox.

    The template renders the subject on its first line and the body after a blank line.
    """
    from hamseda.mail.tasks import deliver_message  # The task module imports this one.

    now = now or timezone.now()
    with translation.override(language):
        rendered = render_to_string(template, context).strip()
    subject, _, body = rendered.partition("\n\n")
    message = OutboundMessage.objects.create(
        kind=kind,
        locked=crypto.lock(
            {"to": to, "subject": subject.strip(), "body": body.strip() + "\n", "lang": language}
        ),
        created_at=now,
        next_attempt_at=now,
    )
    # Enqueued in the same transaction on purpose (database task backend): the task row
    # commits or rolls back with the message and the signature.
    deliver_message.enqueue(message.pk)
    return message


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 6 hours."""
    base = settings.HAMSEDA["MAIL_RETRY_SECONDS"]
    return timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 6 * 3600))


def describe_failure(error: Exception) -> str:
    """What went wrong with a delivery, fit to keep in plain text next to the message.

    Never the text of an SMTP error: servers quote the recipient's address back
    (`SMTPRecipientsRefused` even holds it as a key), and the outbox must not hold an
    address in plain text (PRIVACY.md rule 3). The class and the SMTP reply codes are
    enough to tell a bounce from an outage.
    """
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _reply in error.recipients.values()})
        return f"{name}: {', '.join(codes)}"[:300]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name}: {error.smtp_code}"
    if isinstance(error, smtplib.SMTPException):
        return name
    if isinstance(error, OSError) and error.strerror:
        # Connection refused, timeouts, DNS: the system's words, no personal data.
        return f"{name}: {error.strerror}"[:300]
    return name


def is_permanent(error: Exception) -> bool:
    """A 5xx refusal (no such mailbox, policy) will not change on retry; 4xx and network
    failures will."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600 and not isinstance(
            error,
            smtplib.SMTPAuthenticationError,  # Our credentials: fixable by us.
        )
    return False


def deliver(message_id: int, *, now: datetime | None = None) -> str:
    """Try to send one queued message. Returns what happened.

    1. Claim the message with a conditional UPDATE: only a queued message that is due
       and whose attempt count is unchanged is taken, and its next attempt is pushed a
       lease ahead. Of two tasks for the same message (a retry and a requeue), one wins.
    2. Send it over the configured transport.
    3. On success wipe the encrypted content and mark it sent; on failure count the
       attempt and schedule another with backoff, or give up after MAIL_MAX_ATTEMPTS
       (or at once on a permanent 5xx refusal) and wipe the content.
    """
    now = now or timezone.now()
    message = OutboundMessage.objects.filter(pk=message_id, state=MessageState.QUEUED).first()
    if message is None:
        return "gone"
    claimed = OutboundMessage.objects.filter(
        pk=message.pk,
        state=MessageState.QUEUED,
        attempts=message.attempts,
        next_attempt_at__lte=now + timedelta(seconds=5),
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return "not-due"
    payload = crypto.unlock(message.locked)
    email = EmailMessage(
        subject=payload["subject"],
        body=payload["body"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[payload["to"]],
        headers={"Content-Language": payload.get("lang", "en")},
    )
    attempts = message.attempts + 1
    try:
        connection_from_url().send_messages([email])
    except Exception as error:  # noqa: BLE001 - any transport failure means "retry later".
        log.warning("mail %s attempt %s failed: %s", message.pk, attempts, type(error).__name__)
        failure = {"attempts": attempts, "last_error": describe_failure(error)}
        if attempts >= settings.HAMSEDA["MAIL_MAX_ATTEMPTS"] or is_permanent(error):
            OutboundMessage.objects.filter(pk=message.pk).update(
                state=MessageState.FAILED, locked=b"", **failure
            )
            return MessageState.FAILED
        from hamseda.mail.tasks import deliver_message

        retry_at = now + retry_delay(attempts)
        with transaction.atomic():
            OutboundMessage.objects.filter(pk=message.pk).update(
                next_attempt_at=retry_at, **failure
            )
            deliver_message.using(run_after=retry_at).enqueue(message.pk)
        return "retry"
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=MessageState.SENT, sent_at=now, locked=b"", attempts=attempts, last_error=""
    )
    return MessageState.SENT


def requeue_stranded(*, now: datetime | None = None, grace: timedelta = timedelta(minutes=10)):
    """Re-enqueue queued messages whose delivery task was lost (e.g. pruned or crashed).

    Run by the worker periodically; `deliver()` claims messages, so an extra task for a
    message that still has one sends it only once.
    """
    from hamseda.mail.tasks import deliver_message

    now = now or timezone.now()
    stranded = list(
        OutboundMessage.objects.filter(
            state=MessageState.QUEUED, next_attempt_at__lt=now - grace
        ).values_list("pk", flat=True)[:1000]
    )
    for message_id in stranded:
        with transaction.atomic():
            OutboundMessage.objects.filter(pk=message_id).update(next_attempt_at=now)
            deliver_message.enqueue(message_id)
    return len(stranded)
