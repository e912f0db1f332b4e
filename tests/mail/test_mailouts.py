"""Mail-outs (mail.mailouts): choosing recipients, queueing, keys, starting, sending
with pauses, unsubscribes, withdrawals, bounces, retries and outages, and what the
messages look like."""

import smtplib
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hamseda.integrity.models import AuditEvent
from hamseda.mail import compose, mailouts, sending
from hamseda.mail.mailouts import Segment
from hamseda.mail.models import (
    Mailout,
    MailoutRecipient,
    MailoutState,
    OutboundMessage,
    RecipientState,
    Undeliverable,
)
from hamseda.orgs.sealing_keys import key_file_text
from hamseda.petitions import services, updates, withdrawal
from hamseda.petitions.models import DecisionMaker, Signature, SignatureState
from hamseda.petitions.responses import hide_response, record_response
from hamseda.vault import crypto
from tests.conftest import make_org, make_petition, run_tasks, signer

# --- helpers, also used by the other mail-out tests ---------------------------------------------


def consenting(petition, number: int, **overrides):
    """A confirmed signer who asked to be kept updated; returns the Signature."""
    values = {"keep_updated": True, "language": "en", **overrides}
    services.record_confirmed_signature(petition, signer(number, **values))
    return Signature.objects.get(
        email_fingerprint=crypto.email_fingerprint(f"signer{number}@example.org"),
        petition=petition,
    )


def published_update(petition, *, texts=None):
    update = updates.save_update(
        petition,
        texts=texts
        or {
            "en": {"title": "We reached the company", "body": "They **read** it."},
            "fa": {"title": "به شرکت رسیدیم", "body": "آنها **خواندند**."},
        },
    )
    return updates.publish_update(update)


def keys_of(org) -> dict:
    return mailouts.read_keys([org.secret_key])


def queued_mailout(petition, segment=None, update=None):
    mailout = mailouts.create_mailout(
        petition, update=update or published_update(petition), segment=segment or Segment()
    )
    mailouts.queue_mailout(mailout)
    mailout.refresh_from_db()
    return mailout


class FakeClock(sending.Clock):
    """Time that passes only when the sender sleeps."""

    def __init__(self):
        self.base = timezone.now()
        self.elapsed = 0.0

    def now(self):
        return self.base + timedelta(seconds=self.elapsed)

    def monotonic(self):
        return self.elapsed

    def sleep(self, seconds):
        self.elapsed += seconds


class ScriptedBackend:
    """A mail backend that answers each address as told: "ok", a raised error, or a
    callable run before accepting (to act mid-run)."""

    def __init__(self, answers=None, default="ok"):
        self.answers = answers or {}
        self.default = default
        self.sent: list = []
        self.attempts: list[str] = []

    def __call__(self):  # The sender's `connect()`.
        return self

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        for message in messages:
            address = message.to[0]
            self.attempts.append(address)
            answer = self.answers.get(address, self.default)
            if callable(answer) and not isinstance(answer, type):
                answer = answer()
            if isinstance(answer, Exception):
                raise answer
            self.sent.append(message)
        return len(messages)


def send(mailout, org, **options):
    started = mailouts.start_mailout(mailout, keys_of(org), via="cli")
    return mailouts.run_mailout(started.pk, keys_of(org), clock=FakeClock(), **options)


def address_of(message) -> str:
    return message.to[0]


# --- choosing recipients --------------------------------------------------------------------


