"""HAL+JSON for the OSDI endpoints: answers, links, curies, paging, errors, and the
same cache, ETag and CORS rules as the JSON API (api.http) for reads."""

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from hamseda.api.errors import ApiError, error_body
from hamseda.api.http import ApiHeadersMiddleware
from hamseda.links import absolute_url

HAL = "application/hal+json"
OSDI_VERSION = "1.1"
VENDOR = "Hamseda"
# Link relations `osdi:<rel>` are documented by the OSDI specification itself.
CURIES = [
    {"name": "osdi", "href": "https://opensupporter.github.io/osdi-docs/{rel}", "templated": True}
]
DEFAULT_PAGESIZE = 25
MAX_PAGESIZE = 100
MAX_PAGE = 100_000
LANGUAGES = ("en", "fa", "ps")
READ_METHODS = ("GET", "HEAD")


def when(moment: datetime | None) -> str | None:
    """OSDI's datetimes: UTC, to the second, with a Z ("2014-03-20T21:04:31Z")."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def href(name: str, *args, query: Mapping | None = None) -> dict:
    """A HAL link to an OSDI endpoint, absolute (HAMSEDA_BASE_URL)."""
    url = absolute_url(reverse(f"osdi:{name}", args=args))
    if query:
        url += "?" + urlencode(query)
    return {"href": url}


def hal_response(data: dict, *, status: int = 200, headers: Mapping | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=HAL)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: ApiError, *, resource: str = "") -> HttpResponse:
    """The API's error body (api.errors: error, message, detail, fields) with OSDI's
    `osdi:error` object (errors.md of the specification) next to it."""
    descriptions = [
        {"error_code": error.code.upper(), "description": error.message}
        | ({"properties": sorted(error.fields)} if error.fields else {})
    ]
    body = {
        "osdi:error": {
            "request_type": "atomic",
            "response_code": error.status,
            "resource_status": [
                {
                    "resource": resource or "osdi:error",
                    "response_code": error.status,
                    "error_descriptions": descriptions,
                }
            ],
        },
        **error_body(error.code, error.message, error.fields),
    }
    return hal_response(body, status=error.status, headers=error.headers)


def not_found() -> ApiError:
    return ApiError(404, "not_found", _("Not found. Check the address."))


def not_allowed(allowed: str) -> ApiError:
    return ApiError(
        405,
        "method_not_allowed",
        _("This address answers %(methods)s only.") % {"methods": allowed},
        headers={"Allow": allowed},
    )


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    language: str


def _whole(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(
            400,
            "invalid_query",
            _("%(name)s must be a whole number from %(low)d to %(high)d.")
            % {"name": name, "low": low, "high": high},
            fields={name: [_("Not a whole number in range.")]},
        )
    return int(raw)


def language(request: HttpRequest) -> str:
    wanted = request.GET.get("lang", "en")
    if wanted not in LANGUAGES:
        raise ApiError(
            400,
            "invalid_query",
            _("lang must be one of: en, fa, ps."),
            fields={"lang": [_("Not a language of this site.")]},
        )
    return wanted


def paging(request: HttpRequest) -> Paging:
    return Paging(
        page=_whole(request, "page", 1, 1, MAX_PAGE),
        per_page=_whole(request, "per_page", DEFAULT_PAGESIZE, 1, MAX_PAGESIZE),
        language=language(request),
    )


def collection(name: str, rel: str, items: list[dict], total: int, paging: Paging, *args) -> dict:
    """An OSDI collection: counts, self/next/prev links, one link per item, and the
    items themselves under `_embedded`."""
    pages = math.ceil(total / paging.per_page)

    def at(page: int) -> dict:
        query: dict[str, int | str] = {"page": page, "per_page": paging.per_page}
        if paging.language != "en":
            query["lang"] = paging.language
        return href(name, *args, query=query)

    links: dict = {"self": at(paging.page)}
    if paging.page < pages:
        links["next"] = at(paging.page + 1)
    if 1 < paging.page <= pages + 1:
        links["prev"] = at(paging.page - 1)
    links[rel] = [item["_links"]["self"] for item in items]
    links["curies"] = CURIES
    return {
        "total_pages": pages,
        "per_page": paging.per_page,
        "page": paging.page,
        "total_records": total,
        "_links": links,
        "_embedded": {rel: items},
    }


def _preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response["Access-Control-Allow-Headers"] = "If-None-Match, Cache-Control"
    response["Access-Control-Max-Age"] = str(24 * 3600)
    return response


def osdi_view(resource: str = "") -> Callable:
    """Every OSDI endpoint: ApiErrors become HAL errors about `resource` (e.g.
    "osdi:signature"), reads get the JSON API's headers (api.http: Cache-Control, ETag
    and 304, CORS, no Accept-Language split), a CORS preflight for a read is answered,
    HEAD is GET without the body."""

    def decorator(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(run)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            if request.method == "OPTIONS" and (
                request.headers.get("Access-Control-Request-Method") in READ_METHODS
            ):
                return _preflight()
            try:
                response = run(request, *args, **kwargs)
            except ApiError as error:
                response = error_response(error, resource=resource)
            return ApiHeadersMiddleware.finish(request, response)

        return wrapper

    return decorator


def speaking(language: str):
    """Texts picked, and page links built, in `language`."""
    return translation.override(language)
