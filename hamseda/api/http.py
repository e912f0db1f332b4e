"""HTTP behaviour shared by every answer under /api/v1/: validators, cache headers,
CORS for reads, `Vary`, HEAD, and JSON for every error.

One middleware does it for the whole API, so that the read endpoints, django-ninja's
own answers (405, the OpenAPI document, the docs page), the partners' write endpoints
and Django's error pages all follow the same rules:

- A GET or HEAD answer below 500 may be cached by anyone and read from any origin:
  `Cache-Control: public, max-age=…` (the endpoint's own, else DEFAULT_MAX_AGE) and
  `Access-Control-Allow-Origin: *`. A 200 carries a strong `ETag` (a hash of the body),
  and a request whose `If-None-Match` names it gets a `304 Not Modified` without body.
- Any other answer (writes, and every server error) gets `Cache-Control: no-store`
  unless the endpoint set its own, and no CORS header from here: writes are made
  server to server with an API key (docs/api.md). A server error is always `no-store`.
- A CORS preflight (`OPTIONS` with `Access-Control-Request-Method: GET`) is answered
  here, for any API path; a preflight for another method is left to the API, which
  does not grant it.
- Read answers do not depend on `Accept-Language` (the language is the `lang` query
  parameter), so the `Vary: Accept-Language` and `Content-Language` that Django's
  LocaleMiddleware adds to every unprefixed URL are taken off again: they would split
  every shared cache by the readers' browser languages for nothing.
- HEAD is answered like GET, without the body (django-ninja routes GET only).
- An error answer that is not JSON (django-ninja's 405, Django's 500 page) gets the
  API's error body (api.errors): `{"error": "<code>", "message": …, "detail": …}`.

The middleware sits before LocaleMiddleware in settings.MIDDLEWARE, so it sees the
answer after LocaleMiddleware and CommonMiddleware have had their say.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    set_response_etag,
)

from hamseda.api.errors import error_body

PREFIX = "/api/v1/"
# Counts move by the second on a busy day; 15 seconds lets a proxy or a CDN absorb a
# crowd of readers while the numbers still look live. Endpoints may say otherwise.
DEFAULT_MAX_AGE = 15
READ_METHODS = frozenset({"GET", "HEAD"})
# Response headers a script on another origin may read: the validator, so that it can
# send If-None-Match itself, and Age, to tell how old a cached answer is.
EXPOSED_HEADERS = "ETag, Age"
# Request headers a script on another origin may send to the read endpoints.
ALLOWED_HEADERS = "If-None-Match, Cache-Control"
PREFLIGHT_MAX_AGE = str(24 * 3600)
# Stable codes (api.errors) of the errors that Django or django-ninja answer themselves.
ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 500: "server_error"}


def max_age(seconds: int) -> Callable:
    """Decorator for an operation (through ninja's `decorate_view`): its read answers
    may be cached `seconds` long, instead of DEFAULT_MAX_AGE."""

    def decorator(run: Callable) -> Callable:
        @wraps(run)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            response = run(request, *args, **kwargs)
            if response.status_code < 500 and "Cache-Control" not in response:
                patch_cache_control(response, public=True, max_age=seconds)
            return response

        return wrapper

    return decorator


def is_api_path(path: str) -> bool:
    return path.startswith(PREFIX)


def _preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    del response.headers["Content-Type"]
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    response.headers["Cache-Control"] = f"public, max-age={PREFLIGHT_MAX_AGE}"
    return response


def _without_accept_language(response: HttpResponseBase) -> None:
    if response.has_header("Content-Language"):
        del response.headers["Content-Language"]
    if not response.has_header("Vary"):
        return
    kept = [
        field.strip()
        for field in response.headers["Vary"].split(",")
        if field.strip() and field.strip().lower() != "accept-language"
    ]
    if kept:
        response.headers["Vary"] = ", ".join(kept)
    else:
        del response.headers["Vary"]


def _as_json_error(response: HttpResponseBase) -> HttpResponseBase:
    """An error answer as `{"detail": reason}` if it is not JSON already."""
    content_type = response.get("Content-Type", "")
    if response.status_code < 400 or "json" in content_type:
        return response
    code = ERROR_CODES.get(response.status_code, "error")
    body = json.dumps(error_body(code, response.reason_phrase)).encode()
    answer = HttpResponse(body, status=response.status_code, content_type="application/json")
    for name in ("Allow", "Cache-Control", "Vary", "Retry-After"):
        if response.has_header(name):
            answer.headers[name] = response.headers[name]
    return answer


def _cache_headers(request: HttpRequest, response: HttpResponseBase) -> None:
    if response.status_code >= 500:
        # A failure must not be kept anywhere: the next request may well succeed.
        response.headers["Cache-Control"] = "no-store"
    elif request.method in READ_METHODS:
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, public=True, max_age=DEFAULT_MAX_AGE)
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    else:
        response.headers.setdefault("Cache-Control", "no-store")


class ApiHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        method = request.method
        if method == "OPTIONS" and request.headers.get("Access-Control-Request-Method") in (
            READ_METHODS
        ):
            return _preflight()
        if method == "HEAD":
            request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = method
        return self.finish(request, response)

    @staticmethod
    def finish(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = _as_json_error(response)
        if request.method in READ_METHODS:
            _without_accept_language(response)
        _cache_headers(request, response)
        read = request.method in READ_METHODS
        if read and isinstance(response, HttpResponse) and response.status_code == 200:
            if not response.has_header("ETag"):
                set_response_etag(response)
            if response.has_header("ETag"):
                conditional = get_conditional_response(
                    request, etag=response["ETag"], response=response
                )
                if conditional is not None and conditional.status_code == 304:
                    conditional.headers["Access-Control-Allow-Origin"] = "*"
                    conditional.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
                    return conditional
        if request.method == "HEAD" and isinstance(response, HttpResponse):
            # Django leaves the body of a HEAD answer to the server; drop it here, with
            # the length the GET answer would have.
            length = response.get("Content-Length", str(len(response.content)))
            response.content = b""
            response.headers["Content-Length"] = length
        return response
