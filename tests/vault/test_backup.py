"""`hamseda backup`: a consistent, private copy of the database that restores.

What the backup must not hold (personal data in plain text) is checked with the other
marker tests in tests/vault/test_no_plaintext.py.
"""

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from contextlib import closing
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hamseda.petitions import services
from hamseda.petitions.models import Petition, Signature
from hamseda.vault import backup
from hamseda.vault.backup import BackupError, backup_postgresql, backup_sqlite
from tests.conftest import make_org, make_petition, signer

PG_SETTINGS = {
    "NAME": "hamseda",
    "USER": "hamseda",
    "PASSWORD": "pw-in-env-only-4411",
    "HOST": "db.example.internal",
    "PORT": "5433",
    "OPTIONS": {"sslmode": "require"},
}


def sqlite_database(path: Path) -> sqlite3.Connection:
    """A live database as the server keeps it: WAL mode, and (here) no automatic
    checkpoint, so committed rows stay in the -wal file until someone checkpoints."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE pair (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL)")
    return db


def scalar(path: Path, sql: str = "SELECT count(*) FROM pair"):
    """The one value `sql` answers on the database at `path` (by default its rows)."""
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchone()[0]


def fake_pg_dump(folder: Path, version: str, *, fail: bool = False) -> Path:
    """A stand-in pg_dump on PATH: reports `version`, records how it was called, and
    writes a small dump (or fails)."""
    folder.mkdir(exist_ok=True)
    script = folder / "pg_dump"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "if sys.argv[1:] == ['--version']:\n"
        f"    print('pg_dump (PostgreSQL) {version}'); sys.exit(0)\n"
        f"open({str(folder / 'call.json')!r}, 'w').write(json.dumps("
        "{'argv': sys.argv, 'password': os.environ.get('PGPASSWORD'),"
        " 'sslmode': os.environ.get('PGSSLMODE')}))\n"
        f"if {fail!r}:\n"
        "    print('pg_dump: error: connection refused', file=sys.stderr); sys.exit(1)\n"
        "out = next(a for a in sys.argv if a.startswith('--file='))[7:]\n"
        "open(out, 'w').write('-- dump\\n')\n"
    )
    script.chmod(0o755)
    return script


# --- SQLite ------------------------------------------------------------------------------------


def test_sqlite_backup_has_what_is_only_in_the_wal_and_nothing_uncommitted(tmp_path):
    live = tmp_path / "live.sqlite3"
    db = sqlite_database(live)
    db.executemany("INSERT INTO pair (batch) VALUES (?)", [(1,), (1,)])
    # A writer is in the middle of a transaction while the backup runs.
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO pair (batch) VALUES (2)")

    backup_sqlite(live, tmp_path / "copy.sqlite3")
    writer.execute("COMMIT")
    writer.close()

    assert scalar(tmp_path / "copy.sqlite3") == 2  # Committed, not yet checkpointed.
    assert not (tmp_path / "copy.sqlite3-wal").exists()  # The copy stands alone.
    assert scalar(tmp_path / "copy.sqlite3", "PRAGMA integrity_check") == "ok"
    # What copying the file would have given: the committed rows are only in the WAL.
    shutil.copyfile(live, tmp_path / "naive.sqlite3")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        scalar(tmp_path / "naive.sqlite3")
    db.close()


def test_sqlite_backups_are_consistent_while_the_server_commits(tmp_path):
    """A writer commits rows two at a time; every backup has whole pairs, never half."""
    live = tmp_path / "live.sqlite3"
    sqlite_database(live).execute("PRAGMA wal_autocheckpoint=1000")
    stop = threading.Event()

    def write() -> None:
        db = sqlite3.connect(live, isolation_level=None, timeout=30)
        batch = 0
        while not stop.is_set():
            batch += 1
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO pair (batch) VALUES (?)", [(batch,), (batch,)])
            db.execute("COMMIT")
        db.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        copies = []
        for number in range(8):
            copies.append(tmp_path / f"copy-{number}.sqlite3")
            backup_sqlite(live, copies[-1])
    finally:
        stop.set()
        thread.join(timeout=30)
    counts = [scalar(copy) for copy in copies]
    assert all(n % 2 == 0 for n in counts), counts
    single = "SELECT count(*) FROM (SELECT batch FROM pair GROUP BY batch HAVING count(*) != 2)"
    assert all(scalar(copy, single) == 0 for copy in copies)
    assert counts[-1] > 0


def test_a_backup_is_private_and_never_overwrites(tmp_path):
    live = tmp_path / "live.sqlite3"
    sqlite_database(live).execute("INSERT INTO pair (batch) VALUES (1)")
    out = tmp_path / "backup.sqlite3"
    previous = os.umask(0)  # Even a careless umask gets a private file.
    try:
        backup_sqlite(live, out)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    before = out.read_bytes()

    with pytest.raises(BackupError, match="never overwrites"):
        backup_sqlite(live, out)
    assert out.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "backup.sqlite3",
        "live.sqlite3",
        "live.sqlite3-shm",
        "live.sqlite3-wal",
    ]


def test_a_missing_database_or_folder_is_a_clear_error(tmp_path):
    with pytest.raises(BackupError, match="no SQLite database file"):
        backup_sqlite(tmp_path / "nothing.sqlite3", tmp_path / "out.sqlite3")
    live = tmp_path / "live.sqlite3"
    sqlite_database(live)
    with pytest.raises(BackupError, match="does not exist"):
        backup_sqlite(live, tmp_path / "no-folder" / "out.sqlite3")
    assert not (tmp_path / "out.sqlite3").exists()


# --- PostgreSQL, without a server: finding and calling pg_dump -----------------------------


def test_pg_dump_gets_the_connection_settings_and_the_password_by_environment(
    tmp_path, monkeypatch
):
    bin_folder = tmp_path / "bin"
    fake_pg_dump(bin_folder, "16.4")
    monkeypatch.setenv("PATH", str(bin_folder))
    out = tmp_path / "hamseda.dump"

    made = backup_postgresql(PG_SETTINGS, out, server_major=15)

    call = json.loads((bin_folder / "call.json").read_text())
    assert call["password"] == PG_SETTINGS["PASSWORD"]
    assert PG_SETTINGS["PASSWORD"] not in " ".join(call["argv"])  # Not visible in `ps`.
    assert call["sslmode"] == "require"
    assert call["argv"][1:] == [
        "-U",
        "hamseda",
        "-h",
        "db.example.internal",
        "-p",
        "5433",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        next(arg for arg in call["argv"] if arg.startswith("--file=")),
        "hamseda",
    ]
    assert made.format == "custom"
    assert out.read_text() == "-- dump\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_missing_pg_dump_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match=r"pg_dump was not found.*postgresql-client"):
        backup_postgresql(PG_SETTINGS, tmp_path / "out.dump", server_major=15)


def test_a_pg_dump_older_than_the_server_is_refused(tmp_path, monkeypatch):
    fake_pg_dump(tmp_path / "bin", "13.9")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(BackupError, match="version 13, older than the PostgreSQL 15 server"):
        backup_postgresql(PG_SETTINGS, tmp_path / "out.dump", server_major=15)
    assert not (tmp_path / "bin" / "call.json").exists()  # It never ran a dump.
    assert not (tmp_path / "out.dump").exists()


def test_a_failing_pg_dump_leaves_no_file(tmp_path, monkeypatch):
    fake_pg_dump(tmp_path / "bin", "15.2", fail=True)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(BackupError, match="connection refused"):
        backup_postgresql(PG_SETTINGS, tmp_path / "out.dump", server_major=15)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin"]


# --- the command, on the test database (SQLite or PostgreSQL) ------------------------------


def restored_counts(path: Path, pg_format: str, tmp_path: Path) -> tuple[int, int]:
    """(petitions, signatures) in a database restored from the backup at `path`, the way
    docs/privacy.md says to restore it."""
    if connection.vendor == "sqlite":
        with closing(sqlite3.connect(path)) as db:
            return (
                db.execute("SELECT count(*) FROM petitions_petition").fetchone()[0],
                db.execute("SELECT count(*) FROM petitions_signature").fetchone()[0],
            )
    settings = connection.settings_dict
    server = {
        **os.environ,
        "PGHOST": settings["HOST"] or "127.0.0.1",
        "PGPORT": str(settings["PORT"] or 5432),
        "PGUSER": settings["USER"],
        "PGPASSWORD": settings["PASSWORD"] or "",
    }
    name = f"{settings['NAME']}_restored"

    def run(*command: str) -> str:
        return subprocess.run(
            command, env=server, check=True, capture_output=True, text=True, timeout=120
        ).stdout

    run("dropdb", "--if-exists", name)
    run("createdb", name)
    try:
        if pg_format == "custom":
            run("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={name}", str(path))
        else:
            run("psql", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={name}", f"--file={path}")
        answer = run(
            "psql",
            "-At",
            f"--dbname={name}",
            "-c",
            "SELECT (SELECT count(*) FROM petitions_petition) || ' ' ||"
            " (SELECT count(*) FROM petitions_signature)",
        )
    finally:
        run("dropdb", "--if-exists", name)
    petitions, signatures = answer.split()
    return int(petitions), int(signatures)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pg_format", ["custom", "plain"])
def test_the_command_writes_a_backup_that_restores(tmp_path, pg_format):
    if connection.vendor == "sqlite" and pg_format == "plain":
        pytest.skip("--format is PostgreSQL's only")
    if connection.vendor == "postgresql" and not shutil.which("pg_restore"):
        pytest.skip("the PostgreSQL client programs are not installed")
    petition = make_petition(make_org().organization)
    for number in range(3):
        services.sign_petition(petition, signer(number))
    out = tmp_path / "hamseda.backup"
    output = StringIO()

    call_command("backup", out=out, pg_format=pg_format, stdout=output)

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    said = output.getvalue()
    assert f"written to {out}" in said
    assert "NOT in this backup" in said
    assert "HAMSEDA_SECRET_KEY" in said  # Where this install's secret comes from.
    expected = (Petition.objects.count(), Signature.objects.count())
    assert expected == (1, 3)
    assert restored_counts(out, pg_format, tmp_path) == expected

    with pytest.raises(CommandError, match="never overwrites"):
        call_command("backup", out=out, stdout=StringIO())


def test_the_secret_is_said_to_be_in_the_data_folder_when_it_is(monkeypatch, settings):
    from hamseda.vault.management.commands.backup import secret_key_location

    monkeypatch.delenv("HAMSEDA_SECRET_KEY")
    assert secret_key_location() == f"the file {Path(settings.DATA_DIR) / 'secret_key'}"
    assert "NOT" in backup.NOT_IN_THE_BACKUP
