"""Shared helpers of the integrity tests: a sign attempt at a given time, as the sign
view makes it (check_signature_attempt, then sign_petition), without the HTTP layer."""

from datetime import timedelta

from hamseda.integrity import checks
from hamseda.petitions import services
from tests.conftest import signer


def form(email: str, now, *, fill_seconds: float = 20, **extra) -> dict:
    """What a person's browser posts: the address and the stamp of when the form was
    served (`fill_seconds` before `now`)."""
    started = checks.form_started_stamp(now - timedelta(seconds=fill_seconds))
    return {"email": email, "started": started, **extra}


def attempt(petition, number: int, *, email: str, fingerprint: str, now, **extra):
    """One sign attempt: the Verdict if refused, else sign_petition's outcome."""
    verdict = checks.check_signature_attempt(
        petition, form(email, now, **extra), fingerprint, now=now
    )
    if not verdict.allowed:
        return verdict
    return services.sign_petition(
        petition,
        signer(number, email=email, network_fingerprint=fingerprint),
        now=now,
        mail_allowed=verdict.mail_allowed,
    )


def is_new(outcome) -> bool:
    return outcome == services.SignatureOutcome.NEW
