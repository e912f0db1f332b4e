"""State changes of organisations and memberships."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from hamseda.orgs.models import Membership, Organization, Role
from hamseda.vault import crypto


def create_organization(*, name: str, slug: str) -> Organization:
    return Organization.objects.create(name=name, slug=slug)


def generate_sealing_key(organization: Organization, *, out: Path) -> str:
    """Make a new key pair, write the secret to `out` (mode 0600), keep only the public key.

    Refuses to overwrite an existing file: losing a secret key loses every record
    sealed to it. Returns the new key id.
    """
    public_key, secret_key = crypto.generate_keypair()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("x") as handle:  # "x": fail if the file exists.
        out.chmod(0o600)
        handle.write(
            "# Hamseda sealing secret key\n"
            f"# organisation: {organization.slug}\n"
            f"# key id: {crypto.key_id(public_key)}\n"
            "# Keep this file offline. Whoever holds it can read every supporter's data.\n"
            f"{secret_key}\n"
        )
    organization.public_key = public_key
    organization.save(update_fields=["public_key"])
    return crypto.key_id(public_key)


def read_secret_key_file(path: Path) -> str:
    """The base64 secret key from a file written by `generate_sealing_key`."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    if len(keys) != 1:
        raise crypto.UnusableKey(f"{path} does not hold exactly one key.")
    return keys[0]


@transaction.atomic
def create_organizer(
    *, email: str, password: str, organization: Organization, role: str = Role.OWNER
):
    """Create (or update) a user and give them a role in an organisation."""
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=email, defaults={"email": email})
    user.email = email
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    return user
