"""The OSDI endpoints under /api/osdi/v1/ (docs/api-osdi-webhooks.md).

Reads are public, like the JSON API: the entry point, petitions and events with their
counts. Writes are the record signature and record attendance helpers, for partners
with an API key (`OSDI-API-Token: hsk_…` or `Authorization: Bearer hsk_…`), through
the same write path as the JSON API (api.signing, api.idempotency).

The signatures and attendances collections are never listed (PRIVACY.md rule 5: no
list of people, to anyone, through the API): a GET is answered 403 with the reason,
and the count is the petition's `total_signatures` or the event's `total_accepted`.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from hamseda.api import auth, idempotency, signing
from hamseda.api.errors import ApiError, parse_json_object, unauthorized
from hamseda.api.idempotency import Answer
from hamseda.api.models import ApiKey, Scope
from hamseda.api.osdi import hal, helpers, resources
from hamseda.links import absolute_url

READS = "GET, HEAD, OPTIONS"
HELPERS = "POST"
MOTD = "Hamseda: public petitions and events with their confirmed counts. Signers are never listed."


def _read_only(request: HttpRequest) -> None:
    if request.method not in hal.READ_METHODS:
        raise hal.not_allowed(READS)


@hal.osdi_view()
def entry_point(request: HttpRequest) -> HttpResponse:
    """The API entry point (aep.md): what this server offers, and where."""
    _read_only(request)
    return hal.hal_response(
        {
            "motd": MOTD,
            "max_pagesize": hal.MAX_PAGESIZE,
            "vendor_name": hal.VENDOR,
            "product_name": hal.VENDOR,
            "osdi_version": hal.OSDI_VERSION,
            "namespace": "hamseda",
            "_links": {
                "curies": hal.CURIES,
                "self": {**hal.href("entry_point"), "title": "This API entry point"},
                "osdi:petitions": {
                    **hal.href("petitions"),
                    "title": "The collection of public petitions",
                },
                "osdi:events": {**hal.href("events"), "title": "The collection of public events"},
                "docs": {
                    "href": absolute_url("/api/v1/docs"),
                    "title": "Documentation of the Hamseda API",
                },
            },
        }
    )


@hal.osdi_view()
def petitions(request: HttpRequest) -> HttpResponse:
    _read_only(request)
    paging = hal.paging(request)
    queryset = resources.public_petitions()
    start = (paging.page - 1) * paging.per_page
    with hal.speaking(paging.language):
        items = [
            resources.petition_resource(petition)
            for petition in queryset[start : start + paging.per_page]
        ]
        body = hal.collection("petitions", "osdi:petitions", items, queryset.count(), paging)
    return hal.hal_response(body)


@hal.osdi_view()
def petition(request: HttpRequest, slug: str) -> HttpResponse:
    _read_only(request)
    language = hal.language(request)
    found = resources.public_petitions().filter(slug=slug).first()
    if found is None:
        raise hal.not_found()
    with hal.speaking(language):
        return hal.hal_response(resources.petition_resource(found, curies=True))


@hal.osdi_view()
def events(request: HttpRequest) -> HttpResponse:
    _read_only(request)
    paging = hal.paging(request)
    queryset = resources.public_events()
    start = (paging.page - 1) * paging.per_page
    with hal.speaking(paging.language):
        items = [
            resources.event_resource(event) for event in queryset[start : start + paging.per_page]
        ]
        body = hal.collection("events", "osdi:events", items, queryset.count(), paging)
    return hal.hal_response(body)


@hal.osdi_view()
def event(request: HttpRequest, slug: str) -> HttpResponse:
    _read_only(request)
    language = hal.language(request)
    found = resources.public_events().filter(slug=slug).first()
    if found is None:
        raise hal.not_found()
    with hal.speaking(language):
        return hal.hal_response(resources.event_resource(found, curies=True))


# --- the helpers ---------------------------------------------------------------------


def _never_listed(what: str, count_field: str) -> ApiError:
    return ApiError(
        403,
        "not_listed",
        _(
            "Hamseda never lists %(what)s, to anyone: a list of the people who signed or "
            "come could endanger them. The count is in the field %(field)s; to add one, "
            "POST to this address or to the record helper."
        )
        % {"what": what, "field": count_field},
    )


def _body(request: HttpRequest) -> dict:
    """The JSON object of a helper POST (api.errors.parse_json_object: size, type,
    syntax). OSDI clients may declare their JSON as HAL."""
    if (request.content_type or "").lower() == hal.HAL:
        request.content_type = "application/json"
    return parse_json_object(request)


def _key(request: HttpRequest, scope: Scope) -> ApiKey:
    """The partner's key from `OSDI-API-Token` (OSDI's header) or `Authorization:
    Bearer`, allowed `scope` now (api.auth.check_key: 401, 403, 429)."""
    raw = request.headers.get("OSDI-API-Token", "")
    if not raw:
        scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
        raw = token if scheme.lower() == "bearer" else ""
    key = auth.check_key(raw.strip() or None, str(scope))
    if key is None:
        raise unauthorized(
            _(
                "This needs an API key. Send it in the header “OSDI-API-Token: hsk_…”; an "
                "owner of your organisation makes keys on its API keys page."
            )
        )
    return key


def _record(
    request: HttpRequest,
    scope: Scope,
    to_fields: Callable[[dict], dict],
    act: Callable[..., signing.SignResult | signing.RsvpResult],
    resource: Callable[[dict], dict],
) -> HttpResponse:
    """A record helper: body, key, fields, then the write API's `act` once per
    Idempotency-Key, its answer in OSDI's shape (also when replayed)."""
    data = _body(request)
    key = _key(request, scope)
    fields = to_fields(data)
    language = helpers.language_of(data)
    idempotency_key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    fingerprint = idempotency.request_hash("POST", request.path, data)

    def work(finish) -> Answer:
        answers: list[Answer] = []

        def record(answer: Answer) -> None:
            # Inside the signature's transaction: the OSDI answer is what is stored,
            # so that a replay answers exactly the same.
            answers.append(Answer(answer.status, resource(answer.body)))
            if finish is not None:
                finish(answers[0])

        try:
            result = act(key, fields, language=language, record_answer=record)
        except ApiError as error:
            raise helpers.osdi_error(error) from None
        return answers[0] if answers else Answer(202, resource(result.answer().body))

    answer = idempotency.run_once(key, idempotency_key, fingerprint, work)
    headers = {idempotency.REPLAYED_HEADER: "true"} if answer.replayed else {}
    return hal.hal_response(answer.body, status=answer.status, headers=headers)


