"""Bounces: delivery status notifications (RFC 3464) read by `hamseda bounces`, and the
fingerprint-only record of undeliverable addresses (mail.bounces)."""

import mailbox
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hamseda.mail import bounces, compose, mailouts
from hamseda.mail.models import MailoutRecipient, RecipientState, Undeliverable
from tests.mail.test_mailouts import ScriptedBackend, consenting, queued_mailout, send


def dsn(message_id: str, *, action="failed", status="5.1.1", returned="headers") -> bytes:
    """A bounce report as Postfix writes one, quoting the original's headers."""
    original = (
        f"Message-ID: {message_id}\r\n"
        "From: Alliance <noreply@hamseda.invalid>\r\n"
        "To: signer2@example.org\r\n"
        "Subject: We reached the company\r\n"
    )
    if returned == "headers":
        quoted = f"Content-Type: text/rfc822-headers\r\n\r\n{original}"
    else:
        quoted = f"Content-Type: message/rfc822\r\n\r\n{original}\r\nThe body.\r\n"
    return (
        "From: MAILER-DAEMON@relay.example.net\r\n"
        "To: noreply@hamseda.invalid\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@relay.example.net>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "Your message could not be delivered.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; relay.example.net\r\n"
        "\r\n"
        "Final-Recipient: rfc822; signer2@example.org\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <signer2@example.org>: user unknown\r\n"
        "--B\r\n"
        f"{quoted}"
        "--B--\r\n"
    ).encode()


@pytest.fixture
def sent(org, petition):
    """A mail-out sent to two signers; returns (mailout, the second signer's row)."""
    consenting(petition, 1)
    bouncing = consenting(petition, 2)
    mailout = queued_mailout(petition)
    done = send(mailout, org, connect=ScriptedBackend())
    return done, MailoutRecipient.objects.get(signature=bouncing)


@pytest.mark.django_db
def test_a_dsn_marks_the_recipient_bounced_and_the_address_undeliverable(tmp_path, sent):
    mailout, row = sent
    report = tmp_path / "bounce.eml"
    report.write_bytes(dsn(compose.message_id(mailout.pk, row.pk)))
    out = StringIO()
    call_command("bounces", str(report), stdout=out)
    assert "1 message read: 1 bounced" in out.getvalue()

    row.refresh_from_db()
    assert row.state == RecipientState.BOUNCED
    assert row.last_error == "DSN 5.1.1"
    mailout.refresh_from_db()
    assert (mailout.sent, mailout.bounced) == (1, 1)
    assert mailouts.recount_mailout(mailout)["bounced"] == 1
    undeliverable = Undeliverable.objects.get()
    assert undeliverable.email_fingerprint == row.signature.email_fingerprint
    assert undeliverable.status == "5.1.1"
    assert mailouts.count_recipients(mailout.petition) == 1

    # The same report again changes nothing.
    out = StringIO()
    call_command("bounces", str(report), stdout=out)
    assert "1 already known" in out.getvalue()
    assert Undeliverable.objects.get().bounces == 1


@pytest.mark.django_db
def test_it_reads_the_returned_message_mbox_and_maildir(tmp_path, sent):
    mailout, row = sent
    raw = dsn(compose.message_id(mailout.pk, row.pk), returned="message")
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    box.add(mailbox.mboxMessage(raw))
    box.add(mailbox.mboxMessage(dsn("<someone-else@example.net>")))
    box.flush()
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(raw)
    report = bounces.process_paths([tmp_path / "bounces.mbox", tmp_path / "Maildir"])
    assert (report.bounced, report.already, report.foreign, report.errors) == (1, 1, 1, [])
    row.refresh_from_db()
    assert row.state == RecipientState.BOUNCED


@pytest.mark.django_db
def test_it_skips_delays_forged_ids_and_other_mail(tmp_path, sent):
    mailout, row = sent
    good_id = compose.message_id(mailout.pk, row.pk)
    forged = good_id.replace(good_id.split(".")[2].split("@")[0], "0" * 12)
    files = {
        "delayed.eml": dsn(good_id, action="delayed", status="4.4.1"),
        "forged.eml": dsn(forged),
        "plain.eml": b"From: a@example.net\r\nSubject: hello\r\n\r\nJust a mail.\r\n",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    report = bounces.process_paths(tmp_path / name for name in files)
    assert (report.bounced, report.transient, report.foreign, report.not_dsn) == (0, 1, 1, 1)
    row.refresh_from_db()
    assert row.state == RecipientState.SENT
    assert not Undeliverable.objects.exists()


@pytest.mark.django_db
def test_unreadable_input_is_reported_and_the_rest_processed(tmp_path, sent):
    mailout, row = sent
    good = tmp_path / "bounce.eml"
    good.write_bytes(dsn(compose.message_id(mailout.pk, row.pk)))
    (tmp_path / "folder").mkdir()
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 inputs could not be read"):
        call_command(
            "bounces",
            str(tmp_path / "missing.eml"),
            str(tmp_path / "folder"),
            str(good),
            stdout=out,
            stderr=err,
        )
    assert "no such file" in err.getvalue()
    assert "not a Maildir" in err.getvalue()
    assert "1 bounced" in out.getvalue()
    row.refresh_from_db()
    assert row.state == RecipientState.BOUNCED


@pytest.mark.django_db
def test_an_address_that_bounces_again_is_counted(now):
    bounces.mark_undeliverable("f" * 64, "550", now=now)
    bounces.mark_undeliverable("f" * 64, "5.1.1", now=now)
    undeliverable = Undeliverable.objects.get()
    assert (undeliverable.bounces, undeliverable.status) == (2, "5.1.1")