@pytest.mark.django_db
def test_it_selects_confirmed_consenting_signers_in_the_segment(petition):
    jan = datetime(2026, 1, 10, 12, tzinfo=UTC)
    feb = datetime(2026, 2, 10, 12, tzinfo=UTC)
    af_fa = consenting(petition, 1, country="AF", language="fa")
    se_en = consenting(petition, 2, country="SE", language="en")
    Signature.objects.filter(pk=af_fa.pk).update(created_at=jan)
    Signature.objects.filter(pk=se_en.pk).update(created_at=feb)
    # No consent, pending and invalidated signers are never chosen.
    services.record_confirmed_signature(petition, signer(3, keep_updated=False))
    services.sign_petition(petition, signer(4, keep_updated=True))
    invalid = consenting(petition, 5)
    Signature.objects.filter(pk=invalid.pk).update(state=SignatureState.INVALIDATED)

    def chosen(**segment):
        return set(mailouts.recipients(petition, Segment(**segment)).values_list("pk", flat=True))

    assert chosen() == {af_fa.pk, se_en.pk}
    assert chosen(countries=("af",)) == {af_fa.pk}
    assert chosen(languages=("en",)) == {se_en.pk}
    assert chosen(languages=("ps",)) == set()
    assert chosen(signed_from=date(2026, 2, 1)) == {se_en.pk}
    assert chosen(signed_until=date(2026, 1, 10)) == {af_fa.pk}  # Inclusive.
    assert chosen(signed_from=date(2026, 1, 10), signed_until=date(2026, 2, 10)) == {
        af_fa.pk,
        se_en.pk,
    }
    assert mailouts.count_recipients(petition, Segment(countries=("SE", "AF"))) == 2


@pytest.mark.django_db
def test_it_leaves_out_undeliverable_addresses(petition, now):
    bouncing = consenting(petition, 1)
    consenting(petition, 2)
    Undeliverable.objects.create(
        email_fingerprint=bouncing.email_fingerprint, first_bounced_at=now, last_bounced_at=now
    )
    assert mailouts.count_recipients(petition) == 1


@pytest.mark.django_db
def test_it_reads_signatures_without_a_language_as_the_petitions_language(petition):
    old = consenting(petition, 1)
    Signature.objects.filter(pk=old.pk).update(language="")
    assert mailouts.count_recipients(petition, Segment(languages=("en",))) == 1
    assert mailouts.count_recipients(petition, Segment(languages=("fa",))) == 0


def test_it_keeps_a_segment_as_json_and_describes_it():
    segment = Segment(
        countries=("se", "AF"),
        languages=("fa",),
        signed_from=date(2026, 1, 1),
        signed_until=date(2026, 2, 1),
    )
    assert segment.as_json() == {
        "countries": ["AF", "SE"],
        "languages": ["fa"],
        "signed_from": "2026-01-01",
        "signed_until": "2026-02-01",
    }
    assert Segment.from_json(segment.as_json()) == segment
    assert Segment.from_json({}) == Segment()
    assert "AF, SE" in segment.describe()
    assert "2026-01-01" in segment.describe()
    assert Segment().describe() == "Every signer who asked to be kept updated"


@pytest.mark.parametrize(
    "segment",
    [
        Segment(countries=("Afghanistan",)),
        Segment(languages=("de",)),
        Segment(signed_from=date(2026, 2, 1), signed_until=date(2026, 1, 1)),
    ],
)
@pytest.mark.django_db
def test_it_refuses_a_segment_that_makes_no_sense(petition, segment):
    with pytest.raises(mailouts.MailoutError):
        mailouts.create_mailout(petition, update=published_update(petition), segment=segment)


# --- creating and queueing ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_to_mail_a_draft_update_or_another_petitions(org, petition):
    draft = updates.save_update(petition, texts={"en": {"title": "Draft", "body": "Not yet"}})
    with pytest.raises(mailouts.MailoutError, match="published update"):
        mailouts.create_mailout(petition, update=draft)
    other = make_petition(org.organization, "other-petition")
    with pytest.raises(mailouts.MailoutError):
        mailouts.create_mailout(other, update=published_update(petition))
    with pytest.raises(mailouts.MailoutError):
        mailouts.create_mailout(petition)


@pytest.mark.django_db
def test_it_mails_a_visible_response_but_not_a_hidden_one(org, petition):
    target = DecisionMaker.objects.create(organization=org.organization, name="ExampleSocial")
    petition.targets.add(target)
    response = record_response(
        petition,
        decision_maker=target,
        body="We will review the accounts.",
        language="en",
        responded_on=date(2026, 3, 1),
    )
    assert mailouts.create_mailout(petition, response=response).state == MailoutState.DRAFT
    hide_response(response)
    with pytest.raises(mailouts.MailoutError):
        mailouts.create_mailout(petition, response=response)


