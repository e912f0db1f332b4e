"""`hamseda keys generate --org SLUG --out FILE` and `hamseda keys list --org SLUG`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hamseda.orgs import services
from hamseda.orgs.models import Organization
from hamseda.orgs.sealing_keys import list_keys
from hamseda.vault import crypto


class Command(BaseCommand):
    help = (
        "Manage an organisation's sealing keys: `keys generate --org SLUG --out FILE` "
        "(a new key pair; run again to rotate) and `keys list --org SLUG`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        generate = sub.add_parser("generate", help="new key pair; the secret goes to FILE")
        generate.add_argument("--org", required=True)
        generate.add_argument("--out", required=True, type=Path)
        listing = sub.add_parser("list", help="every key, and the records sealed to each")
        listing.add_argument("--org", required=True)

    def handle(self, *args, action, org, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation {org!r}.")
        if action == "list":
            self.print_list(organization)
        else:
            self.generate(organization, options["out"])

    def generate(self, organization: Organization, out: Path) -> None:
        if out.exists():
            raise CommandError(f"{out} exists; refusing to overwrite a secret key.")
        previous = crypto.key_id(organization.public_key) if organization.public_key else None
        key_id = services.generate_sealing_key(organization, out=out)
        self.stdout.write(
            f"New sealing key {key_id} for {organization.slug}. The secret key is in {out}:\n"
            "keep it offline; without it no one, not even you, can read supporters' data."
        )
        if previous:
            self.stdout.write(
                f"Rotated: new signatures are sealed to {key_id}; the key {previous} is "
                "retired. Records already sealed to it stay sealed to it (they are not "
                "re-sealed), so keep its secret key file as long as you keep those records."
            )

    def print_list(self, organization: Organization) -> None:
        listings = list_keys(organization)
        if not listings:
            self.stdout.write(f"{organization.slug} has no sealing key yet.")
            return
        rows = [("key id", "created", "by", "retired", "records")]
        for key in listings:
            rows.append(
                (
                    key.key_id + (" (current)" if key.current else ""),
                    _when(key.created_at) if key.listed else "(not listed)",
                    key.created_by or "-",
                    _when(key.retired_at) if key.retired_at else "-",
                    str(key.records),
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(5)]
        for row in rows:
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(line.rstrip())


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
