"""The write API for partners: sign a petition, RSVP to an event (docs/api-write.md).

Mounted on the public API (api.views), so both are in one OpenAPI document. Each
request goes through, in this order:

1. `errors.json_body`: the body must be a JSON object of at most 64 KiB sent as
   `application/json` (413, 415, 400, 422);
2. `auth.key_auth`: an API key with the operation's scope, under its rate limit
   (401, 403, 429);
3. the schema below: known fields only, of the right types and lengths (422);
4. `idempotency.run_once` with the request's `Idempotency-Key`, if any (a replay, 409,
   422), around `signing.api_sign` / `api_rsvp` (404, 403, 409, 422, 429, then 202).
"""

from typing import Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Header, Router, Schema
from ninja.decorators import decorate_view
from pydantic import ConfigDict, StrictBool, StrictStr

from hamseda.api import idempotency, signing
from hamseda.api.auth import key_auth
from hamseda.api.errors import WRITE_ERROR_STATUSES, ErrorOut, json_body, parsed_body
from hamseda.api.models import Scope
from hamseda.petitions.countries import CODES

router = Router(tags=["write"])

Language = Literal["en", "fa", "ps"]

STRICT = ConfigDict(extra="forbid", strict=True)
# Checked by the forms (Django's EmailValidator, throw-away domains); "format" documents it.
EMAIL = Field(
    min_length=3,
    max_length=254,
    description="Where the confirmation link is mailed",
    json_schema_extra={"format": "email"},
)


class SignatureIn(Schema):
    """A person's signature, as the sign form asks for it."""

    model_config = STRICT

    first_name: StrictStr = Field(min_length=1, max_length=100)
    last_name: StrictStr = Field(min_length=1, max_length=100)
    email: StrictStr = EMAIL
    # The list of codes is in the document; the sign form checks it (with its message).
    country: StrictStr = Field(
        min_length=2,
        max_length=2,
        description="ISO 3166-1 alpha-2 code, e.g. `AF`",
        json_schema_extra={"enum": sorted(CODES)},
    )
    postcode: StrictStr = Field("", max_length=20)
    reason: StrictStr = Field("", max_length=1000, description="Why they sign (optional)")
    show_name: StrictBool = Field(False, description="Show their first name publicly")
    keep_updated: StrictBool = Field(
        False, description="They want updates about this petition from its organisation"
    )
    partner_consent: StrictBool = Field(
        False,
        description=(
            "They agreed that YOUR organisation, a co-host of the petition, may contact "
            "them about its work. Sealed to your organisation's key; only for co-hosted "
            "petitions."
        ),
    )
    language: Language | None = Field(
        None,
        description=(
            "The signer's language: of the confirmation mail and of the messages in the "
            "answer. Default: the petition's language."
        ),
    )


class RsvpIn(Schema):
    """A person coming to an event, as the RSVP form asks for it."""

    model_config = STRICT

    first_name: StrictStr = Field(min_length=1, max_length=100)
    last_name: StrictStr = Field(min_length=1, max_length=100)
    email: StrictStr = EMAIL
    wants_notices: StrictBool = Field(
        True,
        description=(
            "A reminder the day before and notices of changes; keeps the address (locked "
            "on the server) until the event is over"
        ),
    )
    language: Language | None = Field(
        None, description="The attendee's language. Default: the campaign's language."
    )


class PendingOut(Schema):
    status: Literal["pending_confirmation"] = Field(
        description="The same for a new and a repeated signature: nobody learns who signed"
    )
    message: str


RESPONSES = {202: PendingOut, WRITE_ERROR_STATUSES: ErrorOut}

_HEADER = {"schema": {"type": "string"}}
RESPONSE_DOCS = {
    "responses": {
        "202": {
            "description": "Accepted: the person is mailed a link; it counts once they follow it",
            "headers": {
                idempotency.REPLAYED_HEADER: {
                    **_HEADER,
                    "description": "`true` when this is the stored answer to an earlier request",
                }
            },
        },
        "400": {"description": "The body is empty or not valid JSON, or a bad Idempotency-Key"},
        "401": {
            "description": "No API key, or an unknown, revoked or expired one",
            "headers": {"WWW-Authenticate": _HEADER},
        },
        "403": {"description": "The key lacks the scope, or it is not your organisation's"},
        "404": {"description": "There is no such petition or event"},
        "409": {"description": "Not open, or a request with this Idempotency-Key in progress"},
        "413": {"description": "The body is over 64 KiB"},
        "415": {"description": "The body is not sent as application/json"},
        "422": {"description": "Wrong fields (see `fields`), or an Idempotency-Key reused"},
        "429": {
            "description": "Over the key's rate limit or an integrity limit",
            "headers": {"Retry-After": _HEADER},
        },
    }
}


def _answer(answer: idempotency.Answer) -> HttpResponse:
    response = JsonResponse(answer.body, status=answer.status)
    if answer.replayed:
        response[idempotency.REPLAYED_HEADER] = "true"
    return response


def _write(request: HttpRequest, idempotency_key: str | None, work) -> HttpResponse:
    key = request.auth  # type: ignore[attr-defined]
    fingerprint = idempotency.request_hash(
        request.method or "POST", request.path, parsed_body(request)
    )
    answer = idempotency.run_once(key, idempotency.parse_key(idempotency_key), fingerprint, work)
    return _answer(answer)


IDEMPOTENCY_KEY = Header(
    None,
    alias=idempotency.HEADER,
    description=(
        "A key of your choice (e.g. a UUID), the same when you retry the same request: "
        "it is then answered once, and never signs twice. Kept 24 hours."
    ),
)


@router.post(
    "/petitions/{slug}/signatures",
    auth=key_auth(Scope.SIGN),
    response=RESPONSES,
    summary="Sign a petition",
    openapi_extra=RESPONSE_DOCS,
)
@decorate_view(json_body)
def sign(
    request: HttpRequest,
    slug: str,
    payload: SignatureIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """Sign a petition of your organisation, or one it co-hosts, for a person. They are
    mailed a confirmation link in their language; the signature counts once they follow
    it. Needs a key with the scope `sign`."""
    fields = payload.model_dump(exclude={"language"})
    return _write(
        request,
        idempotency_key,
        lambda record: signing.api_sign(
            request.auth,  # type: ignore[attr-defined]
            slug,
            fields,
            language=payload.language,
            record_answer=record,
        ).answer(),
    )


@router.post(
    "/events/{slug}/rsvps",
    auth=key_auth(Scope.RSVP),
    response=RESPONSES,
    summary="RSVP to an event",
    openapi_extra=RESPONSE_DOCS,
)
@decorate_view(json_body)
def rsvp(
    request: HttpRequest,
    slug: str,
    payload: RsvpIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    """Say a person is coming to an event your organisation hosts, or of a campaign it
    runs or partners. They are mailed a confirmation link; the RSVP counts once they
    follow it. Needs a key with the scope `rsvp`."""
    fields = payload.model_dump(exclude={"language"})
    return _write(
        request,
        idempotency_key,
        lambda record: signing.api_rsvp(
            request.auth,  # type: ignore[attr-defined]
            slug,
            fields,
            language=payload.language,
            record_answer=record,
        ).answer(),
    )
