"""Who may do what in which organisation. Every organizer view asks here."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from hamseda.orgs.models import Membership, Organization, Role

# Which roles may perform each kind of action. Moderators judge content; organizers
# write it; analysts only read numbers; owners may do everything.
CAN_EDIT = {Role.OWNER, Role.ORGANIZER}
CAN_MODERATE = {Role.OWNER, Role.MODERATOR}
CAN_VIEW_NUMBERS = {Role.OWNER, Role.ORGANIZER, Role.MODERATOR, Role.ANALYST}


def role_in(user: AbstractBaseUser | AnonymousUser, organization: Organization) -> str | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user_id=user.pk, organization=organization)
        .values_list("role", flat=True)
        .first()
    )


def has_role(user, organization: Organization, roles: set[str]) -> bool:
    return role_in(user, organization) in roles


def organizations_where(user, roles: set[str]) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(
        memberships__user=user, memberships__role__in=list(roles)
    ).distinct()
