"""`hamseda purge-personal-data [--dry-run]`: what the daily retention job does, by hand."""

from django.core.management.base import BaseCommand

from hamseda.vault import retention


class Command(BaseCommand):
    help = (
        "Delete the supporters' personal data of petitions closed longer than "
        "HAMSEDA_RETENTION_DAYS (counts stay), and warn the organisers of petitions "
        "coming due. --dry-run only lists what would be done."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="change nothing; list what would be done"
        )

    def handle(self, *args, dry_run=False, **options):
        report = retention.purge_personal_data(dry_run=dry_run)
        would = "would " if dry_run else ""
        for slug, rows in report.purged.items():
            self.stdout.write(f"{slug}: {would}delete {rows} signatures (counts stay)")
        for slug, mails in report.warned.items():
            self.stdout.write(f"{slug}: {would}warn {mails} organisers of the coming purge")
        if not (report.purged or report.warned):
            self.stdout.write("Nothing is due.")
