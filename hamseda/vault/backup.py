"""Consistent backups of the database, made while the server keeps writing.

- SQLite: the online backup API of sqlite3 copies the database as one snapshot
  inside a read transaction, including what is still only in the write-ahead log; in
  WAL mode the server's writers carry on meanwhile. Copying the file instead would
  miss the WAL and could catch a page half-written.
- PostgreSQL: `pg_dump`, which reads everything in one repeatable-read snapshot, with
  the connection settings of Django's DATABASES (the password goes through the
  environment, never the command line that `ps` shows).

The backup holds what the database holds and no more (PRIVACY.md): personal data only
sealed to the organisations' keys, e-mail addresses only as keyed fingerprints, the
outbox encrypted. The server secret that keys the fingerprints and the outbox is
deliberately not in it (it lives outside the database); see `NOT_IN_THE_BACKUP`.

The file appears complete or not at all: it is written under a temporary name in the
same folder (mode 0600 from the start), flushed to disk, then linked to its final
name, which fails rather than replace an existing file.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.db import DatabaseError, connections

PgFormat = Literal["custom", "plain"]
NOT_IN_THE_BACKUP = (
    "The server secret ({where}) is NOT in this backup, on purpose: keep a copy of it "
    "separately, as safely as the backup. Without it a restored install cannot "
    "recognise earlier signers' e-mail fingerprints (they could sign the same petition "
    "again), nor open mail still waiting in the queue."
)


class BackupError(Exception):
    """A backup that could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    vendor: str
    format: str
    size: int


def backup_database(out: Path, *, alias: str = "default", pg_format: PgFormat = "custom") -> Backup:
    """Write a consistent copy of the database `alias` to `out`, a new file."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        return backup_sqlite(Path(connection.settings_dict["NAME"]), out)
    if connection.vendor == "postgresql":
        try:
            connection.ensure_connection()
        except DatabaseError as error:
            raise BackupError(f"Could not connect to the database: {error}") from error
        server_major = connection.pg_version // 10000  # type: ignore[attr-defined]
        return backup_postgresql(
            connection.settings_dict, out, server_major=server_major, pg_format=pg_format
        )
    raise BackupError(f"Backups of {connection.vendor} databases are not supported.")


def backup_sqlite(source: Path, out: Path) -> Backup:
    """Copy the SQLite database `source` to `out` with the online backup API."""
    if str(source) == ":memory:" or not source.is_file():
        raise BackupError(f"There is no SQLite database file at {source}.")
    with _new_file(out) as temporary:
        # Read-only: a backup never writes to the live database. The busy timeout lets
        # it wait for a checkpoint in progress instead of failing.
        live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(temporary)
        try:
            # One step (pages=-1): the whole database from a single read transaction,
            # so the copy is one consistent moment even while the server commits.
            live.backup(copy)
            # The copy stands alone: no -wal file beside it, whatever the source used.
            copy.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"The copy failed SQLite's check: {verdict}")
        finally:
            copy.close()
            live.close()
    return Backup(out, "sqlite", "sqlite", out.stat().st_size)


def pg_dump_major(pg_dump: str) -> int:
    """The major version of a pg_dump program ("pg_dump (PostgreSQL) 15.20" → 15)."""
    done = subprocess.run(  # noqa: S603 - our own argument list, no shell.
        [pg_dump, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    found = re.search(r"\(PostgreSQL\)\s+(\d+)", done.stdout)
    if done.returncode != 0 or not found:
        raise BackupError(f"Could not tell the version of {pg_dump}: {done.stdout.strip()!r}")
    return int(found.group(1))


def backup_postgresql(
    settings_dict: dict[str, Any],
    out: Path,
    *,
    server_major: int,
    pg_format: PgFormat = "custom",
) -> Backup:
    """Dump the PostgreSQL database of `settings_dict` to `out` with pg_dump.

    `custom` is pg_dump's compressed archive for `pg_restore`; `plain` is an SQL
    script for `psql`. Neither keeps owners or grants, so a restore works as
    whichever role runs it.
    """
    from django.db.backends.postgresql.client import DatabaseClient

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            f"pg_dump was not found on PATH. Install the PostgreSQL client, version "
            f"{server_major} or newer (Debian: apt-get install postgresql-client)."
        )
    dump_major = pg_dump_major(pg_dump)
    if dump_major < server_major:
        # pg_dump refuses a newer server anyway, with a less helpful message.
        raise BackupError(
            f"{pg_dump} is version {dump_major}, older than the PostgreSQL {server_major} "
            f"server; pg_dump must be at least the server's version. Install "
            f"postgresql-client-{server_major} and put its pg_dump first on PATH "
            f"(Debian: /usr/lib/postgresql/{server_major}/bin)."
        )
    with _new_file(out) as temporary:
        args, env = DatabaseClient.settings_to_cmd_args_env(
            settings_dict,
            [f"--format={pg_format}", "--no-owner", "--no-privileges", f"--file={temporary}"],
        )
        done = subprocess.run(  # noqa: S603 - our own argument list, no shell.
            [pg_dump, *args[1:]],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[-2000:]}")
    return Backup(out, "postgresql", pg_format, out.stat().st_size)


@contextmanager
def _new_file(out: Path) -> Iterator[Path]:
    """A temporary path next to `out` for the caller to fill; then `out`, atomically.

    The final step is a hard link, which fails if `out` exists, so two backups racing
    for one name, or an old backup, are never overwritten; a failure anywhere leaves no
    file behind.
    """
    if out.exists():
        raise BackupError(f"{out} exists; a backup never overwrites a file.")
    if not out.parent.is_dir():
        raise BackupError(f"The folder {out.parent} does not exist.")
    descriptor, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(descriptor)  # mkstemp made it 0600, which the final file keeps.
    temporary = Path(name)
    try:
        yield temporary
        temporary.chmod(0o600)  # In case the writer replaced the file.
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        try:
            os.link(temporary, out)
        except FileExistsError:
            raise BackupError(
                f"{out} appeared meanwhile; a backup never overwrites a file."
            ) from None
        _fsync_folder(out.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    """Make the new name itself durable (the folder's entry), not only the bytes."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
