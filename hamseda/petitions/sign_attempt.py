"""One signature attempt from a browser form, shared by the petition page's sign view
and the embeddable form's (api.widget): validate the form, run the integrity checks,
sign. Each view only renders the result its own way."""

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, QueryDict

from hamseda.integrity import checks as integrity
from hamseda.languages import current_language
from hamseda.network import client_fingerprint
from hamseda.petitions import partner_consent, services, sources
from hamseda.petitions.forms import SignatureForm
from hamseda.petitions.models import Petition


@dataclass(frozen=True)
class SignAttempt:
    """What became of the attempt. `signed` also for a repeated address: the answer
    must not tell whether it had signed (services.sign_petition mails its owner)."""

    status: int  # 200 signed; 400 invalid form; 409 closed; 429/403 refused or limited
    form: SignatureForm | None
    signed: bool = False
    generation: int = 0  # the sharer generation of the thanks page's share links
    verdict: integrity.Verdict | None = None  # refused by the integrity checks
    message: str = ""  # why, for the page


def attempt_signature(
    request: HttpRequest, petition: Petition, data: QueryDict, *, source: str, now: datetime
) -> SignAttempt:
    """1. Validate the form (the co-host boxes' choices are looked up only if needed).
    2. Run the integrity checks; their counters commit on their own, before the
       signature's transaction: one short statement, so the signature's write lock is
       not held for them (on SQLite, the only writer's lock; docs/integrity.md).
    3. Sign (pending, with its confirmation mail queued in the same transaction)."""
    if not petition.is_open(now):
        return SignAttempt(status=409, form=None)
    form = SignatureForm(data, partners=partner_consent.lazy_consent_choices(petition))
    if not form.is_valid():
        return SignAttempt(status=400, form=form)
    fingerprint = client_fingerprint(request, now=now)
    attribution = sources.attribute(source, petition.pk)
    signer = services.Signer(
        **form.signer_data(),
        language=current_language(),
        network_fingerprint=fingerprint,
        source_channel=attribution.channel,
        source_generation=attribution.generation,
        source_code=attribution.sharer,
    )
    verdict = integrity.check_signature_attempt(
        petition, {**data.dict(), **form.cleaned_data}, fingerprint, now=now
    )
    if not verdict.allowed:
        return SignAttempt(
            status=verdict.status, form=form, verdict=verdict, message=verdict.message
        )
    try:
        outcome = services.sign_petition(
            petition, signer, now=now, mail_allowed=verdict.mail_allowed
        )
    except services.PetitionNotOpen:
        return SignAttempt(status=409, form=None)
    if outcome == services.SignatureOutcome.MAIL_LIMITED:
        return SignAttempt(status=429, form=form, message=integrity.mail_limit_message())
    return SignAttempt(status=200, form=form, signed=True, generation=attribution.generation)
