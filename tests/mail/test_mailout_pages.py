"""The organisers' mail-out pages: choose content and signers, count, create, test copy,
give the key, watch the progress, pause and cancel; the send rate.

The sending itself (mail.mailouts, mail.sending) is tested in its own modules; here the
web pages drive it, with `start_in_background` run in the foreground so that a test
sees every mail. The organisation's secret key, posted to start a mail-out, must
never come back: not in a page, a log record, a cookie, or any column of any table.
"""

import base64
import logging
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.mail import mailouts
from hamseda.mail.models import Mailout, MailoutState, OutboundMessage
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Role
from hamseda.orgs.sealing_keys import key_file_text
from hamseda.petitions import services, updates
from hamseda.petitions.models import DecisionMaker, Response, ResponseSource
from hamseda.vault import crypto
from tests.conftest import PASSWORD, make_org, make_petition, run_tasks, signer, with_two_factor

CONSENTING = [("SE", "en"), ("AF", "fa"), ("DE", "fa")]


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture
def signed(petition):
    """Three signers who want updates (Sweden/English, Afghanistan/Dari, Germany/Dari),
    one from Norway who does not."""
    for number, (country, language) in enumerate(CONSENTING, start=1):
        services.record_confirmed_signature(
            petition, signer(number, country=country, language=language, keep_updated=True)
        )
    services.record_confirmed_signature(petition, signer(9, country="NO"))
    return petition


@pytest.fixture
def update(signed):
    draft = updates.save_update(
        signed,
        texts={
            "en": {"title": "We met the company", "body": "They listened."},
            "fa": {"title": "با شرکت دیدار کردیم", "body": "گوش دادند."},
        },
    )
    return updates.publish_update(draft)


@pytest.fixture
def organiser(client, owner):
    client.force_login(with_two_factor(owner))
    return client


@pytest.fixture
def foreground(monkeypatch):
    """start_in_background without the thread: start, then send everything now."""

    def start_and_send(mailout, keys, *, actor=None):
        started = mailouts.start_mailout(mailout, keys, actor=actor, via="web")
        return mailouts.run_mailout(started.pk, keys)

    monkeypatch.setattr(mailouts, "start_in_background", start_and_send)


def key_file(org) -> str:
    """The text of the organisation's secret key file, as `hamseda keys generate` writes it."""
    public_key = bytes(crypto.parse_secret_key(org.secret_key).public_key)
    key_id = crypto.key_id(base64.b64encode(public_key).decode())
    return key_file_text(org.organization.slug, key_id, org.secret_key)


def queued(petition, update, **segment) -> Mailout:
    mailout = mailouts.create_mailout(petition, update=update, segment=mailouts.Segment(**segment))
    mailouts.queue_mailout(mailout)
    mailout.refresh_from_db()
    return mailout


def new_url(petition, query: str = "") -> str:
    return reverse("mailouts:new", args=[petition.slug]) + query


def texts_of_everything() -> str:
    """Every text value of every row of every table, for a search."""
    values = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            values.extend(
                value.decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                for value in (bytes(v) if isinstance(v, memoryview) else v for v in row.values())
            )
    return "\n".join(values)


# --- choosing and creating ------------------------------------------------------------------


def test_it_counts_the_signers_a_selection_reaches(organiser, update):
    page = organiser.get(new_url(update.petition, f"?update={update.pk}"))
    assert page.status_code == 200
    assert "This will reach 3 signers." in page.text
    assert f'value="update-{update.pk}" ' in page.text
    assert "checked" in page.text
    # Countries are those of the confirmed signers, by name.
    assert "Afghanistan (AF)" in page.text
    assert "Norway (NO)" in page.text

    counted = organiser.post(
        new_url(update.petition), {"action": "count", "countries": ["AF", "DE"], "languages": "fa"}
    )
    assert counted.status_code == 200
    assert "This will reach 2 signers." in counted.text
    assert not Mailout.objects.exists()
    counted = organiser.post(new_url(update.petition), {"action": "count", "countries": "NO"})
    assert "This will reach 0 signers." in counted.text


