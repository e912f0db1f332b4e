"""Decision-makers' responses to a petition: a private response link mailed to each
target with an e-mail address, the public page where they answer, and responses the
organisers record from a letter or a meeting.

The link carries a random token; the database keeps only its SHA-256
(vault.crypto.token_hash), so a stolen database cannot answer in anyone's name.

Asking again (a milestone, or the organisers' "Ask now" button) is a new question: the
decision-maker's ResponseRequest gets a new token, a new expiry and `used_at` cleared,
so the earlier link stops working and the new one can be used once, even if they have
answered before (as the UK petitions site asks again at a higher milestone). Earlier
responses stay on the page. Each link gives at most one response: `respond()` claims it
with a conditional UPDATE of `used_at`, so a double submit creates one.
"""

import secrets
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hamseda.api import webhooks
from hamseda.languages import CODES
from hamseda.links import absolute_url
from hamseda.mail.services import queue_message
from hamseda.orgs.services import staff_addresses
from hamseda.petitions import pagecache
from hamseda.petitions.models import (
    DecisionMaker,
    Petition,
    Response,
    ResponseRequest,
    ResponseSource,
)
from hamseda.vault import crypto

REQUEST_DAYS = 90
MAX_BODY = 20_000
# Ours are 48 characters; anything much longer is not worth hashing.
MAX_TOKEN = 100


