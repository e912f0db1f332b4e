"""A real install in a temporary data folder, as an operator makes one: for the tests
that run `hamseda serve`, `worker`, `backup` and `demo` as subprocesses."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HAMSEDA = [sys.executable, "-m", "hamseda"]


def demo_install(folder: Path) -> dict[str, str]:
    """Run `hamseda demo --no-serve` on SQLite in `folder`/var; return its environment."""
    env = {
        **os.environ,
        "HAMSEDA_DATA_DIR": str(folder / "var"),
        "HAMSEDA_EMAIL_URL": (folder / "var" / "mailbox").as_uri(),
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