def test_it_creates_a_mailout_sends_it_with_the_key_and_shows_the_numbers(
    organiser, org, owner, update, foreground, outbox
):
    created = organiser.post(
        new_url(update.petition),
        {"action": "create", "content": f"update-{update.pk}", "languages": "fa"},
    )
    mailout = Mailout.objects.get()
    assert created.status_code == 302
    assert created.url == reverse("mailouts:detail", args=[mailout.pk])
    assert mailout.state == MailoutState.QUEUED
    assert mailout.total == 2
    assert mailout.created_by == owner

    page = organiser.get(created.url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "kept in memory, never saved" in page.text
    assert 'name="key"' in page.text
    assert 'name="key_file"' in page.text

    started = organiser.post(reverse("mailouts:start", args=[mailout.pk]), {"key": key_file(org)})
    assert started.status_code == 302
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.DONE
    assert mailout.sent == 2
    assert sorted(m.to[0] for m in outbox) == ["signer2@example.org", "signer3@example.org"]
    done = organiser.get(created.url)
    assert "Done" in done.text
    assert 'name="key"' not in done.text  # Nothing left to give a key for.
    start = AuditEvent.objects.get(action=AuditAction.MAILOUT)
    assert start.actor_id == owner.pk
    assert start.details["mailout"] == mailout.pk


def test_the_key_is_never_kept_echoed_or_logged(organiser, org, update, foreground, caplog):
    caplog.set_level(logging.DEBUG)
    mailout = queued(update.petition, update)
    text = key_file(org)
    seen = []
    # A wrong attempt first (the key given with garbage around it), then the right one.
    refused = organiser.post(
        reverse("mailouts:start", args=[mailout.pk]), {"key": text + "\nextra line"}
    )
    assert refused.status_code == 400
    seen.append(refused.text)
    started = organiser.post(
        reverse("mailouts:start", args=[mailout.pk]),
        {"key": "", "key_file": SimpleUploadedFile("alliance.key", text.encode())},
        follow=True,
    )
    assert started.status_code == 200
    seen.append(started.text)
    seen.append(organiser.get(reverse("mailouts:progress", args=[mailout.pk])).text)
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.DONE

    secret = org.secret_key
    for body in seen:
        assert secret not in body
    assert secret not in caplog.text
    assert all(secret not in str(cookie) for cookie in organiser.cookies.values())
    assert secret not in texts_of_everything()
    if connection.vendor == "sqlite":
        # What reached the database file (committed pages, and its write-ahead log).
        name = connection.settings_dict["NAME"]
        for suffix in ("", "-wal"):
            try:
                with open(f"{name}{suffix}", "rb") as handle:
                    assert secret.encode() not in handle.read()
            except FileNotFoundError:
                pass


def test_key_files_of_a_rotated_organisation_are_given_together(
    organiser, org, petition, foreground, outbox
):
    services.record_confirmed_signature(petition, signer(1, keep_updated=True))
    old_text = key_file(org)
    public_key, secret_key = crypto.generate_keypair()
    org_services.adopt_public_key(org.organization, public_key, actor=None)
    petition.organization.refresh_from_db()
    services.record_confirmed_signature(petition, signer(2, keep_updated=True))
    new_text = key_file_text(org.organization.slug, crypto.key_id(public_key), secret_key)
    news = updates.publish_update(
        updates.save_update(petition, texts={"en": {"title": "News", "body": "Text"}})
    )
    mailout = queued(petition, news)

    only_new = organiser.post(reverse("mailouts:start", args=[mailout.pk]), {"key": new_text})
    assert only_new.status_code == 400
    assert "was not given" in only_new.text
    assert not outbox

    both = organiser.post(
        reverse("mailouts:start", args=[mailout.pk]),
        {
            "key_file": [
                SimpleUploadedFile("old.key", old_text.encode()),
                SimpleUploadedFile("new.key", new_text.encode()),
            ]
        },
    )
    assert both.status_code == 302
    assert len(outbox) == 2


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "Paste the secret key, or choose the key file."),
        ("not a key at all", "This is not a Hamseda secret key file."),
        ("other-org", "does not belong to"),
    ],
)
def test_a_wrong_key_sends_nothing(organiser, update, foreground, outbox, given, message):
    if given == "other-org":
        other = make_org("other-org")
        given = key_file(other)
    mailout = queued(update.petition, update)
    response = organiser.post(reverse("mailouts:start", args=[mailout.pk]), {"key": given})
    assert response.status_code == 400
    assert message in response.text
    assert "no-store" in response["Cache-Control"]
    # The textarea comes back empty: the page never repeats what was posted.
    assert "<textarea" in response.text
    if given:
        assert given not in response.text
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.QUEUED
    assert not outbox


