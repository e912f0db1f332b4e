"""Delivery to a real SMTP server on loopback: the whole sign → mail → confirm flow,
outages and retries, giving up, wiping, racing deliveries and stranded messages."""

import email
import email.policy
import logging
import smtplib
import socket
import threading
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from hamseda.mail import services as mail
from hamseda.mail.models import MessageState, OutboundMessage
from hamseda.mail.transport import BadEmailUrl, connection_from_url
from hamseda.petitions import services
from tests.conftest import SIGN_FORM, make_org, make_petition, run_tasks, signer

FORM = {**SIGN_FORM, "reason": ""}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Collector:
    """An aiosmtpd handler that keeps every message it accepts, and can refuse
    recipients to play a mail server that bounces."""

    def __init__(self):
        self.received: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_recipients = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """A mail server on a fixed loopback port that can be stopped and started again."""

    def __init__(self):
        self.port = free_port()
        self.handler = Collector()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self):
        return self.handler.received

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(settings, caplog):
    caplog.set_level(logging.WARNING, logger="mail.log")  # aiosmtpd chatters at INFO.
    server = SmtpServer()
    server.start()
    settings.EMAIL_URL = server.url
    yield server
    server.stop()


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message) -> str:
    return next(line for line in body_of(message).splitlines() if "/confirm/" in line).strip()


def queued_message() -> OutboundMessage:
    return OutboundMessage.objects.get()


# --- the whole flow -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signer_gets_the_mail_over_smtp_and_the_link_counts(client, petition, smtp):
    response = client.post(reverse("petitions:sign", args=[petition.slug]), FORM)
    assert response.status_code == 200
    assert smtp.received == []  # Queued with the signature, sent by the worker.

    assert run_tasks() == 1
    assert len(smtp.received) == 1
    message = smtp.received[0]
    assert smtp.handler.envelopes[0][1] == ["maryam@example.org"]
    assert message["To"] == "maryam@example.org"
    assert message["Content-Language"] == "en"
    assert "Please confirm your signature" in message["Subject"]
    assert "Hello Maryam," in body_of(message)
    # Delivered means wiped from the outbox.
    outbound = queued_message()
    assert outbound.state == MessageState.SENT
    assert bytes(outbound.locked) == b""
    assert outbound.attempts == 1

    response = client.get(link_in(message).removeprefix("http://testserver"))
    assert response.status_code == 200
    assert "your signature is confirmed" in response.text
    petition.refresh_from_db()
    assert petition.signature_count == 1


@pytest.mark.django_db
def test_a_dari_signer_gets_a_dari_mail_with_a_dari_link(client, petition, smtp):
    response = client.post("/fa" + reverse("petitions:sign", args=[petition.slug]), FORM)
    assert response.status_code == 200
    run_tasks()

    message = smtp.received[0]
    assert message["Content-Language"] == "fa"
    link = link_in(message)
    assert link.startswith(f"http://testserver/fa/p/{petition.slug}/confirm/")
    assert client.get(link.removeprefix("http://testserver")).status_code == 200
    petition.refresh_from_db()
    assert petition.signature_count == 1


@pytest.mark.django_db(transaction=True)
def test_the_workers_mail_loop_delivers_the_mail(client, smtp, monkeypatch):
    import threading as threads

    from hamseda import runtime

    petition = make_petition(make_org().organization)
    client.post(reverse("petitions:sign", args=[petition.slug]), FORM)
    stop = threads.Event()
    original = mail.deliver_due

    def deliver_then_stop(**kwargs):
        sent = original(**kwargs)
        if sent:
            stop.set()
        return sent

    monkeypatch.setattr(mail, "deliver_due", deliver_then_stop)
    loop = threads.Thread(target=runtime._mail_loop, args=(stop,))
    loop.start()
    loop.join(timeout=60)
    stop.set()

    assert len(smtp.received) == 1
    assert queued_message().state == MessageState.SENT


# --- outages, retries, giving up ---------------------------------------------------------


