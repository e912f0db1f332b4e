"""State changes of organisations and memberships."""

from pathlib import Path

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from hamseda.orgs.models import Membership, Organization, Role, SealingKey
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
    adopt_public_key(organization, public_key)
    return crypto.key_id(public_key)


@transaction.atomic
def adopt_public_key(organization: Organization, public_key: str, *, actor=None, now=None) -> str:
    """Make `public_key` the organisation's current sealing key; retire the previous one.

    New records are sealed to the new key from the moment this commits; records sealed
    to a retired key keep its key id and still open with its secret key.
    """
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction
    from hamseda.orgs.sealing_keys import check_public_key

    check_public_key(public_key)  # Refuse anything records cannot be sealed to.
    now = now or timezone.now()
    new_id = crypto.key_id(public_key)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if SealingKey.objects.filter(key_id=new_id).exists():
        raise crypto.UnusableKey("This key is already known; generate a new one.")
    retired = list(SealingKey.objects.filter(organization=organization, retired_at__isnull=True))
    SealingKey.objects.filter(pk__in=[key.pk for key in retired]).update(retired_at=now)
    label = actor.email if actor is not None and actor.is_authenticated else "system"
    SealingKey.objects.create(
        organization=organization,
        key_id=new_id,
        public_key=public_key,
        created_at=now,
        created_by=label,
    )
    organization.public_key = public_key
    organization.save(update_fields=["public_key"])
    for key in retired:
        record(
            AuditAction.KEY_RETIRED,
            organization=organization,
            actor=actor,
            subject=key.key_id,
            now=now,
        )
    record(AuditAction.KEY_ADDED, organization=organization, actor=actor, subject=new_id, now=now)
    return new_id


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
    # allauth logs in by e-mail through its EmailAddress table; the operator or owner
    # who creates the account vouches for the address.
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction

    old = Membership.objects.filter(user=user, organization=organization).first()
    Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    # The operator's command line is the actor ("system").
    if old is None:
        record(
            AuditAction.MEMBER_ADDED,
            organization=organization,
            subject=email,
            details={"role": role},
        )
    elif old.role != role:
        record(
            AuditAction.ROLE_CHANGED,
            organization=organization,
            subject=email,
            details={"from": old.role, "to": role},
        )
    return user


# --- members and roles (owners only; each change goes to the audit log) -----------------


class MembershipRefused(Exception):
    """A membership change that would leave the organisation in a bad state."""


def _lock_owners(organization: Organization) -> int:
    """Lock the organisation row and count its owners.

    Two owners demoting or removing each other at the same moment would otherwise
    both see "another owner remains" and leave the organisation with none; the row
    lock makes the second change wait for, and see, the first.
    """
    Organization.objects.select_for_update().get(pk=organization.pk)
    return Membership.objects.filter(organization=organization, role=Role.OWNER).count()


@transaction.atomic
def add_member(organization: Organization, *, email: str, role: str, actor, now=None):
    """Give `email` a role; create the account (without a password) if it is new.

    Returns (membership, created_user). A new user sets a password through the
    password-reset link the caller sends (orgs.views.members).
    """
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction

    if role not in Role.values:
        raise MembershipRefused("Unknown role.")
    email = email.strip()
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = user_model(username=email, email=email)
        user.set_unusable_password()
        user.save()
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise MembershipRefused("This person is already a member.")
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    record(
        AuditAction.MEMBER_ADDED,
        organization=organization,
        actor=actor,
        subject=user.email,
        details={"role": role},
        now=now,
    )
    return membership, created


@transaction.atomic
def change_role(membership: Membership, role: str, *, actor, now=None) -> Membership:
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction

    if role not in Role.values:
        raise MembershipRefused("Unknown role.")
    owners = _lock_owners(membership.organization)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and owners <= 1:
        raise MembershipRefused("An organisation needs at least one owner.")
    old = membership.role
    Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role
    record(
        AuditAction.ROLE_CHANGED,
        organization=membership.organization,
        actor=actor,
        subject=membership.user.email,
        details={"from": old, "to": role},
        now=now,
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, actor, now=None) -> None:
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction

    owners = _lock_owners(membership.organization)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    if membership.role == Role.OWNER and owners <= 1:
        raise MembershipRefused("An organisation needs at least one owner.")
    Membership.objects.filter(pk=membership.pk).delete()
    record(
        AuditAction.MEMBER_REMOVED,
        organization=membership.organization,
        actor=actor,
        subject=membership.user.email,
        details={"role": membership.role},
        now=now,
    )


def staff_addresses(organization_id: int) -> list[str]:
    """The addresses of an organisation's active owners and organizers: staff, not
    supporters — the people who decide about its petitions and its supporters' data,
    and who are told of milestones, responses and coming retention purges."""
    return list(
        Membership.objects.filter(
            organization_id=organization_id,
            role__in=[Role.OWNER, Role.ORGANIZER],
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
        .distinct()
    )
