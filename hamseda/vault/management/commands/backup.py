"""`hamseda backup --out FILE [--format custom|plain]`: a consistent copy of the database.

See hamseda/vault/backup.py for how, and docs/privacy.md ("Backups") for restoring.
"""

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hamseda.vault.backup import NOT_IN_THE_BACKUP, BackupError, PgFormat, backup_database


def secret_key_location() -> str:
    """Where this install's server secret comes from, for the reminder after a backup."""
    if os.environ.get("HAMSEDA_SECRET_KEY", "").strip():
        return "the environment variable HAMSEDA_SECRET_KEY"
    return f"the file {Path(settings.DATA_DIR) / 'secret_key'}"


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database to a new file (mode 0600), while the "
        "server keeps running: SQLite through its online backup API, PostgreSQL through "
        "pg_dump. The server secret is not in it; back that up separately."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="new file to write")
        parser.add_argument(
            "--format",
            dest="pg_format",
            choices=["custom", "plain"],
            default="custom",
            help="PostgreSQL only: custom (for pg_restore, compressed) or plain (SQL)",
        )
        parser.add_argument("--database", default="default", help="Django database alias")

    def handle(
        self, *args: Any, out: Path, pg_format: PgFormat, database: str, **options: Any
    ) -> None:
        try:
            backup = backup_database(out, alias=database, pg_format=pg_format)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Backup of the {backup.vendor} database written to {backup.path} "
            f"({backup.size} bytes, {backup.format} format, readable only by this user)."
        )
        self.stdout.write(NOT_IN_THE_BACKUP.format(where=secret_key_location()))
        self.stdout.write(
            "Uploaded images (the media folder) are files, not in the database: "
            f"copy {settings.MEDIA_ROOT} too. Restoring: docs/privacy.md, “Backups”."
        )