@pytest.mark.django_db
def test_an_smtp_outage_delays_the_mail_but_loses_nothing(petition, smtp):
    services.sign_petition(petition, signer(1))
    smtp.stop()
    run_tasks()

    outbound = queued_message()
    assert outbound.state == MessageState.QUEUED
    assert outbound.attempts == 1
    assert bytes(outbound.locked) != b""  # Still there to be sent.
    assert outbound.next_attempt_at > timezone.now()
    assert run_tasks() == 0  # Not due yet: the worker leaves it alone.

    smtp.start()
    later = outbound.next_attempt_at + timedelta(seconds=1)
    assert mail.deliver_due(now=later) == 1
    assert mail.deliver_due(now=later) == 0  # Nothing left to do.

    assert len(smtp.received) == 1
    assert smtp.handler.envelopes[0][1] == ["signer1@example.org"]
    outbound.refresh_from_db()
    assert outbound.state == MessageState.SENT
    assert outbound.attempts == 2
    assert bytes(outbound.locked) == b""


@pytest.mark.django_db
def test_retries_back_off_and_give_up_after_the_last_attempt(petition, smtp, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "MAIL_MAX_ATTEMPTS": 4}
    services.sign_petition(petition, signer(1))
    smtp.stop()
    message_id = queued_message().pk

    outcomes, delays, when = [], [], timezone.now()
    for _ in range(4):
        outcomes.append(mail.deliver(message_id, now=when))
        outbound = queued_message()
        delays.append(outbound.next_attempt_at - when)
        when = outbound.next_attempt_at + timedelta(seconds=1)

    assert outcomes == ["retry", "retry", "retry", MessageState.FAILED]
    assert delays[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    outbound = queued_message()
    assert outbound.state == MessageState.FAILED
    assert outbound.attempts == 4
    assert bytes(outbound.locked) == b""  # Given up: the address is wiped too.
    assert outbound.last_error == "ConnectionRefusedError: Connection refused"
    smtp.start()
    assert mail.deliver(message_id, now=when + timedelta(days=1)) == "gone"
    assert smtp.received == []


@pytest.mark.django_db
def test_a_bounce_does_not_write_the_address_into_the_outbox(petition, smtp):
    smtp.handler.refuse_recipients = True
    services.sign_petition(petition, signer(1, email="bounce-8812@example.org"))

    run_tasks()

    outbound = queued_message()
    assert outbound.attempts == 1
    assert outbound.last_error == "SMTPRecipientsRefused: 550"
    assert "bounce-8812" not in outbound.last_error


@pytest.mark.django_db
def test_a_permanent_refusal_is_not_retried_and_its_content_is_wiped(petition, smtp):
    smtp.handler.refuse_recipients = True  # 550: no such mailbox.
    services.sign_petition(petition, signer(1, email="bounce-8812@example.org"))

    run_tasks()

    outbound = queued_message()
    assert outbound.state == MessageState.FAILED
    assert bytes(outbound.locked) == b""
    assert mail.deliver_due(now=timezone.now() + timedelta(days=1)) == 0


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"unknown")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (451, b"try later")}), False),
        (smtplib.SMTPDataError(554, b"rejected"), True),
        (smtplib.SMTPDataError(421, b"busy"), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
    ],
)
def test_only_a_5xx_refusal_is_permanent(error, permanent):
    assert mail.is_permanent(error) is permanent


@pytest.mark.parametrize(
    ("error", "described"),
    [
        (
            smtplib.SMTPRecipientsRefused({"needle-1@example.org": (550, b"needle-1 unknown")}),
            "SMTPRecipientsRefused: 550",
        ),
        (smtplib.SMTPDataError(554, b"needle-1@example.org rejected"), "SMTPDataError: 554"),
        (smtplib.SMTPServerDisconnected("needle-1@example.org"), "SMTPServerDisconnected"),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "ConnectionRefusedError: Connection refused",
        ),
        (TimeoutError("timed out"), "TimeoutError"),
        (UnicodeEncodeError("ascii", "needle-1", 0, 1, "needle-1"), "UnicodeEncodeError"),
    ],
)
def test_a_failure_is_described_without_what_the_server_said(error, described):
    assert mail.describe_failure(error) == described


def test_the_retry_delay_doubles_and_is_capped(settings):
    assert mail.retry_delay(1) == timedelta(seconds=30)
    assert mail.retry_delay(2) == timedelta(seconds=60)
    assert mail.retry_delay(5) == timedelta(seconds=480)
    assert mail.retry_delay(40) == timedelta(hours=6)


# --- exactly once ------------------------------------------------------------------------


