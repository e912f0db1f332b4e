"""`hamseda decrypt FILE --key KEYFILE [--key KEYFILE …] --out CSV`, offline.

Runs on an organiser's laptop without the server: it reads the export and the key
files, writes the CSV, and never opens a database connection.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hamseda.vault.decrypt import DecryptError, decrypt_export


class Command(BaseCommand):
    help = (
        "Open a sealed export with the organisation's secret key file(s) into a CSV: "
        "`decrypt FILE --key KEYFILE [--key KEYFILE2 …] --out CSV`."
    )
    # System checks may query the database; this command must work without one.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the export (`hamseda export signatures`)")
        parser.add_argument(
            "--key",
            dest="keys",
            action="append",
            required=True,
            type=Path,
            help="a secret key file; repeat for the keys of earlier rotations",
        )
        parser.add_argument("--out", required=True, type=Path, help="the CSV to write")

    def handle(self, *args, file, keys, out, **options):
        try:
            rows = decrypt_export(file, keys, out)
        except DecryptError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{rows} records written to {out}. It holds supporters' personal data in plain "
            "text: keep it offline, share it with no one who does not need it, and delete "
            "it when you are done."
        )
