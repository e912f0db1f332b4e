"""PRIVACY.md, "How we test it": after real sign, mail and confirm flows, the raw database
(its files on SQLite, a full dump on PostgreSQL), the backups `hamseda backup` makes, the
logs (Django's handlers here; a real `hamseda serve` and `hamseda worker` below) and the
outbox hold none of the signers' personal data in plain text, and the organisation's
key opens it exactly."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import unicodedata
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from hamseda.mail import bounces, mailouts
from hamseda.mail.models import MessageState, OutboundMessage, Undeliverable
from hamseda.petitions import services, updates
from hamseda.petitions.models import Signature, SignatureState
from tests.conftest import confirmation_link, make_org, make_petition, run_tasks
from tests.installs import HAMSEDA, demo_install, free_port, wait_for
from tests.mail.test_bounces import dsn
from tests.test_security import captured_console

# The data is committed, as in production, so it really reaches the database files.
pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = [
    {
        "first_name": "Zarghuna-unique-7731",
        "last_name": "Surname-unique-5150",
        "email": "needle-4417@example.org",
        "country": "AF",
        "postcode": "PC-44179",
        "reason": "Reason-unique-2093 for my sisters",
        "language": "en",
    },
    {
        "first_name": "زرغونه‌ټسټ",  # With a zero-width non-joiner inside.
        "last_name": "احمدی‌آزمون",
        "email": "needle-dari-8803@example.org",
        "country": "SE",
        "postcode": "کد-۴۴۱۷",
        "reason": "برای خواهرانم در کابل ۹۹۱",
        "language": "fa",
    },
    {
        "first_name": "ملالۍ‌ازموینه",
        "last_name": "یوسفزۍ‌ټسټ",
        "email": "needle-pashto-6620@example.org",
        "country": "GB",
        "postcode": "NW1-6620",
        "reason": "زما د خویندو لپاره ۶۶۲",
        "language": "ps",
    },
    {
        # Typed decomposed (e + combining acute): sealed as NFC, searched in both forms.
        "first_name": "Zoe\u0301-needle-3141",
        "last_name": "Ame\u0301lie-needle-2718",
        "email": "Zoe.Needle-1618@Example.ORG",  # Domain lower-cased, local part kept.
        "country": "DE",
        "postcode": "D-31415",
        "reason": "Liberte\u0301-needle-1414",
        "language": "en",
    },
    {
        # The markers of PRIVACY.md's test, in Latin, Dari and Pashto script.
        "first_name": "Markerzarmina",
        "last_name": "مارکرمریم",
        "email": "markerzarmina-4821@example.org",
        "country": "AF",
        "postcode": "MRK-4821",
        "reason": "ښکاره‌ځډړږ",
        "language": "fa",
    },
]
# Signs but never confirms: a pending signature, its mail still waiting in the outbox.
PENDING = {
    "first_name": "Pending-needle-9902",
    "last_name": "پښتون‌انتظار",
    "email": "pending-needle-5577@example.org",
    "country": "AF",
    "postcode": "PN-5577",
    "reason": "Pending-reason-6611",
    "language": "ps",
}
PERSONAL = ["first_name", "last_name", "email", "postcode", "reason"]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def needles(person: dict) -> set[str]:
    """Every piece of the person's data that must not be found, in every form."""
    found = set()
    for field in PERSONAL:
        for value in {person[field], nfc(person[field])}:
            found.add(value)
            if field == "email":
                local, _, domain = value.rpartition("@")
                found.update({local, f"{local}@{domain.lower()}"})
    # Also as JSON would write them with ASCII escapes ("\u0632..."), and as their
    # non-ASCII-free parts, e.g. the digits of a Latin needle.
    found.update(json.dumps(value)[1:-1] for value in list(found))
    return {value for value in found if len(value) >= 5}


def search(haystack: bytes, words: set[str], where: str) -> None:
    lowered = haystack.lower()  # Only ASCII letters change; UTF-8 sequences do not.
    for word in words:
        for form in (word.encode(), word.encode().hex().encode()):
            assert form.lower() not in lowered, f"{word!r} found in plain text in {where}"


def sign_in_browser(client, petition, person: dict) -> None:
    with translation.override(person["language"]):
        path = reverse("petitions:sign", args=[petition.slug])
    form = {key: value for key, value in person.items() if key != "language"}
    response = client.post(path, form)
    assert response.status_code == 200