@pytest.mark.django_db
def test_delivering_a_message_twice_sends_it_once(petition, smtp):
    services.sign_petition(petition, signer(1))
    message_id = queued_message().pk

    assert mail.deliver(message_id) == MessageState.SENT
    assert mail.deliver(message_id) == "gone"
    assert len(smtp.received) == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_deliveries_of_one_message_send_it_once(smtp):
    petition = make_petition(make_org().organization)
    services.sign_petition(petition, signer(1))
    message_id = queued_message().pk
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def deliver():
        try:
            barrier.wait(timeout=30)
            outcomes.append(mail.deliver(message_id))
        except Exception as error:  # noqa: BLE001 - reported below.
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Counter(outcomes)[MessageState.SENT] == 1
    assert set(outcomes) <= {MessageState.SENT, "gone", "not-due"}
    assert len(smtp.received) == 1


@pytest.mark.django_db
def test_a_message_held_by_a_worker_that_died_is_sent_after_its_lease(petition, smtp):
    services.sign_petition(petition, signer(1))
    message = queued_message()
    now = timezone.now()
    # A worker claimed it, then died before sending: the lease is all that is left.
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=now + mail.LEASE)

    assert mail.deliver_due(now=now) == 0
    assert mail.deliver_due(now=now + mail.LEASE + timedelta(seconds=1)) == 1
    assert len(smtp.received) == 1


@pytest.mark.django_db
def test_mail_is_delivered_oldest_first_and_in_bounded_rounds(petition, smtp):
    start = timezone.now() - timedelta(minutes=5)
    for number in range(5):
        services.sign_petition(petition, signer(number), now=start + timedelta(seconds=number))

    assert mail.deliver_due(limit=2) == 2
    assert [m["To"] for m in smtp.received] == ["signer0@example.org", "signer1@example.org"]
    assert mail.deliver_due() == 3


@pytest.mark.django_db
def test_the_mail_is_rendered_in_the_signers_language_at_delivery(petition, smtp):
    services.sign_petition(petition, signer(1, language="fa"))
    assert b"Maryam" not in bytes(queued_message().locked)  # Encrypted, not rendered text.

    run_tasks()

    assert "حساب‌ها را مسدود کنید" in smtp.received[0]["Subject"]


# --- transport URLs ----------------------------------------------------------------------


def test_smtp_url_with_credentials_and_starttls():
    backend = connection_from_url("smtp://hamseda:p%40ss%2Fword@mail.example.org:2525?starttls=1")
    assert type(backend).__module__ == "django.core.mail.backends.smtp"
    assert (backend.host, backend.port) == ("mail.example.org", 2525)
    assert (backend.username, backend.password) == ("hamseda", "p@ss/word")
    assert backend.use_tls is True
    assert backend.use_ssl is False
    assert backend.timeout == 20
    assert backend.fail_silently is False


def test_plain_smtp_url_defaults_to_port_25_without_tls():
    backend = connection_from_url("smtp://relay.example.org")
    assert (backend.host, backend.port) == ("relay.example.org", 25)
    assert (backend.use_tls, backend.use_ssl) == (False, False)
    assert (backend.username, backend.password) == ("", "")


def test_smtps_url_uses_tls_on_port_465():
    backend = connection_from_url("smtps://user:secret@mail.example.org")
    assert (backend.host, backend.port) == ("mail.example.org", 465)
    assert (backend.use_ssl, backend.use_tls) == (True, False)


def test_file_url_writes_messages_into_a_folder(tmp_path):
    mailbox = tmp_path / "mail box"
    backend = connection_from_url(mailbox.as_uri())
    assert type(backend).__module__ == "django.core.mail.backends.filebased"
    assert backend.file_path == str(mailbox)


def test_the_configured_url_is_used_by_default(settings, tmp_path):
    settings.EMAIL_URL = tmp_path.as_uri()
    assert connection_from_url().file_path == str(tmp_path)


@pytest.mark.parametrize("url", ["http://mail.example.org", "ftp://x", "mail.example.org:25", ""])
def test_an_unsupported_url_is_refused(settings, url):
    settings.EMAIL_URL = "unsupported://"  # So that "" does not fall back to a good one.
    with pytest.raises(BadEmailUrl, match="not supported"):
        connection_from_url(url)
