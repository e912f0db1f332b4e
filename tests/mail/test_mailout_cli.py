"""`hamseda mailout` and `hamseda recount` for mail-outs, and their read-only admin."""

import pytest

from hamseda.mail.models import Mailout, MailoutState, Undeliverable
from hamseda.orgs.sealing_keys import key_file_text
from hamseda.vault import crypto
from tests.conftest import make_org
from tests.mail.test_mailouts import (
    ScriptedBackend,
    consenting,
    published_update,
    queued_mailout,
    send,
)

# --- the command line -----------------------------------------------------------------------


def mailout_command(*args) -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("mailout", *[str(arg) for arg in args], stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_the_cli_creates_lists_sends_and_refuses_clearly(tmp_path, org, petition, outbox):
    from django.core.management import CommandError

    for number in range(3):
        consenting(petition, number, country="AF" if number else "SE")
    update = published_update(petition)
    created = mailout_command("--new", petition.slug, "--update", update.pk, "--country", "AF")
    mailout = Mailout.objects.get()
    assert f"Mail-out {mailout.pk} queued for 2 signers" in created
    listed = mailout_command("--list", petition.slug)
    assert f"{mailout.pk}  free-speech  update {update.pk}  queued  sent 0/2" in listed

    key_file = tmp_path / "alliance.key"
    key_file.write_text(
        key_file_text("alliance", crypto.key_id(org.organization.public_key), org.secret_key)
    )
    stranger = tmp_path / "stranger.key"
    stranger.write_text(make_org("stranger").secret_key)
    for args, message in [
        ((999, "--key", key_file), "There is no mail-out 999"),
        ((mailout.pk,), "--key KEYFILE"),
        ((mailout.pk, "--key", tmp_path / "nope.key"), "no such key file"),
        ((mailout.pk, "--key", stranger), "does not belong to Alliance"),
        (("--new", petition.slug, "--update", update.pk, "--country", "NO"), "nothing to send"),
        (("--new", "no-such-petition", "--update", update.pk), "no petition"),
    ]:
        with pytest.raises(CommandError, match=message):
            mailout_command(*args)
    assert Mailout.objects.count() == 1  # The refused --new left nothing behind.

    done = mailout_command(mailout.pk, "--key", key_file)
    assert f"Mail-out {mailout.pk} done: sent 2 of 2" in done
    assert org.secret_key not in done
    assert len(outbox) == 2
    with pytest.raises(CommandError, match="has been sent"):
        mailout_command(mailout.pk, "--key", key_file)


@pytest.mark.django_db
def test_the_cli_pauses_cancels_and_sends_test_copies(petition, outbox):
    from django.core.management import CommandError

    consenting(petition, 1)
    mailout = queued_mailout(petition)
    with pytest.raises(CommandError, match="is ready to send"):
        mailout_command("--pause", mailout.pk)
    sent = mailout_command(
        "--test", mailout.pk, "--to", "organiser@example.net", "--language", "fa"
    )
    assert "Test copy" in sent
    [copy] = outbox
    assert copy.to == ["organiser@example.net"]
    assert "cancelled" in mailout_command("--cancel", mailout.pk)
    mailout.refresh_from_db()
    assert mailout.state == MailoutState.CANCELLED


@pytest.mark.django_db
def test_recount_repairs_mailout_counters_too(org, petition):
    from io import StringIO

    from django.core.management import call_command

    consenting(petition, 1)
    mailout = send(queued_mailout(petition), org, connect=ScriptedBackend())
    Mailout.objects.filter(pk=mailout.pk).update(sent=0, skipped=5)
    call_command("recount", petition.slug, stdout=StringIO())
    mailout.refresh_from_db()
    assert (mailout.sent, mailout.skipped) == (1, 0)


@pytest.mark.django_db
def test_the_admin_shows_mailouts_read_only_without_personal_data(client, org, petition, now):
    from django.contrib.auth import get_user_model

    signature = consenting(petition, 1)
    send(queued_mailout(petition), org, connect=ScriptedBackend())
    Undeliverable.objects.create(
        email_fingerprint=signature.email_fingerprint, first_bounced_at=now, last_bounced_at=now
    )
    admin = get_user_model().objects.create_superuser("root@example.net", password="pw-12345678")
    client.force_login(admin)
    for name in ("mailout", "mailoutrecipient", "undeliverable"):
        page = client.get(f"/admin/mail/{name}/")
        assert page.status_code == 200
        assert "signer1@example.org" not in page.text
        assert signature.email_fingerprint not in page.text
        assert f"/admin/mail/{name}/add/" not in page.text
