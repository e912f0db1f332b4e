"""Logins, logouts, failed logins and 2FA changes go to the audit log of each
organisation the user belongs to. Receivers only: the decisions live in allauth."""

from allauth.mfa import signals as mfa_signals
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from hamseda.integrity.audit import record_for_memberships
from hamseda.integrity.models import AuditAction


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record_for_memberships(AuditAction.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_for_memberships(AuditAction.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Only for existing accounts: what someone typed for an unknown account is not
    # ours to keep.
    email = (credentials.get("email") or credentials.get("username") or "").strip()
    if not email:
        return
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None:
        record_for_memberships(AuditAction.LOGIN_FAILED, user=user)


@receiver(mfa_signals.authenticator_added)
def _two_factor_added(sender, request, user, authenticator, **kwargs):
    record_for_memberships(
        AuditAction.TWO_FACTOR_ADDED, user=user, details={"type": authenticator.type}
    )


@receiver(mfa_signals.authenticator_removed)
def _two_factor_removed(sender, request, user, authenticator, **kwargs):
    record_for_memberships(
        AuditAction.TWO_FACTOR_REMOVED, user=user, details={"type": authenticator.type}
    )
