import getpass
import secrets

from django.core.management.base import BaseCommand, CommandError

from hamseda.orgs import services
from hamseda.orgs.models import Organization, Role


class Command(BaseCommand):
    help = "Create an organizer login with a role in an organisation (created if missing)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--org-name", help="name, when the organisation is new")
        parser.add_argument("--role", choices=Role.values, default=Role.OWNER)
        parser.add_argument("--password", help="default: ask, or generate with --generate")
        parser.add_argument("--generate", action="store_true", help="generate a password")

    def handle(self, *args, email, org, org_name, role, password, generate, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            organization = services.create_organization(name=org_name or org, slug=org)
            self.stdout.write(f"Created organisation {org}.")
        if generate:
            password = secrets.token_urlsafe(12)
        elif not password:
            password = getpass.getpass("Password: ")
        if len(password) < 12:
            raise CommandError("Use a password of at least 12 characters.")
        services.create_organizer(
            email=email, password=password, organization=organization, role=role
        )
        self.stdout.write(f"{email} is {role} of {org}.")
        if generate:
            self.stdout.write(f"Password: {password}")
