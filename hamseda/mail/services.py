"""Queueing and delivering e-mail. The outbox table is the queue.

`queue_message()` is called inside the caller's transaction: the outbox row commits
with whatever caused the mail (a signature), so a 2xx to the signer means the mail is
durably queued. It stores only what the mail needs, encrypted; the mail is rendered at
delivery, off the signer's request.

The worker (`hamseda worker`) runs `deliver_due()` in a loop: it claims due messages
with a conditional UPDATE (healthchecks' pattern), sends them, and on failure sets the
next attempt with exponential backoff. An SMTP outage delays mail but loses none; a
worker that dies mid-send leaves a lease that expires, and the message is tried again.
"""

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
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
    html_template: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboundMessage:
    """Put a mail, encrypted, in the outbox; it is rendered when it is delivered.

    `context` holds plain JSON values; a `petition_id` in it is loaded as `petition`
    for the template. The template renders the subject on its first line and the body
    after a blank line. An `html_template`, rendered with the same context, adds an
    HTML alternative; `headers` are added to the mail as they are.
    """
    now = now or timezone.now()
    payload = {"to": to, "template": template, "context": context, "lang": language}
    if html_template:
        payload["html_template"] = html_template
    if headers:
        payload["headers"] = headers
    return OutboundMessage.objects.create(
        kind=kind,
        locked=crypto.lock(payload),
        created_at=now,
        next_attempt_at=now,
    )


def render(payload: dict) -> tuple[str, str]:
    """(subject, body) of a queued mail, in its reader's language."""
    from hamseda.petitions.models import Petition

    context = dict(payload["context"])
    if "petition_id" in context:
        context["petition"] = Petition.objects.prefetch_related("translations").get(
            pk=context["petition_id"]
        )
    with translation.override(payload["lang"]):
        rendered = render_to_string(payload["template"], context).strip()
    subject, _, body = rendered.partition("\n\n")
    return subject.strip(), body.strip() + "\n"


def render_html(payload: dict) -> str | None:
    """The HTML alternative of a queued mail, if it has one."""
    if not payload.get("html_template"):
        return None
    with translation.override(payload["lang"]):
        return render_to_string(payload["html_template"], payload["context"])


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
       lease ahead. Of two workers reaching for the same message, one wins.
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
    subject, body = render(payload)
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[payload["to"]],
        headers={"Content-Language": payload.get("lang", "en"), **payload.get("headers", {})},
    )
    html = render_html(payload)
    if html:
        email.attach_alternative(html, "text/html")
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
        OutboundMessage.objects.filter(pk=message.pk).update(
            next_attempt_at=now + retry_delay(attempts), **failure
        )
        return "retry"
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=MessageState.SENT, sent_at=now, locked=b"", attempts=attempts, last_error=""
    )
    return MessageState.SENT


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Deliver the messages that are due, oldest first. Returns how many were sent."""
    now = now or timezone.now()
    due = list(
        OutboundMessage.objects.filter(state=MessageState.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(message_id, now=now) == MessageState.SENT for message_id in due)
