"""Signing a petition and RSVPing to an event through the API, for partner servers.

The same path as the forms (petitions.services.sign_petition, actions.rsvps.rsvp): the
fields are validated by the forms themselves (SignatureForm, RsvpForm: the same
messages, lengths and rules), the personal data is sealed to the organisation's key,
the pending signature or RSVP and its confirmation mail are written in one
transaction, and only the signer's click on the mailed link makes it count.

Which of the form's integrity checks apply between servers (docs/api-write.md):

- kept: throw-away e-mail domains (422), the per-domain and per-petition limits
  (integrity.rules, the same counters as the form, 429), and the per-address mail
  limit, so that nobody can mail-bomb a stranger through a partner (429);
- replaced by the key's own rate limit (api.keys.check_rate): the per-network limits,
  since every signer of a partner arrives from the partner's one server;
- left out, because they test a browser: the honeypot field, the form's fill time,
  and the proof of work. The partner's own form should do its part against bots; its
  key answers for what it sends, and can be revoked.

Signatures made through a key carry, as their "network fingerprint", a daily keyed
fingerprint of the key: moderators see a partner's signatures of a day as one source
on the integrity page, and can invalidate them together if a key was abused.

A key signs only petitions of its own organisation or that its organisation co-hosts
(Petition.co_hosts), and RSVPs only to events its organisation hosts, or of campaigns
its organisation runs or is a coalition partner of.

The answer never tells whether the address had signed before: a new and a repeated
signature get the same 202 ("check your inbox"), and the mail tells the address's
owner (petitions.services.sign_petition).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hamseda.actions import rsvps
from hamseda.actions.forms import RsvpForm
from hamseda.actions.models import Event, PublicationState
from hamseda.api.errors import ApiError
from hamseda.api.idempotency import Answer
from hamseda.api.models import ApiKey
from hamseda.campaigns.models import CampaignPartner
from hamseda.integrity import checks, disposable, limits, rules
from hamseda.petitions import services
from hamseda.petitions.forms import SignatureForm
from hamseda.petitions.models import Petition, PetitionState
from hamseda.vault import crypto

PENDING = "pending_confirmation"
LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)
# The mail limit counts an hour (integrity.rules, mails_per_address_hour).
MAIL_LIMIT_RETRY_AFTER = 3600

SIGN_TEXT_FIELDS = ("first_name", "last_name", "email", "country", "postcode", "reason")
SIGN_FLAGS = {"show_name": False, "keep_updated": False, "partner_consent": False}
RSVP_TEXT_FIELDS = ("first_name", "last_name", "email")
# On by default, as the form's box is ticked: the reminder carries the safety notes.
RSVP_FLAGS = {"wants_notices": True}

# Called inside the signature's transaction with the answer (api.idempotency).
RecordAnswer = Callable[[Answer], None] | None


@dataclass(frozen=True)
class SignResult:
    """A signature accepted for confirmation (new or repeated: the same result)."""

    petition: Petition
    message: str
    status: str = PENDING

    def answer(self) -> Answer:
        return Answer(202, {"status": self.status, "message": self.message})


@dataclass(frozen=True)
class RsvpResult:
    """An RSVP accepted for confirmation (new or repeated: the same result)."""

    event: Event
    message: str
    status: str = PENDING

    def answer(self) -> Answer:
        return Answer(202, {"status": self.status, "message": self.message})


def key_fingerprint(key: ApiKey, now: datetime) -> str:
    """The "network fingerprint" of a signature made with `key`: daily, keyed."""
    return crypto.day_fingerprint("api-key", str(key.pk), now=now)


def _language(value: str | None, fallback: str) -> str:
    if value is None:
        return fallback if fallback in LANGUAGES else settings.LANGUAGE_CODE
    if value not in LANGUAGES:
        raise ApiError(
            422,
            "invalid_fields",
            _("Some fields are missing or not valid: see “fields”."),
            fields={
                "language": [_("This must be one of: %(choices)s.") % {"choices": "en, fa, ps"}]
            },
        )
    return value


def _invalid(fields: Mapping[str, list[str]]) -> ApiError:
    return ApiError(
        422,
        "invalid_fields",
        _("Some fields are missing or not valid: see “fields”."),
        fields=fields,
    )


def _form_data(fields: Mapping[str, Any], texts: tuple[str, ...], flags: dict[str, bool]) -> dict:
    """The fields as form data, after the checks of types the forms cannot make (for
    callers that did not validate a schema first, e.g. OSDI)."""
    problems: dict[str, list[str]] = {}
    for name in fields:
        if name not in texts and name not in flags:
            problems[name] = [
                _("There is no field of this name. Check its spelling in the API documentation.")
            ]
    data: dict[str, Any] = {}
    for name in texts:
        value = fields.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            problems[name] = [_("This must be text (a JSON string).")]
            continue
        try:
            value.encode("utf-8")
        except UnicodeError:
            problems[name] = [_("This is not valid text.")]
            continue
        data[name] = value
    for name, default in flags.items():
        value = fields.get(name, default)
        if value is None:
            value = default
        if not isinstance(value, bool):
            problems[name] = [_("This must be true or false.")]
            continue
        data[name] = value
    if problems:
        raise _invalid(problems)
    return data


def _form_errors(form) -> dict[str, list[str]]:
    return {
        ("" if name == "__all__" else name): [str(message) for message in messages]
        for name, messages in form.errors.items()
    }


# --- petitions -------------------------------------------------------------------------


def signable_petition(key: ApiKey, slug: str, now: datetime) -> Petition:
    """The petition `key` may sign now, or why not: 404 if there is none (or it is not
    public and not the key's), 403 if it is another organisation's, 409 if it is not
    open."""
    petition = Petition.objects.select_related("organization", "campaign").filter(slug=slug).first()
    if petition is None:
        raise ApiError(404, "not_found", _("There is no petition at this address."))
    own = petition.organization_id == key.organization_id
    if not own and not petition.co_hosts.filter(pk=key.organization_id).exists():
        if not petition.is_public:
            raise ApiError(404, "not_found", _("There is no petition at this address."))
        raise ApiError(
            403,
            "not_your_petition",
            _(
                "Your organisation's key may sign only petitions of your organisation or "
                "petitions it co-hosts, and this is neither."
            ),
        )
    if not petition.is_open(now):
        if petition.state == PetitionState.OPEN and petition.closing_at is not None:
            message = _("This petition closed on %(date)s: it takes no more signatures.") % {
                "date": date_format(petition.closing_at, "Y-m-d")
            }
        else:
            message = _("This petition takes no signatures: it is %(state)s.") % {
                "state": petition.get_state_display().lower()
            }
        raise ApiError(409, "petition_not_open", message)
    return petition


def _partner_share(key: ApiKey, petition: Petition) -> tuple[int, ...]:
    """The co-host to seal the signer's consent to (petitions.partner_consent): the
    calling partner, if it co-hosts the petition and has a sealing key."""
    if petition.organization_id == key.organization_id:
        raise _invalid(
            {
                "partner_consent": [
                    _(
                        "This is your organisation's own petition: its signers' data is "
                        "sealed to your key already. Use keep_updated instead."
                    )
                ]
            }
        )
    if not key.organization.public_key:
        raise _invalid(
            {
                "partner_consent": [
                    _(
                        "Your organisation has no sealing key yet, so it cannot be given "
                        "signers' consent. An owner can make one on the sealing keys page."
                    )
                ]
            }
        )
    return (key.organization_id,)


def _disposable(email: str, rule: Mapping[str, Any]) -> None:
    """Refuse a throw-away address (422), as the forms do when `rule` says so."""
    domain = crypto.email_domain(email)
    if checks.enabled() and rule["refuse_disposable"] and disposable.is_disposable(domain):
        message = _(
            "Addresses from %(domain)s are throw-away addresses, and we cannot accept them: a "
            "signature counts only when a person confirms it later. Please use an address "
            "you keep."
        )
        raise _invalid({"email": [message % {"domain": domain}]})


def _petition_limits(petition: Petition, email: str, now: datetime) -> None:
    """The form's per-domain limit and the petition's flood brake, on the same counters
    as the form (integrity.checks), without the per-network ones (see the docstring)."""
    if not checks.enabled():
        return
    rule = rules.rules_for(petition)
    _disposable(email, rule)
    domain = crypto.email_domain(email)
    windows = [
        window
        for window in checks.limit_windows(petition, "", domain, rule)  # The form's own windows.
        if not window.rule.startswith("network_")
    ]
    over = [count for count in limits.hit(windows, now=now) if count.over]
    if not over:
        return
    retry = max(count.retry_after for count in over)
    if any(count.window.rule == "petition_minute" for count in over):
        code, why = (
            "petition_limit",
            _("So many people are signing right now that we must slow down."),
        )
    else:
        code, why = (
            "domain_limit",
            _("Many signatures have come from this e-mail provider in a short time."),
        )
    raise ApiError(
        429, code, f"{why} {checks.try_again_message(retry)}", headers={"Retry-After": str(retry)}
    )


def _mail_limited() -> ApiError:
    return ApiError(
        429,
        "mail_limited",
        checks.mail_limit_message(),
        headers={"Retry-After": str(MAIL_LIMIT_RETRY_AFTER)},
    )


def api_sign(
    key: ApiKey,
    petition_slug: str,
    fields: Mapping[str, Any],
    *,
    language: str | None,
    now: datetime | None = None,
    record_answer: RecordAnswer = None,
) -> SignResult:
    """Sign a petition for a person, through a partner's key.

    1. The petition must be one the key may sign, and open (404, 403, 409).
    2. The fields are checked for type, then by the sign form (422 with each field's
       messages, in the signer's `language`; None: the petition's language).
    3. `partner_consent`: the signer agreed that the calling partner may contact them;
       sealed to the partner's key (petitions.partner_consent) if it co-hosts the
       petition (422 otherwise).
    4. Integrity: throw-away domains (422), per-domain and flood limits (429).
    5. In one transaction: services.sign_petition (pending signature, confirmation mail
       in the signer's language) and `record_answer` (api.idempotency). Over the mail
       limit nothing is stored (429).
    """
    now = now or timezone.now()
    petition = signable_petition(key, petition_slug, now)
    language = _language(language, petition.default_language)
    with translation.override(language):
        data = _form_data(fields, SIGN_TEXT_FIELDS, SIGN_FLAGS)
        consent = data.pop("partner_consent")
        form = SignatureForm(data)
        if not form.is_valid():
            raise _invalid(_form_errors(form))
        share_with = _partner_share(key, petition) if consent else ()
        _petition_limits(petition, form.cleaned_data["email"], now)
        signer = services.Signer(
            **form.signer_data(),
            language=language,
            network_fingerprint=key_fingerprint(key, now),
            share_with=share_with,
        )
        with transaction.atomic():
            try:
                outcome = services.sign_petition(petition, signer, now=now)
            except services.PetitionNotOpen:
                raise ApiError(
                    409, "petition_not_open", _("This petition takes no more signatures.")
                ) from None
            if outcome == services.SignatureOutcome.MAIL_LIMITED:
                raise _mail_limited()
            result = SignResult(
                petition,
                _(
                    "Almost done: we have sent an e-mail to the signer. The signature counts "
                    "once they follow the link in it. If they had already signed, the e-mail "
                    "tells them so."
                ),
            )
            if record_answer is not None:
                record_answer(result.answer())
    return result


# --- events ------------------------------------------------------------------------------

PUBLIC_EVENT_STATES = {PublicationState.PUBLISHED, PublicationState.CANCELLED}


def rsvp_event(key: ApiKey, slug: str) -> Event:
    """The event `key` may RSVP to: hosted by its organisation, or of a campaign its
    organisation runs or is a partner of. 404 if there is none (or it is not public
    and not the key's), 403 if it is another's."""
    event = (
        Event.objects.select_related("host", "day__campaign")
        .prefetch_related("translations")
        .filter(slug=slug)
        .first()
    )
    if event is None:
        raise ApiError(404, "not_found", _("There is no event at this address."))
    campaign = event.day.campaign
    organization_id = key.organization_id
    allowed = (
        event.host_id == organization_id
        or campaign.organization_id == organization_id
        or CampaignPartner.objects.filter(
            campaign=campaign, organization_id=organization_id
        ).exists()
    )
    if not allowed:
        public = event.state in PUBLIC_EVENT_STATES and event.day.state in PUBLIC_EVENT_STATES
        if not public:
            raise ApiError(404, "not_found", _("There is no event at this address."))
        raise ApiError(
            403,
            "not_your_event",
            _(
                "Your organisation's key may RSVP only to events your organisation hosts or "
                "of campaigns it runs or is a partner of, and this is none of them."
            ),
        )
    return event


def _refused(refusal: rsvps.RsvpRefused) -> ApiError:
    # Every refusal of an event is about its state (cancelled, over, full, unpublished,
    # its host without a key): a conflict with the event as it is now.
    return ApiError(409, "event_not_open", str(refusal))


def api_rsvp(
    key: ApiKey,
    event_slug: str,
    fields: Mapping[str, Any],
    *,
    language: str | None,
    now: datetime | None = None,
    record_answer: RecordAnswer = None,
) -> RsvpResult:
    """RSVP a person to an event, through a partner's key: the RSVP form's validation,
    throw-away domains refused, the RSVP and its confirmation mail in one transaction
    with `record_answer` (see api_sign); over the mail limit nothing is stored (429)."""
    now = now or timezone.now()
    event = rsvp_event(key, event_slug)
    if event.day.state not in PUBLIC_EVENT_STATES:
        raise ApiError(409, "event_not_open", _("This event is not open for RSVPs."))
    language = _language(language, event.day.campaign.default_language)
    with translation.override(language):
        try:
            rsvps.check_open(event, now)
        except rsvps.RsvpRefused as refusal:
            raise _refused(refusal) from None
        data = _form_data(fields, RSVP_TEXT_FIELDS, RSVP_FLAGS)
        form = RsvpForm(data)
        if not form.is_valid():
            raise _invalid(_form_errors(form))
        _disposable(form.cleaned_data["email"], rules.site_rules())
        attendee = rsvps.Attendee(
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            email=form.cleaned_data["email"],
            language=language,
            wants_notices=form.cleaned_data["wants_notices"],
            network_fingerprint=key_fingerprint(key, now),
        )
        with transaction.atomic():
            try:
                outcome = rsvps.rsvp(event, attendee, now=now)
            except rsvps.RsvpRefused as refusal:
                raise _refused(refusal) from None
            if outcome == rsvps.RsvpOutcome.MAIL_LIMITED:
                raise _mail_limited()
            result = RsvpResult(
                event,
                _(
                    "Almost done: we have sent an e-mail to the attendee. The RSVP counts once "
                    "they follow the link in it. If they had already said they are coming, the "
                    "e-mail tells them so."
                ),
            )
            if record_answer is not None:
                record_answer(result.answer())
    return result