@pytest.mark.django_db
def test_it_queues_each_consenting_signer_once(petition):
    for number in range(5):
        consenting(petition, number)
    services.record_confirmed_signature(petition, signer(9, keep_updated=False))
    mailout = mailouts.create_mailout(petition, update=published_update(petition))

    assert mailouts.queue_mailout(mailout) == 5
    with pytest.raises(mailouts.NotAllowed):
        mailouts.queue_mailout(mailout)

    mailout.refresh_from_db()
    assert mailout.state == MailoutState.QUEUED
    assert mailout.total == 5
    assert MailoutRecipient.objects.filter(mailout=mailout).count() == 5
    assert set(MailoutRecipient.objects.values_list("state", flat=True)) == {"queued"}


@pytest.mark.django_db
def test_it_refuses_a_mailout_nobody_consented_to(petition):
    services.record_confirmed_signature(petition, signer(1, keep_updated=False))
    mailout = mailouts.create_mailout(petition, update=published_update(petition))
    with pytest.raises(mailouts.NothingToSend, match="nothing to send"):
        mailouts.queue_mailout(mailout)
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.DRAFT
    assert not MailoutRecipient.objects.exists()


# --- keys ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reads_key_files_and_bare_keys(org):
    key_id = crypto.key_id(org.organization.public_key)
    text = key_file_text("alliance", key_id, org.secret_key)
    assert set(mailouts.read_keys([text])) == {key_id}
    assert set(mailouts.read_keys([text.encode()])) == {key_id}
    assert set(mailouts.read_keys([org.secret_key])) == {key_id}
    for garbage in ["", "# only a comment\n", "not base64 !!", "a\nb\n", b"\xff\xfe", "A" * 5000]:
        with pytest.raises(mailouts.WrongKey, match="not a Hamseda secret key"):
            mailouts.read_keys([garbage])
    with pytest.raises(mailouts.WrongKey):
        mailouts.read_keys([])


@pytest.mark.django_db
def test_it_refuses_another_organisations_key(petition):
    consenting(petition, 1)
    mailout = queued_mailout(petition)
    stranger = make_org("stranger")
    with pytest.raises(mailouts.WrongKey, match="does not belong to Alliance"):
        mailouts.start_mailout(mailout, keys_of(stranger))
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.QUEUED


@pytest.mark.django_db
def test_it_asks_for_the_old_key_after_a_rotation(org, petition):
    from hamseda.orgs import services as org_services

    consenting(petition, 1)
    old_id = crypto.key_id(org.organization.public_key)
    public_key, secret_key = crypto.generate_keypair()
    org_services.adopt_public_key(org.organization, public_key)
    petition.refresh_from_db()
    consenting(petition, 2)
    mailout = queued_mailout(petition)

    with pytest.raises(mailouts.WrongKey, match=old_id):
        mailouts.start_mailout(mailout, mailouts.read_keys([secret_key]))
    started = mailouts.start_mailout(mailout, mailouts.read_keys([secret_key, org.secret_key]))
    assert started.state == MailoutState.RUNNING


# --- starting, pausing, cancelling ---------------------------------------------------------


@pytest.mark.django_db
def test_it_starts_once_and_records_it_in_the_audit_log(org, petition):
    consenting(petition, 1)
    mailout = queued_mailout(petition)
    started = mailouts.start_mailout(mailout, keys_of(org), via="cli")
    assert started.state == MailoutState.RUNNING
    assert started.heartbeat_at is not None
    with pytest.raises(mailouts.AlreadyRunning):
        mailouts.start_mailout(mailout, keys_of(org))
    event = AuditEvent.objects.get(action="mailout")
    assert event.details["mailout"] == mailout.pk
    assert event.details["recipients"] == 1
    assert event.details["via"] == "cli"
    assert "example.org" not in str(event.details)


