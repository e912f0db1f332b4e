"""The long-running processes as an operator starts them: `hamseda serve` answers,
`hamseda worker` delivers queued mail, `hamseda demo --no-serve` prepares everything.

Each runs as a real subprocess on its own data folder (SQLite) and loopback port.
"""

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.installs import HAMSEDA, demo_install, free_port, wait_for


@pytest.fixture
def environment(tmp_path):
    """A demo install in its own data folder (SQLite)."""
    return demo_install(tmp_path)


def test_demo_prints_a_login_and_runs_twice(environment):
    again = subprocess.run(
        [*HAMSEDA, "demo", "--no-serve"],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Organizer login" in again.stdout
    assert (Path(environment["HAMSEDA_DATA_DIR"]) / "secret_key").stat().st_mode & 0o777 == 0o600


def test_serve_answers_health_and_pages(environment):
    port = free_port()
    server = subprocess.Popen(
        [*HAMSEDA, "serve", "--port", str(port), "--workers", "1"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return httpx.get(base + "/healthz").status_code == 200
            except httpx.TransportError:
                return False

        assert wait_for(up), "the server did not start"
        page = httpx.get(base + "/ps/p/suspend-taliban-accounts/")
        assert page.status_code == 200
        assert 'dir="rtl"' in page.text
        css = httpx.get(base + "/static/hamseda/hamseda.css")
        assert css.status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    # Access logs carry neither client addresses nor query strings (PRIVACY.md rule 4).
    assert "127.0.0.1 -" not in output
    assert "GET /healthz" in output


def test_worker_delivers_queued_mail_and_stops_on_sigterm(environment):
    sign = (
        "import django; django.setup();"
        "from hamseda.petitions import services;"
        "from hamseda.petitions.models import Petition;"
        "p = Petition.objects.get(slug='suspend-taliban-accounts');"
        "services.sign_petition(p, services.Signer(first_name='Zarghuna', last_name='W',"
        " email='worker-test@example.org', country='AF'))"
    )
    subprocess.run([sys.executable, "-c", sign], env=environment, check=True, timeout=60)
    mailbox = Path(environment["HAMSEDA_DATA_DIR"]) / "mailbox"
    assert not any(mailbox.iterdir())
    worker = subprocess.Popen(
        [*HAMSEDA, "worker"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )

    def delivered_mail() -> str:
        # The file backend creates the file before it has written the message.
        return "".join(path.read_text() for path in mailbox.iterdir())

    try:
        assert wait_for(lambda: "/confirm/" in delivered_mail()), "no mail was delivered"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    delivered = delivered_mail()
    assert "worker-test@example.org" in delivered
    assert "/confirm/" in delivered
    assert worker.returncode == 0


def test_a_real_install_has_an_append_only_audit_log(environment):
    """The demo's database (migrated with production settings) refuses to rewrite the
    audit log, even through raw SQL."""
    import sqlite3

    database = Path(environment["HAMSEDA_DATA_DIR"]) / "hamseda.sqlite3"
    with sqlite3.connect(database) as connection:
        triggers = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
        assert {"audit_no_update", "audit_no_delete"} <= triggers
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("DELETE FROM integrity_auditevent")
