"""Who may do what in which organisation. Every organizer view asks here.

| role      | numbers | edit | moderate, invalidate | export, mail-outs | keys, members, audit |
| --------- | ------- | ---- | -------------------- | ----------------- | -------------------- |
| owner     | yes     | yes  | yes                  | yes (2FA)         | yes (2FA)            |
| organizer | yes     | yes  | no                   | yes (2FA)         | no                   |
| moderator | yes     | no   | yes                  | no                | no                   |
| analyst   | yes     | no   | no                   | no                | no                   |

"Edit" covers updates, milestones, responses and the delivery document; the outcome
page (won or closed, with a closing statement) is open to editors and moderators alike,
since marking a petition won was a moderator's action before it had a statement.

Anyone whose role can read or mail supporters must have set up two-factor login
(PRIVACY.md rule 7); `needs_two_factor()` says whether that is missing.
"""

from collections.abc import Set as AbstractSet

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from hamseda.orgs.models import Membership, Organization, Role

CAN_EDIT = {Role.OWNER, Role.ORGANIZER}
CAN_MODERATE = {Role.OWNER, Role.MODERATOR}
CAN_VIEW_NUMBERS = {Role.OWNER, Role.ORGANIZER, Role.MODERATOR, Role.ANALYST}
# Reading or contacting supporters: export, decrypt-enabled mail-outs.
CAN_EXPORT = {Role.OWNER, Role.ORGANIZER}
CAN_MAIL = {Role.OWNER, Role.ORGANIZER}
# Running the organisation: sealing keys, members and roles, the audit log.
CAN_MANAGE = {Role.OWNER}
# Roles that must have two-factor login before using what their role allows beyond
# reading numbers.
TWO_FACTOR_ROLES = CAN_EXPORT | CAN_MAIL | CAN_MANAGE


def role_in(user: AbstractBaseUser | AnonymousUser, organization: Organization) -> str | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user_id=user.pk, organization=organization)
        .values_list("role", flat=True)
        .first()
    )


def has_role(user, organization: Organization, roles: AbstractSet[str]) -> bool:
    return role_in(user, organization) in roles


def organizations_where(user, roles: AbstractSet[str]) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(
        memberships__user=user, memberships__role__in=list(roles)
    ).distinct()


def has_two_factor(user) -> bool:
    """Has the user set up a second factor (TOTP or passkey) with allauth?"""
    if not user.is_authenticated:
        return False
    from allauth.mfa.utils import is_mfa_enabled

    return is_mfa_enabled(user)


def needs_two_factor(user) -> bool:
    """True for an owner or organizer (anywhere) who has not set up two-factor login."""
    if not user.is_authenticated:
        return False
    if not Membership.objects.filter(user_id=user.pk, role__in=list(TWO_FACTOR_ROLES)).exists():
        return False
    return not has_two_factor(user)


class TwoFactorRequired(PermissionDenied):
    """The role allows the action, but the user has not set up two-factor login."""


def check_access(
    user, organization: Organization, roles: AbstractSet[str], *, two_factor=False
) -> str:
    """The user's role in `organization`, or an exception that becomes the right answer.

    - not a member: Http404, so another organisation's members do not even learn that
      the thing exists;
    - a member without one of `roles`: PermissionDenied (403);
    - `two_factor` and no second factor set up: TwoFactorRequired (403 with a link to
      set one up).
    """
    role = role_in(user, organization)
    if role is None:
        raise Http404
    if role not in roles:
        raise PermissionDenied
    if two_factor and not has_two_factor(user):
        raise TwoFactorRequired
    return role