@pytest.mark.django_db
def test_it_sends_one_mailout_of_an_organisation_at_a_time(org, petition):
    consenting(petition, 1)
    first = queued_mailout(petition)
    second = queued_mailout(petition)
    mailouts.start_mailout(first, keys_of(org))
    with pytest.raises(mailouts.AlreadyRunning, match="Another mail-out"):
        mailouts.start_mailout(second, keys_of(org))


@pytest.mark.django_db
def test_it_refuses_to_start_a_draft_a_finished_or_a_cancelled_mailout(org, petition):
    consenting(petition, 1)
    draft = mailouts.create_mailout(petition, update=published_update(petition))
    with pytest.raises(mailouts.NotAllowed, match="queue it first"):
        mailouts.start_mailout(draft, keys_of(org))
    cancelled = mailouts.cancel_mailout(queued_mailout(petition))
    assert cancelled.state == MailoutState.CANCELLED
    with pytest.raises(mailouts.NotAllowed):
        mailouts.start_mailout(cancelled, keys_of(org))
    with pytest.raises(mailouts.NotAllowed):
        mailouts.pause_mailout(cancelled)


@pytest.mark.django_db
def test_an_interrupted_mailout_can_be_resumed(org, petition):
    consenting(petition, 1)
    mailout = queued_mailout(petition)
    started = mailouts.start_mailout(mailout, keys_of(org))
    assert not mailouts.is_interrupted(started)
    later = timezone.now() + mailouts.STALE_AFTER + timedelta(seconds=1)
    assert mailouts.is_interrupted(started, now=later)
    assert mailouts.progress(started, now=later)["interrupted"] is True
    # The sender died with a message claimed: it goes back in the queue on resume.
    MailoutRecipient.objects.update(state=RecipientState.SENDING, claimed_at=timezone.now())
    resumed = mailouts.start_mailout(started, keys_of(org), now=later)
    assert resumed.state == MailoutState.RUNNING
    assert MailoutRecipient.objects.get().state == RecipientState.QUEUED


@pytest.mark.django_db
def test_it_cannot_cancel_a_running_mailout_before_pausing_it(org, petition):
    consenting(petition, 1)
    mailout = mailouts.start_mailout(queued_mailout(petition), keys_of(org))
    with pytest.raises(mailouts.NotAllowed, match="Pause"):
        mailouts.cancel_mailout(mailout)
    paused = mailouts.pause_mailout(mailout)
    assert paused.state == MailoutState.PAUSED
    assert mailouts.cancel_mailout(paused).state == MailoutState.CANCELLED