def every_value_in_every_table() -> bytes:
    """Every value of every row of every table, as bytes, through plain SQL."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from the schema.
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        chunks.append(bytes(value))
                    elif isinstance(value, dict | list):
                        chunks.append(json.dumps(value, ensure_ascii=False).encode())
                    else:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def sqlite_files() -> dict[str, bytes]:
    """The raw bytes of the SQLite database and its write-ahead log."""
    path = Path(connection.settings_dict["NAME"])
    assert path.exists(), path
    files = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            files[candidate.name] = candidate.read_bytes()
    return files


def pg_dump() -> bytes:
    settings = connection.settings_dict
    command = [
        shutil.which("pg_dump"),
        "--data-only",
        "--no-owner",
        f"--dbname={settings['NAME']}",
        f"--host={settings['HOST'] or '127.0.0.1'}",
        f"--port={settings['PORT'] or 5432}",
        f"--username={settings['USER']}",
    ]
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    done = subprocess.run(command, capture_output=True, env=env, timeout=120, check=True)
    assert b"COPY public.petitions_signature" in done.stdout
    return done.stdout


def backups(folder: Path) -> dict[str, bytes]:
    """What `hamseda backup` writes, as text where it is compressed: the SQLite file; on
    PostgreSQL the plain SQL dump and the custom archive turned back into SQL by
    pg_restore (its data is compressed, so searching its bytes would prove nothing)."""
    folder.mkdir(exist_ok=True)
    number = len(list(folder.iterdir()))
    if connection.vendor == "sqlite":
        out = folder / f"backup-{number}.sqlite3"
        call_command("backup", out=out, stdout=StringIO())
        return {out.name: out.read_bytes()}
    found = {}
    for pg_format in ("plain", "custom"):
        out = folder / f"backup-{number}.{pg_format}"
        call_command("backup", out=out, pg_format=pg_format, stdout=StringIO())
        found[out.name] = out.read_bytes()
    restored = subprocess.run(
        [shutil.which("pg_restore") or "pg_restore", "--file=-", str(out)],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert b"COPY public.petitions_signature" in restored.stdout
    found[f"{out.name} through pg_restore"] = restored.stdout
    return found


def assert_no_plain_text(words: set[str], moment: str, backup_folder: Path) -> None:
    search(every_value_in_every_table(), words, f"a table ({moment})")
    for name, content in backups(backup_folder).items():
        search(content, words, f"the backup {name} ({moment})")
    if connection.vendor == "sqlite":
        files = sqlite_files()
        for name, content in files.items():
            search(content, words, f"{name} ({moment})")
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(FULL)")
        for name, content in sqlite_files().items():
            search(content, words, f"{name} after a checkpoint ({moment})")
    elif connection.vendor == "postgresql" and shutil.which("pg_dump"):
        search(pg_dump(), words, f"pg_dump ({moment})")


@pytest.fixture
def console_log():
    """What the configured log handler writes during the test."""
    with captured_console() as buffer:
        yield buffer


def test_the_database_and_the_outbox_hold_no_personal_data(
    client, outbox, caplog, console_log, tmp_path
):
    # Everything Django and Hamseda would say, down to debug level.
    for name in ("", "django", "django.request", "django.security", "hamseda"):
        caplog.set_level("DEBUG", logger=name)
    keys = make_org()
    petition = make_petition(keys.organization)
    words = set().union(*(needles(person) for person in [*PEOPLE, PENDING]))
    assert {"needle-4417", "زرغونه‌ټسټ", "Markerzarmina", "مارکرمریم", "ښکاره‌ځډړږ"} <= words

    # 1. Signed, mail queued (encrypted in the outbox), nothing delivered yet.
    for person in [*PEOPLE, PENDING]:
        sign_in_browser(client, petition, person)
    assert OutboundMessage.objects.filter(state=MessageState.QUEUED).count() == len(PEOPLE) + 1
    assert_no_plain_text(words, "before delivery", tmp_path / "backups")

    # 2. Delivered (and wiped), then confirmed by following the links.
    run_tasks()
    assert len(outbox) == len(PEOPLE) + 1
    for message in outbox:
        if message.to[0] != PENDING["email"]:
            assert (
                client.get(confirmation_link(message).removeprefix("http://testserver")).status_code
                == 200
            )
    # A signer signs again later: a second mail ("you had already signed") is sent.
    Signature.objects.update(token_sent_at=timezone.now() - 2 * services.RESEND_INTERVAL)
    sign_in_browser(client, petition, PEOPLE[1])
    run_tasks()
    assert len(outbox) == len(PEOPLE) + 2

    for message in OutboundMessage.objects.all():
        assert message.state == MessageState.SENT
        assert bytes(message.locked) == b""
    petition.refresh_from_db()
    assert petition.signature_count == len(PEOPLE)
    assert_no_plain_text(words, "after delivery and confirmation", tmp_path / "backups")
    client.get(f"/p/{petition.slug}/?email={PEOPLE[-1]['email']}")  # A query string,
    client.post(f"/p/{petition.slug}/sign", {**PEOPLE[-1], "country": "??"})  # a refusal.

    # 3. The organisation's secret key opens every record, exactly as typed, in NFC.
    records = {
        nfc(keys.unseal(signature.sealed)["email"]): (signature, keys.unseal(signature.sealed))
        for signature in Signature.objects.filter(petition=petition)
    }
    for person in [*PEOPLE, PENDING]:
        local, _, domain = nfc(person["email"]).rpartition("@")
        signature, record = records[f"{local}@{domain.lower()}"]
        for field in ("first_name", "last_name", "postcode", "reason"):
            assert record[field] == nfc(person[field])
            assert unicodedata.is_normalized("NFC", record[field])
        assert record["country"] == person["country"]
        assert record["language"] == person["language"]
        expected_state = SignatureState.PENDING if person is PENDING else SignatureState.VALIDATED
        assert signature.state == expected_state
        assert signature.public_name == ""  # Nobody ticked "show my first name".
    assert records["Zoe.Needle-1618@example.org"][1]["first_name"] == "Zoé-needle-3141"
    assert records["needle-dari-8803@example.org"][1]["first_name"] == "زرغونه\u200cټسټ"

    # 4. Nor did anything log it: not what the handlers wrote, nor any record.
    assert f"Bad Request: /p/{petition.slug}/sign" in console_log.getvalue()  # It logs.
    search(console_log.getvalue().encode(), words, "the console log")
    records = "\n".join(record.getMessage() for record in caplog.records)
    search(records.encode(), words, "the log records")


def test_a_first_name_shown_by_choice_is_the_only_plain_text(client, outbox, tmp_path):
    """Rule 5: a signer may opt in to show their first name publicly. Then, and only then,
    the first name is stored readable; the rest stays sealed."""
    petition = make_petition(make_org().organization)
    person = {**PEOPLE[1], "show_name": "on"}
    sign_in_browser(client, petition, person)
    run_tasks()
    client.get(confirmation_link(outbox[0]).removeprefix("http://testserver"))

    assert Signature.objects.get().public_name == person["first_name"]
    hidden = needles({**person, "first_name": "x"}) - {"xxxxx"}
    assert_no_plain_text(hidden, "with a public first name", tmp_path)


def test_a_mailout_its_unsubscribe_and_a_bounce_leave_no_personal_data(
    client, outbox, caplog, console_log, tmp_path
):
    """Rule 1 with the key handed to one job: a mail-out opens each address in memory
    while it sends, and afterwards neither the database, a backup, the outbox nor the
    logs hold an address, a name or the key; each signer got the update in their
    language, and one-click unsubscribe and a bounce are kept by fingerprint only."""
    for name in ("", "django", "django.request", "django.security", "hamseda"):
        caplog.set_level("DEBUG", logger=name)
    keys = make_org()
    petition = make_petition(keys.organization)
    for person in PEOPLE:
        sign_in_browser(client, petition, {**person, "keep_updated": "on"})
    run_tasks()
    for message in outbox:
        client.get(confirmation_link(message).removeprefix("http://testserver"))
    outbox.clear()
    update = updates.save_update(
        petition,
        texts={
            "en": {"title": "We reached 5", "body": "Thank you."},
            "fa": {"title": "به ۵ رسیدیم", "body": "سپاس."},
        },
    )
    updates.publish_update(update)
    mailout = mailouts.create_mailout(petition, update=update)
    assert mailouts.queue_mailout(mailout) == len(PEOPLE)
    secret = mailouts.read_keys([keys.secret_key])
    mailouts.start_mailout(mailout, secret, via="cli")
    mailouts.run_mailout(mailout.pk, secret)

    mailout.refresh_from_db()
    assert (mailout.state, mailout.sent) == ("done", len(PEOPLE))
    by_address = {message.to[0]: message for message in outbox}
    assert len(by_address) == len(PEOPLE) == len(outbox)
    for person in PEOPLE:
        local, _, domain = nfc(person["email"]).rpartition("@")
        message = by_address[f"{local}@{domain.lower()}"]
        # Pashto readers get the default language: the update has no Pashto text.
        wanted = {"fa": "به ۵ رسیدیم"}.get(person["language"], "We reached 5")
        assert message.subject == wanted
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # A mail provider's one-click unsubscribe, then a bounce found by the next run.
    first = by_address["needle-4417@example.org"]
    unsubscribe = first.extra_headers["List-Unsubscribe"].strip("<>").split(">")[0]
    answer = Client(enforce_csrf_checks=True).post(
        urlsplit(unsubscribe).path, {"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 200
    assert Signature.objects.filter(keep_updated=True).count() == len(PEOPLE) - 1
    report = tmp_path / "bounce.eml"
    report.write_bytes(dsn(by_address["needle-dari-8803@example.org"].extra_headers["Message-ID"]))
    assert bounces.process_paths([report]).bounced == 1
    assert Undeliverable.objects.count() == 1

    words = set().union(*(needles(person) for person in PEOPLE)) | {keys.secret_key}
    assert_no_plain_text(words, "after a mail-out", tmp_path / "backups")
    search(console_log.getvalue().encode(), words, "the console log")
    records = "\n".join(record.getMessage() for record in caplog.records)
    search(records.encode(), words, "the log records")


# --- the real processes: `hamseda serve`, `hamseda worker`, `hamseda backup` -------------------


@pytest.fixture
def install(tmp_path):
    """A demo install in its own data folder (SQLite)."""
    return demo_install(tmp_path)


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=30)[0].decode()


@pytest.mark.django_db(transaction=False)
def test_the_running_server_worker_and_backup_hold_no_personal_data(install, tmp_path):
    person = PEOPLE[-1]
    words = needles(person)
    data = Path(install["HAMSEDA_DATA_DIR"])
    slug = "suspend-taliban-accounts"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*HAMSEDA, "serve", "--port", str(port), "--workers", "1"],
        env=install,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def up() -> bool:
            try:
                return httpx.get(f"{base}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        assert wait_for(up), "the server did not start"
        with httpx.Client(base_url=base) as browser:
            page = browser.get(f"/fa/p/{slug}/?email={person['email']}")
            assert page.status_code == 200
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert token is not None
            form = {k: v for k, v in person.items() if k != "language"}
            signed = browser.post(
                f"/fa/p/{slug}/sign?ref={person['first_name']}",
                data={**form, "csrfmiddlewaretoken": token.group(1)},
            )
            assert signed.status_code == 200, signed.text[:500]
            # A malformed request that quotes a marker: gunicorn's error log names the
            # client's address and what it sent, unless it is held to the rules.
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                header = f"{person['first_name']} x: y"  # A space: an invalid header name.
                raw.sendall(f"GET / HTTP/1.1\r\nHost: x\r\n{header}\r\n\r\n".encode())
                assert raw.recv(100).startswith(b"HTTP/1.1 400")

            worker = subprocess.Popen(
                [*HAMSEDA, "worker"], env=install, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            mailbox = data / "mailbox"

            def delivered() -> str:
                """The confirmation mail once completely written (Django's file backend
                ends each message with a line of dashes), else "". The demo's own mail
                (a milestone notice to its organisers) may come first."""
                for path in mailbox.iterdir():
                    text = path.read_text()
                    if "/confirm/" in text and text.rstrip().endswith("-" * 79):
                        return text
                return ""

            try:
                assert wait_for(delivered), "no mail was delivered"
            finally:
                worker_output = stop(worker)
            mail = delivered()
            link = next(line for line in mail.splitlines() if "/confirm/" in line).strip()
            confirmation_token = link.rsplit("/", 1)[1]
            # The demo's links name its default address; this server listens elsewhere.
            assert browser.get(urlsplit(link).path).status_code == 200
    finally:
        server_output = stop(server)

    backup_file = tmp_path / "backup.sqlite3"
    made = subprocess.run(
        [*HAMSEDA, "backup", "--out", str(backup_file)],
        env=install,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "NOT in this backup" in made.stdout
    assert f"the file {data / 'secret_key'}" in made.stdout

    # The server really logged these requests (access log), and the refused one.
    assert f'"POST /fa/p/{slug}/sign" 200' in server_output
    assert "Invalid request (message withheld" in server_output
    for name, text in {"the server's output": server_output, "the worker's": worker_output}.items():
        search(text.encode(), words, name)
        assert "ip=" not in text
        assert "?ref=" not in text
        assert "?email=" not in text
        assert confirmation_token not in text
    search(backup_file.read_bytes(), words, "the backup")
    for name in ("hamseda.sqlite3", "hamseda.sqlite3-wal"):
        if (data / name).exists():
            search((data / name).read_bytes(), words, name)
    assert person["email"] in mail  # The demo mailbox stands for the receiving server.
