"""One JSON shape for every error of the API, and the checks that produce the errors of
a write request's body (docs/api-write.md, "Errors").

Every error answer of /api/v1/, read or write, is

    {"error": "<code>", "message": "<sentence>", "detail": "<the same sentence>",
     "fields": {"<field>": ["<sentence>", …]}}

- `error` is a stable code in English, for programs (`invalid_key`, `not_found`, …);
- `message` says what went wrong and what to do, in the request's language (a write
  request's `language` field when the body has one, else its Accept-Language);
- `detail` repeats `message`: the first read API answered django-ninja's
  {"detail": …}, and clients written against it keep working;
- `fields` is there only when fields were wrong: each one with its messages.

Never a 500 for a client's mistake: a body that is too big (413), not JSON (415),
malformed (400), of the wrong shape (422) is refused with its reason before any view
code runs (`json_body`), and the handlers installed by `install_error_handlers` turn
django-ninja's exceptions into the shape above.
"""

import json
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

# A write request's body is a few short fields; 64 KiB is far more than any valid one
# (the longest, a reason, is 1,000 characters) and keeps a flood of huge bodies cheap.
MAX_BODY_BYTES = 64 * 1024
# Where the parsed body of a write request is kept on the request for the view.
JSON_ATTRIBUTE = "_hamseda_api_json"
# Every error status a write endpoint can answer (for its OpenAPI description).
WRITE_ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429)
# The realm of the `WWW-Authenticate` challenge of a 401 (RFC 6750).
REALM = "hamseda"


class ErrorOut(Schema):
    """The body of every error answer of the API."""

    error: str = Field(description="A stable code for programs, e.g. `invalid_key`")
    message: str = Field(description="What went wrong and what to do, for people")
    detail: str = Field(description="The same as `message` (kept for the first API's clients)")
    fields: dict[str, list[str]] | None = Field(
        None, description="Only when fields were wrong: the messages of each field"
    )