def test_a_second_start_is_refused_while_one_is_sending(organiser, org, update, foreground):
    keys = mailouts.read_keys([key_file(org)])
    first = queued(update.petition, update)
    mailouts.start_mailout(first, keys)  # Running, its sender alive (fresh heartbeat).
    second = queued(update.petition, update)
    response = organiser.post(reverse("mailouts:start", args=[second.pk]), {"key": key_file(org)})
    assert response.status_code == 409
    assert "Another mail-out of this organisation is being sent" in response.text
    again = organiser.post(reverse("mailouts:start", args=[first.pk]), {"key": key_file(org)})
    assert again.status_code == 409


def test_nothing_to_send_is_a_clear_message_and_leaves_no_mailout(organiser, update):
    response = organiser.post(
        new_url(update.petition),
        {"action": "create", "content": f"update-{update.pk}", "countries": "NO"},
    )
    assert response.status_code == 400
    assert "nothing to send" in response.text
    assert not Mailout.objects.exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?update=999999", "not a published update of this petition"),
        ("?update=abc", "not a published update of this petition"),
        ("?response=999999", "not a visible response of this petition"),
    ],
)
def test_unknown_content_in_the_address_is_refused(organiser, update, query, message):
    response = organiser.get(new_url(update.petition, query))
    assert response.status_code == 400
    assert message in response.text


def _other_petitions_content(org):
    other = make_petition(org.organization, "other-petition")
    their_update = updates.publish_update(
        updates.save_update(other, texts={"en": {"title": "Theirs", "body": "Text"}})
    )
    target = DecisionMaker.objects.create(organization=org.organization, name="Someone")
    their_response = Response.objects.create(
        petition=other,
        decision_maker=target,
        body="No.",
        responded_on=timezone.now().date(),
        source=ResponseSource.OFFLINE,
        created_at=timezone.now(),
    )
    return their_update, their_response


def test_content_of_another_petition_is_refused(organiser, org, update):
    their_update, their_response = _other_petitions_content(org)
    petition = update.petition
    assert organiser.get(new_url(petition, f"?update={their_update.pk}")).status_code == 400
    assert organiser.get(new_url(petition, f"?response={their_response.pk}")).status_code == 400
    for content in (f"update-{their_update.pk}", f"response-{their_response.pk}"):
        response = organiser.post(new_url(petition), {"action": "create", "content": content})
        assert response.status_code == 400
        assert "not a published update or a visible response of this petition" in response.text
    assert not Mailout.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"signed_from": "2024-13-45"}, "Enter a valid date."),
        (
            {"signed_from": "2025-03-01", "signed_until": "2025-02-01"},
            "before their start",
        ),
        ({"countries": "ZZ"}, "No signer of this petition is from ZZ."),
        ({"languages": "de"}, "Select a valid choice."),
        ({"content": ""}, "Choose an update or a response to send."),
    ],
)
def test_bad_selections_are_refused_with_a_message(organiser, update, fields, message):
    data = {"action": "create", "content": f"update-{update.pk}", **fields}
    response = organiser.post(new_url(update.petition), data)
    assert response.status_code == 400
    assert message in response.text
    assert not Mailout.objects.exists()


