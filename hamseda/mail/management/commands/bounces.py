"""`hamseda bounces FILE…`: record the permanent bounces reported by delivery status
notifications (RFC 3464) in .eml files, mbox files or Maildir folders.

The reports find our messages by their Message-ID (mail.bounces); an address is never
read or stored. Unreadable input is reported and the command exits with status 1, after
processing everything else.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hamseda.mail.bounces import process_paths


class Command(BaseCommand):
    help = (
        "Mark mail-out recipients whose mail bounced, from bounce reports (DSNs) in .eml "
        "files, mbox files or Maildir folders: `bounces FILE [FILE …]`."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args, paths, **options):
        report = process_paths(paths)
        self.stdout.write(
            f"{report.messages} message{'s' if report.messages != 1 else ''} read: "
            f"{report.bounced} bounced, {report.already} already known, "
            f"{report.transient} temporary failures, "
            f"{report.foreign} about other mail, {report.not_dsn} not bounce reports, "
            f"{report.unknown} for unknown mail-outs, {report.damaged} damaged."
        )
        if report.errors:
            for error in report.errors:
                self.stderr.write(error)
            raise CommandError(
                f"{len(report.errors)} input{'s' if len(report.errors) != 1 else ''} "
                "could not be read; the rest was processed."
            )
