from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hamseda.orgs import services
from hamseda.orgs.models import Organization


class Command(BaseCommand):
    help = "Manage an organisation's sealing keys: `keys generate --org SLUG --out FILE`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        generate = sub.add_parser("generate", help="new key pair; the secret goes to FILE")
        generate.add_argument("--org", required=True)
        generate.add_argument("--out", required=True, type=Path)

    def handle(self, *args, action, org, out, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organisation {org!r}.")
        if out.exists():
            raise CommandError(f"{out} exists; refusing to overwrite a secret key.")
        key_id = services.generate_sealing_key(organization, out=out)
        self.stdout.write(
            f"New sealing key {key_id} for {org}. The secret key is in {out}:\n"
            "keep it offline; without it no one, not even you, can read supporters' data."
        )