def test_a_response_can_be_mailed(organiser, signed):
    target = DecisionMaker.objects.create(organization=signed.organization, name="ExampleSocial")
    response = Response.objects.create(
        petition=signed,
        decision_maker=target,
        body="We will look into it.",
        responded_on=timezone.now().date(),
        source=ResponseSource.OFFLINE,
        created_at=timezone.now(),
    )
    page = organiser.get(new_url(signed, f"?response={response.pk}"))
    assert page.status_code == 200
    assert "Response from ExampleSocial" in page.text
    created = organiser.post(
        new_url(signed), {"action": "create", "content": f"response-{response.pk}"}
    )
    assert created.status_code == 302
    assert Mailout.objects.get().response == response


def test_a_petition_without_content_says_what_to_do_first(organiser, signed):
    page = organiser.get(new_url(signed))
    assert page.status_code == 200
    assert "There is nothing to send yet" in page.text


# --- drafts, test copies, pause, cancel --------------------------------------------------------


def test_a_draft_gets_a_test_copy_then_its_recipients(organiser, update, outbox):
    created = organiser.post(
        new_url(update.petition), {"action": "draft", "content": f"update-{update.pk}"}
    )
    mailout = Mailout.objects.get()
    assert created.status_code == 302
    assert mailout.state == MailoutState.DRAFT

    bad = organiser.post(
        reverse("mailouts:test", args=[mailout.pk]), {"address": "not-an-address", "language": "fa"}
    )
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.text
    sent = organiser.post(
        reverse("mailouts:test", args=[mailout.pk]),
        {"address": "me@example.org", "language": "fa"},
    )
    assert sent.status_code == 302
    assert OutboundMessage.objects.count() == 1
    run_tasks()
    assert [m.to for m in outbox] == [["me@example.org"]]
    # The address was not put in a message kept in the session.
    assert "me@example.org" not in organiser.get(sent.url).text

    listed = organiser.post(reverse("mailouts:queue", args=[mailout.pk]))
    assert listed.status_code == 302
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.QUEUED
    assert mailout.total == 3


def test_pause_and_cancel_are_audited(organiser, org, owner, update):
    keys = mailouts.read_keys([key_file(org)])
    mailout = queued(update.petition, update)
    mailouts.start_mailout(mailout, keys)
    page = organiser.get(reverse("mailouts:detail", args=[mailout.pk]))
    assert "mailout-progress.js" in page.text
    assert 'data-state="running"' in page.text
    assert organiser.post(reverse("mailouts:pause", args=[mailout.pk])).status_code == 302
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.PAUSED
    paused = organiser.get(reverse("mailouts:detail", args=[mailout.pk]))
    assert "Resume sending" in paused.text
    assert organiser.post(reverse("mailouts:cancel", args=[mailout.pk])).status_code == 302
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.CANCELLED
    events = [
        e.details.get("event")
        for e in AuditEvent.objects.filter(action=AuditAction.MAILOUT).order_by("pk")
    ]
    assert events[-2:] == ["paused", "cancelled"]
    # Cancelled is final: a second cancel says so, it does not fail.
    again = organiser.post(reverse("mailouts:cancel", args=[mailout.pk]), follow=True)
    assert again.status_code == 200
    assert "cancelled" in again.text


