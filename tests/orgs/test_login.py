"""Organizer login: e-mail and password, then the second factor; guessing is throttled,
and every login and failed login lands in the audit log."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from hamseda.integrity.models import AuditAction, AuditEvent
from tests.conftest import PASSWORD
from tests.two_factor import SECRET, enable_two_factor, totp_code

LOGIN = reverse("account_login")
AUTHENTICATE = reverse("mfa_authenticate")
DASHBOARD = reverse("organize:dashboard")


def test_a_user_without_two_factor_logs_in_with_a_password(client, owner):
    response = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == DASHBOARD
    assert client.get(DASHBOARD).status_code == 200


def test_with_two_factor_the_password_alone_is_not_enough(client, owner):
    enable_two_factor(owner)
    response = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == AUTHENTICATE
    # Not logged in yet: the organizer pages send the user back to the login.
    assert client.get(DASHBOARD).status_code == 302

    wrong = client.post(AUTHENTICATE, {"code": "000000" if totp_code() != "000000" else "1"})
    assert wrong.status_code == 200
    assert client.get(DASHBOARD).status_code == 302

    response = client.post(AUTHENTICATE, {"code": totp_code(SECRET)})
    assert response.status_code == 302
    assert client.get(DASHBOARD).status_code == 200


def test_the_totp_secret_is_not_stored_in_plain_text(owner):
    enable_two_factor(owner)
    stored = Authenticator.objects.get(user=owner, type=Authenticator.Type.TOTP).data
    assert SECRET not in str(stored)


def test_a_recovery_code_replaces_a_lost_phone(client, owner):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    enable_two_factor(owner)
    codes = RecoveryCodes.activate(owner).get_unused_codes()
    client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    response = client.post(AUTHENTICATE, {"code": codes[0]})
    assert response.status_code == 302
    assert client.get(DASHBOARD).status_code == 200


def test_password_guessing_is_throttled(client, owner):
    for _ in range(5):
        response = client.post(LOGIN, {"login": owner.email, "password": "wrong-password!"})
        assert response.status_code == 200
    # The account is now locked for a while, even with the right password.
    response = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    assert response.status_code in {200, 429}
    assert client.get(DASHBOARD).status_code == 302
    assert "Too many failed login attempts" in response.content.decode()


def test_throttling_keys_on_a_fingerprint_not_the_address(client, owner):
    from django.core.cache import cache

    for _ in range(3):
        client.post(
            LOGIN, {"login": "nobody@example.org", "password": "x" * 12}, REMOTE_ADDR="203.0.113.9"
        )
    keys = list(getattr(cache, "_cache", {}).keys())
    assert keys, "the local-memory cache holds the throttling counters"
    assert not any("203.0.113" in str(key) for key in keys)


def test_logins_and_failed_logins_are_audited(client, owner):
    client.post(LOGIN, {"login": owner.email, "password": "wrong-password!"})
    client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    logins = AuditEvent.objects.filter(action__in=[AuditAction.LOGIN_FAILED, AuditAction.LOGIN])
    actions = list(logins.values_list("action", flat=True).order_by("id"))
    assert actions == [AuditAction.LOGIN_FAILED, AuditAction.LOGIN]


def test_a_failed_login_for_an_unknown_address_is_not_recorded(client, owner):
    client.post(LOGIN, {"login": "someone-else@example.org", "password": "wrong-password!"})
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).exists()


def test_nobody_can_sign_up(client, db):
    response = client.get(reverse("account_signup"))
    assert "account_signup" not in response.content.decode()
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(email="new@example.org").exists()


@pytest.mark.parametrize("language", ["fa", "ps"])
def test_the_login_page_is_in_the_readers_language(client, db, language):
    response = client.get(f"/{language}{LOGIN}")
    assert response.status_code == 200
    assert f'lang="{language}"' in response.content.decode()
    assert 'dir="rtl"' in response.content.decode()


def test_guessing_the_second_factor_is_throttled(client, owner):
    enable_two_factor(owner)
    client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    wrong = "111111" if totp_code() != "111111" else "222222"
    for _ in range(5):
        client.post(AUTHENTICATE, {"code": wrong})
    client.post(AUTHENTICATE, {"code": totp_code()})
    assert client.get(DASHBOARD).status_code == 302
