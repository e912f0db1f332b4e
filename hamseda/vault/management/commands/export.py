"""`hamseda export signatures PETITION --out FILE`: a petition's signatures, still sealed."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hamseda.petitions.models import Petition
from hamseda.vault import export


class Command(BaseCommand):
    help = (
        "Export a petition's signatures, still sealed to the organisation's key(s): "
        "`export signatures PETITION --out FILE`. Open it with `hamseda decrypt`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        signatures = sub.add_parser("signatures", help="one petition's signatures")
        signatures.add_argument("petition", help="the petition's slug")
        signatures.add_argument("--out", required=True, type=Path)

    def handle(self, *args, what, petition, out, **options):
        found = Petition.objects.select_related("organization").filter(slug=petition).first()
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        try:
            # The CLI is the system: the audit event has no user (actor None).
            plan = export.write_export_file(found, out)
        except export.ExportError as error:
            raise CommandError(str(error)) from error
        keys = ", ".join(plan.header["key_ids"]) or "none"
        self.stdout.write(
            f"{plan.records} sealed records of {petition} written to {out} "
            f"(sealed to key(s): {keys}).\n"
            f"Open it offline with: hamseda decrypt {out} --key KEYFILE --out FILE.csv"
        )