class LinkOutcome(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    INVALID = "invalid"


class ResponseError(Exception):
    """Input a response cannot be made of; str() is a translated message."""


class LinkRefused(Exception):
    """The response link does not allow a response (used, expired or unknown)."""

    def __init__(self, outcome: LinkOutcome):
        super().__init__(outcome.value)
        self.outcome = outcome


def _token() -> tuple[str, str]:
    """A new link token (192 random bits) and the hash the database keeps of it.

    Hex rather than base64: the log filter (privatelogs) redacts path segments dense in
    digits and capitals, and 48 hex characters are always dense enough (a base64 token
    falls below its threshold about once in 20,000)."""
    token = secrets.token_hex(24)
    return token, crypto.token_hash(token)


def mail_language(language: str, petition: Petition) -> str:
    return language if language in CODES else petition.default_language


def response_url(petition: Petition, token: str, language: str) -> str:
    with translation.override(language):
        return absolute_url(reverse("outcomes:respond", args=[petition.slug, token]))


def request_responses(
    petition: Petition, *, decision_makers=None, now: datetime | None = None
) -> int:
    """Send each target with an e-mail address (or those of `decision_makers` that are
    targets of the petition) a new private response link, valid REQUEST_DAYS. Returns
    how many were asked. The mails are queued in this transaction (the outbox), so a
    request exists exactly when its mail is on its way."""
    now = now or timezone.now()
    targets = petition.targets.exclude(email="").order_by("pk")
    if decision_makers is not None:
        targets = targets.filter(pk__in=[target.pk for target in decision_makers])
    asked = 0
    with transaction.atomic():
        for target in targets:
            token, token_hash = _token()
            expires_at = now + timedelta(days=REQUEST_DAYS)
            ResponseRequest.objects.update_or_create(
                petition=petition,
                decision_maker=target,
                defaults={
                    "token_hash": token_hash,
                    "created_at": now,
                    "expires_at": expires_at,
                    "used_at": None,
                },
            )
            earlier = (
                Response.objects.filter(petition=petition, decision_maker=target)
                .values_list("responded_on", flat=True)
                .first()
            )
            language = mail_language(target.language, petition)
            queue_message(
                kind="response-request",
                to=target.email,
                template="petitions/mail/staff/response_request.txt",
                context={
                    "petition_id": petition.pk,
                    "name": target.name,
                    "url": response_url(petition, token, language),
                    "expires_on": expires_at.date().isoformat(),
                    "responded_before": earlier.isoformat() if earlier else "",
                },
                language=language,
                now=now,
            )
            asked += 1
    return asked


def _request_for(petition: Petition, token: str) -> ResponseRequest | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    return (
        ResponseRequest.objects.filter(petition=petition, token_hash=crypto.token_hash(token))
        .select_related("decision_maker")
        .first()
    )


def _outcome(request: ResponseRequest | None, now: datetime) -> LinkOutcome:
    if request is None:
        return LinkOutcome.INVALID
    if request.used_at is not None:
        return LinkOutcome.USED
    if request.expires_at <= now:
        return LinkOutcome.EXPIRED
    return LinkOutcome.VALID


def check_response_link(
    petition: Petition, token: str, now: datetime | None = None
) -> tuple[LinkOutcome, ResponseRequest | None]:
    """What a response link allows, changing nothing (mail scanners open links)."""
    request = _request_for(petition, token)
    return _outcome(request, now or timezone.now()), request


def clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ResponseError(_("Please write the response."))
    if len(body) > MAX_BODY:
        raise ResponseError(
            _("A response is at most %(max)s characters.") % {"max": f"{MAX_BODY:,}"}
        )
    if "\x00" in body:
        raise ResponseError(_("The response contains a character that cannot be stored."))
    return body


def clean_language(language: str) -> str:
    if language not in CODES:
        raise ResponseError(_("Choose the language of the response."))
    return language


def respond(
    petition: Petition, token: str, *, body: str, language: str, now: datetime | None = None
) -> Response:
    """Publish a decision-maker's response given through their link.

    1. Check the input (ResponseError) and the link (LinkRefused).
    2. In one transaction, claim the link with a conditional UPDATE (`used_at` still
       empty, not expired, token unchanged): of two submits racing, one gets it and the
       other sees LinkRefused(USED).
    3. Create the response, dated today (UTC), and mail the organisers.
    4. On commit, drop the cached petition pages so it shows at once.
    """
    now = now or timezone.now()
    body = clean_body(body)
    language = clean_language(language)
    request = _request_for(petition, token)
    outcome = _outcome(request, now)
    if request is None or outcome != LinkOutcome.VALID:
        raise LinkRefused(outcome)
    with transaction.atomic():
        claimed = ResponseRequest.objects.filter(
            pk=request.pk, token_hash=request.token_hash, used_at=None, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            # Used (or replaced by a new request) since we looked.
            raise LinkRefused(_outcome(_request_for(petition, token), now))
        response = Response.objects.create(
            petition=petition,
            decision_maker=request.decision_maker,
            language=language,
            body=body,
            responded_on=timezone.localdate(now),
            source=ResponseSource.LINK,
            created_at=now,
        )
        _tell_organisers(petition, response, now)
        webhooks.queue_response(response, now=now)  # Partners' webhooks (api.webhooks).
        transaction.on_commit(lambda: pagecache.forget(petition.slug))
    return response


def _tell_organisers(petition: Petition, response: Response, now: datetime) -> None:
    """Mail the owners and organizers that a response arrived, with the page to manage
    it. The mail offers the mail-out page to tell the signers; its address is looked up
    when the mail is rendered (mail-outs may not be installed)."""
    language = petition.default_language
    with translation.override(language):
        responses_url = absolute_url(reverse("outcomes:responses", args=[petition.slug]))
        page_url = absolute_url(petition.get_absolute_url())
    for address in staff_addresses(petition.organization_id):
        queue_message(
            kind="response-received",
            to=address,
            template="petitions/mail/staff/response_received.txt",
            context={
                "petition_id": petition.pk,
                "name": response.decision_maker.name,
                "response_id": response.pk,
                "responded_on": response.responded_on.isoformat(),
                "responses_url": responses_url,
                "page_url": f"{page_url}#response-{response.pk}",
                "base_url": absolute_url(""),
            },
            language=language,
            now=now,
        )


def record_response(
    petition: Petition,
    *,
    decision_maker: DecisionMaker,
    body: str,
    language: str,
    responded_on: date,
    recorded_by=None,
    now: datetime | None = None,
) -> Response:
    """Publish a response the organisers received another way (a letter, a meeting)."""
    now = now or timezone.now()
    body = clean_body(body)
    language = clean_language(language)
    if not petition.targets.filter(pk=decision_maker.pk).exists():
        raise ResponseError(_("Choose one of the petition's decision-makers."))
    if responded_on > timezone.localdate(now):
        raise ResponseError(_("The date of a response cannot be in the future."))
    with transaction.atomic():
        response = Response.objects.create(
            petition=petition,
            decision_maker=decision_maker,
            language=language,
            body=body,
            responded_on=responded_on,
            source=ResponseSource.OFFLINE,
            recorded_by=recorded_by,
            created_at=now,
        )
        webhooks.queue_response(response, now=now)  # Partners' webhooks (api.webhooks).
        transaction.on_commit(lambda: pagecache.forget(petition.slug))
    return response


def _set_hidden(response: Response, hidden: bool) -> Response:
    with transaction.atomic():
        Response.objects.filter(pk=response.pk).update(hidden=hidden)
        slug = response.petition.slug
        transaction.on_commit(lambda: pagecache.forget(slug))
    response.hidden = hidden
    return response


def hide_response(response: Response) -> Response:
    """Take a response off the public page (it stays on record for the organisers)."""
    return _set_hidden(response, True)


def show_response(response: Response) -> Response:
    return _set_hidden(response, False)


def update_contact(target: DecisionMaker, *, email: str, language: str) -> DecisionMaker:
    """Change where a decision-maker's response requests go (an official contact,
    kept in the clear) and their language. The form validates the address."""
    target.email = email.strip()
    target.language = clean_language(language)
    target.save(update_fields=["email", "language"])
    return target


def visible_responses(petition: Petition):
    return (
        Response.objects.filter(petition=petition, hidden=False)
        .select_related("decision_maker")
        .order_by("-responded_on", "-created_at")
    )


def latest_link_response(request: ResponseRequest) -> Response | None:
    """The visible response given through a used link (for the "already answered"
    page): the latest of that decision-maker on that petition."""
    return (
        visible_responses(request.petition)
        .filter(decision_maker_id=request.decision_maker_id, source=ResponseSource.LINK)
        .first()
    )