# --- sending --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_each_signer_one_message_in_their_language(org, petition, outbox):
    english = consenting(petition, 1, language="en")
    dari = consenting(petition, 2, language="fa")
    pashto = consenting(petition, 3, language="ps")
    mailout = queued_mailout(petition)

    done = send(mailout, org)

    assert done.state == MailoutState.DONE
    assert done.finished_at is not None
    assert (done.total, done.sent, done.bounced, done.failed, done.skipped) == (3, 3, 0, 0, 0)
    assert sorted(address_of(m) for m in outbox) == [
        "signer1@example.org",
        "signer2@example.org",
        "signer3@example.org",
    ]
    by_address = {address_of(m): m for m in outbox}
    en, fa, ps = (by_address[f"signer{n}@example.org"] for n in (1, 2, 3))
    assert en.subject == "We reached the company"
    assert fa.subject == "به شرکت رسیدیم"
    # No Pashto text: the petition's language, inside a Pashto, right-to-left frame.
    assert ps.subject == "We reached the company"
    for message, language in ((en, "en"), (fa, "fa"), (ps, "ps")):
        headers = message.extra_headers
        assert headers["Content-Language"] == language
        assert headers["List-Unsubscribe"].startswith("<http://testserver/")
        assert "/unsubscribe/" in headers["List-Unsubscribe"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Precedence"] == "bulk"
        assert headers["From"] == "Alliance <noreply@hamseda.invalid>"
        assert headers["Message-ID"].startswith(f"<mailout-{mailout.pk}.")
        html, mime = message.alternatives[0]
        assert mime == "text/html"
        assert "<img" not in html
        assert "/withdraw/" in message.body
        assert "/privacy/erase/" in message.body
    assert '<html lang="en" dir="ltr">' in en.alternatives[0][0]
    assert '<html lang="fa" dir="rtl">' in fa.alternatives[0][0]
    assert '<html lang="ps" dir="rtl">' in ps.alternatives[0][0]
    assert "<strong>read</strong>" in en.alternatives[0][0]
    assert "They **read** it." in en.body
    assert "/fa/unsubscribe/" in fa.extra_headers["List-Unsubscribe"]
    assert "/ps/unsubscribe/" in ps.extra_headers["List-Unsubscribe"]
    ids = {m.extra_headers["Message-ID"] for m in outbox}
    assert len(ids) == 3
    assert set(MailoutRecipient.objects.values_list("state", flat=True)) == {"sent"}
    for signature in (english, dari, pashto):
        assert MailoutRecipient.objects.get(signature=signature).sent_at is not None


@pytest.mark.django_db
def test_it_mails_a_response_with_its_own_subject(org, petition, outbox):
    consenting(petition, 1)
    target = DecisionMaker.objects.create(organization=org.organization, name="ExampleSocial")
    petition.targets.add(target)
    response = record_response(
        petition,
        decision_maker=target,
        body="We will review the accounts.",
        language="en",
        responded_on=date(2026, 3, 1),
    )
    mailout = mailouts.create_mailout(petition, response=response)
    mailouts.queue_mailout(mailout)
    send(mailout, org)
    [message] = outbox
    assert message.subject == "Response from ExampleSocial: Suspend the accounts"
    assert "We will review the accounts." in message.body


@pytest.mark.django_db
def test_the_message_id_is_the_same_every_time_it_is_built(petition):
    first = compose.message_id(7, 42)
    assert first == compose.message_id(7, 42)
    assert first != compose.message_id(7, 43)
    assert first.endswith("@hamseda.invalid>")


@pytest.mark.django_db
def test_pause_and_resume_send_nobody_twice(org, petition):
    for number in range(10):
        consenting(petition, number)
    mailout = queued_mailout(petition)
    backend = ScriptedBackend()

    def pause_after_four(progress_mailout=None):
        if len(backend.sent) == 4:
            mailouts.pause_mailout(mailout)
        return "ok"

    backend.default = pause_after_four
    paused = send(mailout, org, connect=backend, batch_size=3)
    assert paused.state == MailoutState.PAUSED
    assert paused.heartbeat_at is None  # The sender has stopped.
    # Graceful: the message in flight was finished, the rest of its batch put back.
    assert len(backend.sent) == 5
    assert paused.sent == 5
    assert not MailoutRecipient.objects.filter(state=RecipientState.SENDING).exists()

    backend.default = "ok"
    done = send(paused, org, connect=backend)
    assert done.state == MailoutState.DONE
    addresses = [address_of(m) for m in backend.sent]
    assert len(addresses) == len(set(addresses)) == 10
    assert done.sent == 10


@pytest.mark.django_db
def test_a_stop_request_pauses_the_mailout(org, petition):
    for number in range(4):
        consenting(petition, number)
    mailout = queued_mailout(petition)
    stop = threading.Event()
    backend = ScriptedBackend()
    backend.default = lambda: stop.set() or "ok"
    paused = send(mailout, org, connect=backend, stop=stop)
    assert paused.state == MailoutState.PAUSED
    assert len(backend.sent) == 1
    assert paused.heartbeat_at is None


@pytest.mark.django_db
def test_a_signer_who_unsubscribes_or_withdraws_mid_run_is_skipped(org, petition):
    from hamseda.mail.unsubscribe import unsubscribe, unsubscribe_token

    signatures = [consenting(petition, number) for number in range(4)]
    mailout = queued_mailout(petition)

    def meanwhile():
        # While the first message is sent, signer 1 unsubscribes and signer 2 withdraws.
        unsubscribe(unsubscribe_token(petition.pk, signatures[1].pk))
        withdrawal.withdraw_signature(
            petition, withdrawal.withdraw_token(petition.pk, signatures[2].pk)
        )
        return "ok"

    backend = ScriptedBackend({"signer0@example.org": meanwhile})
    done = send(mailout, org, connect=backend)
    assert sorted(address_of(m) for m in backend.sent) == [
        "signer0@example.org",
        "signer3@example.org",
    ]
    assert (done.sent, done.skipped) == (2, 2)
    assert MailoutRecipient.objects.filter(signature__isnull=True).get().state == "skipped"


@pytest.mark.django_db
def test_a_refused_address_bounces_and_is_kept_only_as_a_fingerprint(org, petition):
    consenting(petition, 1)
    bouncing = consenting(petition, 2)
    mailout = queued_mailout(petition)
    refused = smtplib.SMTPRecipientsRefused(
        {"signer2@example.org": (550, b"5.1.1 <signer2@example.org>: no such user")}
    )
    done = send(mailout, org, connect=ScriptedBackend({"signer2@example.org": refused}))

    assert (done.sent, done.bounced) == (1, 1)
    row = MailoutRecipient.objects.get(signature=bouncing)
    assert row.state == RecipientState.BOUNCED
    assert row.last_error == "SMTPRecipientsRefused: 550"
    undeliverable = Undeliverable.objects.get()
    assert undeliverable.email_fingerprint == bouncing.email_fingerprint
    assert undeliverable.status == "550"
    # The next mail-out leaves the address out.
    assert mailouts.count_recipients(petition) == 1
    # No address in plain text in anything the mail-out wrote.
    with connection.cursor() as cursor:
        for table in ("mail_mailout", "mail_mailoutrecipient", "mail_undeliverable"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names.
            assert "example.org" not in repr(cursor.fetchall())


@pytest.mark.django_db
def test_a_temporary_refusal_is_tried_again_later(org, petition):
    consenting(petition, 1)
    consenting(petition, 2)
    mailout = queued_mailout(petition)
    answers = iter(
        [smtplib.SMTPRecipientsRefused({"signer1@example.org": (451, b"try later")}), "ok"]
    )
    backend = ScriptedBackend({"signer1@example.org": lambda: next(answers)})
    clock = FakeClock()
    started = mailouts.start_mailout(mailout, keys_of(org))
    done = mailouts.run_mailout(started.pk, keys_of(org), clock=clock, connect=backend)
    assert done.state == MailoutState.DONE
    assert backend.attempts == ["signer1@example.org", "signer2@example.org", "signer1@example.org"]
    assert clock.elapsed >= sending.RETRY_AFTER.total_seconds()  # Waited before retrying.
    row = MailoutRecipient.objects.get(
        signature__email_fingerprint=crypto.email_fingerprint("signer1@example.org")
    )
    assert (row.state, row.attempts) == (RecipientState.SENT, 2)
    assert not Undeliverable.objects.exists()


@pytest.mark.django_db
def test_it_gives_up_on_an_address_after_five_temporary_refusals(org, petition):
    consenting(petition, 1)
    mailout = queued_mailout(petition)
    busy = smtplib.SMTPRecipientsRefused({"signer1@example.org": (452, b"mailbox full")})
    backend = ScriptedBackend({"signer1@example.org": busy})
    done = send(mailout, org, connect=backend)
    assert len(backend.attempts) == sending.MAX_ATTEMPTS
    assert (done.state, done.failed) == (MailoutState.DONE, 1)
    assert MailoutRecipient.objects.get().state == RecipientState.FAILED


@pytest.mark.django_db
def test_it_pauses_when_the_mail_server_is_down(org, petition):
    for number in range(3):
        consenting(petition, number)
    mailout = queued_mailout(petition)

    class Down:
        tries = 0

        def open(self):
            Down.tries += 1
            raise ConnectionRefusedError(111, "Connection refused")

        def close(self):
            pass

    clock = FakeClock()
    started = mailouts.start_mailout(mailout, keys_of(org))
    paused = mailouts.run_mailout(started.pk, keys_of(org), clock=clock, connect=Down)

    assert paused.state == MailoutState.PAUSED
    assert "ConnectionRefusedError: Connection refused" in paused.last_error
    assert "example.org" not in paused.last_error
    assert Down.tries == sending.OUTAGE_LIMIT
    assert clock.elapsed == 1 + 2 + 4 + 8  # Backed off between the tries.
    assert paused.sent == 0
    assert set(MailoutRecipient.objects.values_list("state", flat=True)) == {"queued"}
    assert mailouts.progress(paused)["queued"] == 3


@pytest.mark.django_db
def test_it_keeps_to_the_organisations_rate(org, petition):
    for number in range(6):
        consenting(petition, number)
    org.organization.mail_rate_per_minute = 60  # One a second.
    org.organization.save()
    mailout = queued_mailout(petition)
    clock = FakeClock()
    started = mailouts.start_mailout(mailout, keys_of(org))
    done = mailouts.run_mailout(started.pk, keys_of(org), clock=clock, connect=ScriptedBackend())
    assert done.sent == 6
    assert 4.9 <= clock.elapsed <= 6.1


@pytest.mark.django_db
def test_a_sender_that_was_taken_over_stops(org, petition):
    for number in range(5):
        consenting(petition, number)
    mailout = queued_mailout(petition)
    started = mailouts.start_mailout(mailout, keys_of(org))

    def take_over():
        # Someone resumed the mail-out, thinking this sender dead.
        Mailout.objects.filter(pk=mailout.pk).update(heartbeat_at=timezone.now())
        return "ok"

    backend = ScriptedBackend({"signer0@example.org": take_over})
    result = mailouts.run_mailout(started.pk, keys_of(org), clock=FakeClock(), connect=backend)
    assert len(backend.sent) == 1
    assert result.state == MailoutState.RUNNING  # Still the other sender's.


@pytest.mark.django_db(transaction=True)
def test_it_runs_in_a_background_thread(org, petition, outbox):
    consenting(petition, 1)
    mailout = queued_mailout(petition)
    started = mailouts.start_in_background(mailout, keys_of(org))
    assert started.state == MailoutState.RUNNING
    for thread in threading.enumerate():
        if thread.name == f"mailout-{mailout.pk}":
            thread.join(timeout=30)
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.DONE
    assert len(outbox) == 1


# --- progress, repair, test copies -------------------------------------------------------


@pytest.mark.django_db
def test_it_reports_progress_and_repairs_counters(org, petition):
    for number in range(3):
        consenting(petition, number)
    mailout = queued_mailout(petition)
    done = send(mailout, org, connect=ScriptedBackend())
    report = mailouts.progress(done)
    assert report["state"] == "done"
    assert report["state_label"] == "Done"
    assert (report["total"], report["sent"], report["queued"]) == (3, 3, 0)
    assert report["interrupted"] is False
    assert report["finished_at"]

    Mailout.objects.filter(pk=mailout.pk).update(sent=0, total=99)
    assert mailouts.recount_mailout(mailout)["sent"] == 3
    assert mailouts.recount_mailouts(petition) == 1
    mailout.refresh_from_db()
    assert (mailout.total, mailout.sent) == (3, 3)


@pytest.mark.django_db
def test_a_test_copy_goes_through_the_outbox_marked_as_a_test(petition, outbox):
    mailout = mailouts.create_mailout(petition, update=published_update(petition))
    message = mailouts.send_test(mailout, "organiser@example.net", "fa")
    assert OutboundMessage.objects.get() == message
    assert b"organiser@example.net" not in bytes(message.locked)  # Encrypted while queued.
    run_tasks()
    [copy] = outbox
    assert copy.to == ["organiser@example.net"]
    assert copy.subject.startswith("[")
    assert "به شرکت رسیدیم" in copy.subject
    assert "List-Unsubscribe" not in copy.extra_headers
    assert copy.extra_headers["Content-Language"] == "fa"
    html, _mime = copy.alternatives[0]
    assert 'dir="rtl"' in html
    assert "/unsubscribe/" not in copy.body
    with pytest.raises(mailouts.MailoutError):
        mailouts.send_test(mailout, "not an address", "en")