def _action(body: dict, rel: str, link: dict) -> dict:
    """The answer to a helper: the pending action, without any id or personal data (a
    new and a repeated signature must look the same, and it is kept for replays)."""
    return {
        "origin_system": hal.VENDOR,
        "action_date": hal.when(timezone.now()),
        "status": body.get("status", signing.PENDING),
        "message": body.get("message", ""),
        "_links": {rel: link, "curies": hal.CURIES},
    }


def _sign(request: HttpRequest, slug: str) -> HttpResponse:
    return _record(
        request,
        Scope.SIGN,
        helpers.signature_fields,
        lambda key, fields, **kwargs: signing.api_sign(key, slug, fields, **kwargs),
        lambda body: _action(body, "osdi:petition", hal.href("petition", slug)),
    )


def _attend(request: HttpRequest, slug: str) -> HttpResponse:
    return _record(
        request,
        Scope.RSVP,
        helpers.attendance_fields,
        lambda key, fields, **kwargs: signing.api_rsvp(key, slug, fields, **kwargs),
        lambda body: _action(body, "osdi:event", hal.href("event", slug)),
    )


@csrf_exempt  # Server to server with an API key in a header; no cookie is used.
@hal.osdi_view(resource="osdi:signature")
def signatures(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: 403, never a list. POST: the record signature helper."""
    if request.method == "POST":
        return _sign(request, slug)
    if request.method not in hal.READ_METHODS:
        raise hal.not_allowed("GET, HEAD, POST")
    raise _never_listed(_("signers"), "total_signatures")


@csrf_exempt
@hal.osdi_view(resource="osdi:signature")
def record_signature_helper(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        raise hal.not_allowed(HELPERS)
    return _sign(request, slug)


@csrf_exempt
@hal.osdi_view(resource="osdi:attendance")
def attendances(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: 403, never a list. POST: the record attendance helper."""
    if request.method == "POST":
        return _attend(request, slug)
    if request.method not in hal.READ_METHODS:
        raise hal.not_allowed("GET, HEAD, POST")
    raise _never_listed(_("attendees"), "total_accepted")


@csrf_exempt
@hal.osdi_view(resource="osdi:attendance")
def record_attendance_helper(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        raise hal.not_allowed(HELPERS)
    return _attend(request, slug)
