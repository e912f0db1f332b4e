"""How django-allauth fits Hamseda: nobody signs up on their own, and login throttling
counts clients by a daily-rotating fingerprint instead of their IP address."""

import base64

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from hamseda.network import client_fingerprint
from hamseda.vault import crypto


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Organizer accounts are created by an organisation's owner or an operator.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth keys its rate limits on this value (in the cache); giving it a keyed
        # daily fingerprint keeps IP addresses out of the cache (PRIVACY.md rule 4).
        return client_fingerprint(request)


class MFAAdapter(DefaultMFAAdapter):
    """Two-factor secrets (TOTP keys, recovery-code seeds) are encrypted at rest with a
    key derived from the server secret, which lives outside the database: a stolen
    database or backup alone cannot produce an organizer's codes."""

    def encrypt(self, text: str) -> str:
        return base64.b64encode(crypto.lock({"secret": text})).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.unlock(base64.b64decode(encrypted_text))["secret"]
