"""Two-factor login in tests: give a user a TOTP authenticator, compute its codes."""

import time

from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

# A fixed base32 TOTP secret for tests.
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enable_two_factor(user, secret: str = SECRET) -> str:
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str = SECRET, *, at: float | None = None) -> str:
    counter = int(at if at is not None else time.time()) // 30
    return format_hotp_value(hotp_value(secret, counter))
