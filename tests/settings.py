"""Settings for the test run: hamseda.settings with a throw-away data folder, a fixed
secret, mail captured in memory, and PostgreSQL when HAMSEDA_DATABASE_URL is set."""

import os
from pathlib import Path

os.environ.setdefault("HAMSEDA_DATA_DIR", str(Path(__file__).parent.parent / "var" / "test"))
os.environ.setdefault("HAMSEDA_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("HAMSEDA_EMAIL_URL", "locmem://")
os.environ.setdefault("HAMSEDA_BASE_URL", "http://testserver")
os.environ.setdefault("HAMSEDA_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from hamseda.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # Fast, tests only.

DATA_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# One test database per test process, so that several runs (SQLite and PostgreSQL, or
# two developers' runs on one machine) never share one.
_suffix = str(os.getpid())
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": DATA_DIR / f"test-{_suffix}.sqlite3"}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_hamseda_{_suffix}"}  # noqa: F405

# Transactional tests empty every table between tests, which the audit log's
# append-only triggers would refuse; tests/integrity/test_audit.py installs and checks them.
HAMSEDA = {**HAMSEDA, "AUDIT_TRIGGERS": False}  # noqa: F405
