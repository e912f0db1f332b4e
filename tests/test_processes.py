"""The long-running processes as an operator starts them: `hamseda serve` answers,
`hamseda worker` delivers queued mail, `hamseda demo --no-serve` prepares everything.

Each runs as a real subprocess on its own data folder (SQLite) and loopback port.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

HAMSEDA = [sys.executable, "-m", "hamseda"]


@pytest.fixture
def environment(tmp_path):
    env = {
        **os.environ,
        "HAMSEDA_DATA_DIR": str(tmp_path / "var"),
        "HAMSEDA_EMAIL_URL": (tmp_path / "var" / "mailbox").as_uri(),
        "DJANGO_SETTINGS_MODULE": "hamseda.settings",
    }
    for name in ("HAMSEDA_DATABASE_URL", "HAMSEDA_SECRET_KEY", "HAMSEDA_BASE_URL"):
        env.pop(name, None)
    subprocess.run(
        [*HAMSEDA, "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=120
    )
    return env


def wait_for(predicate, timeout: float = 30.0):
    """Poll until `predicate()` is true; this bounds a wait, it asserts no speed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    try:
        assert wait_for(lambda: any(mailbox.iterdir())), "no mail was delivered"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    delivered = next(mailbox.iterdir()).read_text()
    assert "worker-test@example.org" in delivered
    assert "/confirm/" in delivered
    assert worker.returncode == 0