def test_an_interrupted_mailout_asks_for_the_key_again(organiser, org, update):
    keys = mailouts.read_keys([key_file(org)])
    mailout = queued(update.petition, update)
    mailouts.start_mailout(mailout, keys)
    Mailout.objects.filter(pk=mailout.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    page = organiser.get(reverse("mailouts:detail", args=[mailout.pk]))
    assert "Sending was interrupted" in page.text
    assert 'name="key"' in page.text
    data = organiser.get(reverse("mailouts:progress", args=[mailout.pk])).json()
    assert data["interrupted"] is True


def test_progress_json_has_the_numbers_and_is_never_cached(organiser, update):
    mailout = queued(update.petition, update)
    response = organiser.get(reverse("mailouts:progress", args=[mailout.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert {
        "state",
        "state_label",
        "total",
        "sent",
        "bounced",
        "failed",
        "skipped",
        "queued",
        "interrupted",
        "last_error",
        "started_at",
        "finished_at",
    } <= set(data)
    assert data["state"] == "queued"
    assert data["total"] == 3
    assert data["queued"] == 3


def test_the_pages_read_right_to_left_in_dari(organiser, update):
    mailout = queued(update.petition, update, languages=("fa",))
    for url in (
        reverse("mailouts:detail", args=[mailout.pk]),
        reverse("mailouts:list", args=[update.petition.slug]),
        new_url(update.petition),
    ):
        page = organiser.get("/fa" + url)
        assert page.status_code == 200, url
        assert 'dir="rtl"' in page.text


def test_another_organisations_mailout_is_not_found(client, org, update):
    mailout = queued(update.petition, update)
    other = make_org("other-org").organization
    outsider = org_services.create_organizer(
        email="outsider@example.org", password=PASSWORD, organization=other, role=Role.OWNER
    )
    client.force_login(with_two_factor(outsider))
    for name in ("detail", "progress"):
        assert client.get(reverse(f"mailouts:{name}", args=[mailout.pk])).status_code == 404
    for name in ("start", "pause", "cancel", "test", "queue"):
        assert client.post(reverse(f"mailouts:{name}", args=[mailout.pk])).status_code == 404


# --- the list and the send rate -----------------------------------------------------------------


def test_the_list_shows_each_mailout_and_the_send_rate(organiser, org, update):
    queued(update.petition, update, countries=("AF",))
    page = organiser.get(reverse("mailouts:list", args=[update.petition.slug]))
    assert page.status_code == 200
    assert "Update: We met the company" in page.text
    assert "countries: AF" in page.text
    assert "0 of 1" in page.text
    assert "3,000 messages a minute" in page.text
    assert reverse("mailouts:rate", args=[org.organization.slug]) in page.text


def test_an_owner_changes_the_send_rate_within_bounds(organiser, org, update):
    url = reverse("mailouts:rate", args=[org.organization.slug])
    changed = organiser.post(url, {"rate": "600", "petition": update.petition.slug})
    assert changed.status_code == 302
    assert changed.url == reverse("mailouts:list", args=[update.petition.slug])
    org.organization.refresh_from_db()
    assert org.organization.mail_rate_per_minute == 600
    for bad in ("0", "100001", "fast", ""):
        response = organiser.post(url, {"rate": bad})
        assert response.status_code == 400, bad
    org.organization.refresh_from_db()
    assert org.organization.mail_rate_per_minute == 600


def test_an_organiser_sees_the_rate_but_may_not_change_it(client, org, update):
    organizer = org_services.create_organizer(
        email="organizer@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.ORGANIZER,
    )
    client.force_login(with_two_factor(organizer))
    page = client.get(reverse("mailouts:list", args=[update.petition.slug]))
    assert page.status_code == 200
    assert 'name="rate"' not in page.text
    url = reverse("mailouts:rate", args=[org.organization.slug])
    assert client.post(url, {"rate": "1"}).status_code == 403


def test_every_post_needs_the_csrf_token(org, owner, update):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(with_two_factor(owner))
    mailout = queued(update.petition, update)
    for name in ("start", "pause", "cancel", "test", "queue"):
        assert csrf_client.post(reverse(f"mailouts:{name}", args=[mailout.pk])).status_code == 403
    assert csrf_client.post(new_url(update.petition), {"action": "count"}).status_code == 403