class ApiError(Exception):
    """A refusal with its HTTP status, stable code and message (and, for wrong fields,
    each field's messages). Raised by the API's services, answered by the handler
    installed here."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields) if fields else None
        self.headers = dict(headers or {})

    def body(self) -> dict:
        return error_body(self.code, self.message, self.fields)


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"error": code, "message": message, "detail": message}
    if fields:
        body["fields"] = {name: [str(text) for text in texts] for name, texts in fields.items()}
    return body


def error_response(error: ApiError) -> HttpResponse:
    """An ApiError as an answer (for code that runs outside django-ninja's handlers)."""
    response = JsonResponse(error.body(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


# --- the handlers ----------------------------------------------------------------------


def install_error_handlers(api) -> None:
    """Make every error of `api` answer in the shape above (called once, in api.views)."""

    def respond(request: HttpRequest, error: ApiError) -> HttpResponse:
        response = api.create_response(request, error.body(), status=error.status)
        for name, value in error.headers.items():
            response[name] = value
        return response

    api.add_exception_handler(ApiError, respond)
    api.add_exception_handler(
        ValidationError, lambda request, exc: respond(request, validation_error(exc.errors))
    )
    api.add_exception_handler(Http404, lambda request, exc: respond(request, not_found()))
    api.add_exception_handler(HttpError, lambda request, exc: respond(request, http_error(exc)))
    api.add_exception_handler(RequestDataTooBig, lambda request, exc: respond(request, too_big()))


def not_found() -> ApiError:
    return ApiError(404, "not_found", _("Not found. Check the address."))


def too_big() -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        _("The body is too large: at most %(size)d KiB, please.")
        % {"size": MAX_BODY_BYTES // 1024},
    )


def unauthorized(message: str, *, code: str = "unauthorized", invalid: bool = False) -> ApiError:
    """A 401 with its challenge (RFC 6750): `invalid` when a key was sent and refused."""
    challenge = f'Bearer realm="{REALM}"'
    if invalid:
        challenge += ', error="invalid_token"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def http_error(exc: HttpError) -> ApiError:
    """django-ninja's own HTTP errors in our shape. With our authentication classes
    (api.auth) a 401 here means that no key was sent at all."""
    if isinstance(exc, AuthenticationError) or exc.status_code == 401:
        return unauthorized(
            _(
                "This needs an API key. Send it in the header "
                "“Authorization: Bearer hsk_…”; an owner of your organisation makes keys on "
                "its API keys page."
            )
        )
    codes = {400: "bad_request", 403: "forbidden", 429: "rate_limited"}
    return ApiError(exc.status_code, codes.get(exc.status_code, "error"), str(exc))


def _field_name(loc: Iterable) -> str:
    """A field's name from a validation error's location: ("body", "payload", "email")
    → "email", ("query", "lang") → "lang"; the whole body → ""."""
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)  # The name of the view's body parameter (api.write).
    return ".".join(parts)


def _message(error: Mapping) -> str:
    """A validation error in words a partner's developer (or signer) understands."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("There is no field of this name. Check its spelling in the API documentation.")
    if kind in {"string_type", "string_unicode"}:
        return _("This must be text (a JSON string).")
    if kind == "bool_type":
        return _("This must be true or false.")
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("This must be a whole number.")
    if kind == "string_too_long":
        return _("This is too long: at most %(limit_value)d characters, please.") % {
            "limit_value": context.get("max_length", 0)
        }
    if kind == "string_too_short":
        return _("This must not be empty.")
    if kind == "literal_error":
        return _("This must be one of: %(choices)s.") % {"choices": context.get("expected", "")}
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return _("This must be a JSON object.")
    if kind in {"greater_than_equal", "greater_than"}:
        return _("This is too small.")
    if kind in {"less_than_equal", "less_than"}:
        return _("This is too large.")
    return str(error.get("msg", _("This value is not valid.")))


def validation_error(errors: Iterable[Mapping]) -> ApiError:
    """django-ninja's validation errors as one 422 with the messages of each field."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        fields.setdefault(_field_name(error.get("loc", ())), []).append(_message(error))
    return ApiError(
        422,
        "invalid_fields",
        _("Some fields are missing or not valid: see “fields”."),
        fields=fields,
    )


# --- the body of a write request ---------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    names = [name for name, _value in pairs]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"the name {name!r} appears twice in one object")
    return dict(pairs)


def parse_json_object(request: HttpRequest) -> dict:
    """The body of a write request as a JSON object, or an ApiError saying why not.

    In this order: too big (413, from Content-Length before reading anything), empty
    (400), not declared as JSON (415), malformed (400: not UTF-8, not JSON, NaN or
    Infinity, a name twice in one object, an escaped lone surrogate, nesting too deep),
    not an object (422). Python's parser is strict about the rest.
    """
    declared = request.META.get("CONTENT_LENGTH") or "0"
    # ASCII digits: str.isdigit() alone takes "²", which int() refuses.
    if not (declared.isascii() and declared.isdigit()) or int(declared) > MAX_BODY_BYTES:
        raise too_big()
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_big() from None
    if len(raw) > MAX_BODY_BYTES:
        raise too_big()
    if not raw.strip():
        raise ApiError(400, "empty_body", _("The body is empty: send a JSON object."))
    content_type = (request.content_type or "").lower()
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if content_type != "application/json" or charset not in {"utf-8", "utf8"}:
        raise ApiError(
            415,
            "unsupported_media_type",
            _("Send the body as JSON, with the header “Content-Type: application/json”."),
        )
    try:
        text = raw.decode("utf-8")
        data = json.loads(
            text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicates
        )
        # An escaped lone surrogate ("\ud800") is valid JSON but not text: it could not
        # be sealed or stored. Checking the encoding once covers every string inside.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError as error:
        raise ApiError(
            400,
            "malformed_json",
            _("The body is not valid JSON: %(problem)s (line %(line)d, column %(column)d).")
            % {"problem": error.msg, "line": error.lineno, "column": error.colno},
        ) from None
    except UnicodeError:
        raise ApiError(
            400,
            "malformed_json",
            _("The body is not valid UTF-8 text (or escapes a lone surrogate)."),
        ) from None
    except (ValueError, RecursionError) as error:
        raise ApiError(
            400,
            "malformed_json",
            _("The body is not valid JSON: %(problem)s.") % {"problem": error},
        ) from None
    if not isinstance(data, dict):
        raise ApiError(
            422, "not_an_object", _('The body must be a JSON object, like {"email": …}.')
        )
    return data


def _language_of(data: Mapping) -> str:
    """The language of a write request's messages: its `language` field if it names one
    of ours, else the one Accept-Language chose (LocaleMiddleware)."""
    wanted = data.get("language")
    if isinstance(wanted, str) and wanted in {code for code, _name in settings.LANGUAGES}:
        return wanted
    return translation.get_language() or settings.LANGUAGE_CODE


def json_body(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For django-ninja's `decorate_view` on a write operation: refuse a body that is not
    a JSON object of a sane size before anything else runs (even authentication: the
    cheapest refusals first), keep the parsed object for the view (`parsed_body`), and
    answer in the request's language."""

    @wraps(run)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            data = parse_json_object(request)
        except ApiError as error:
            return error_response(error)
        setattr(request, JSON_ATTRIBUTE, data)
        with translation.override(_language_of(data)):
            return run(request, *args, **kwargs)

    return checked


def parsed_body(request: HttpRequest) -> dict:
    """The JSON object `json_body` read from this request."""
    return getattr(request, JSON_ATTRIBUTE)
