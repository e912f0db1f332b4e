"""The JSON API under /api/v1/ (docs/api.md), built with django-ninja, which generates
its OpenAPI 3.1 document from the code (/api/v1/openapi.json) and serves browsable docs
(/api/v1/docs, Swagger UI from ninja's own static files: nothing from a CDN).

The public read endpoints live in hamseda/api/read/ (one module per resource), the
partners' write endpoints in hamseda/api/write.py; both are mounted here, on one API and
one document. Headers shared by every answer (ETag, Cache-Control, CORS, Vary) are set
by hamseda.api.http.ApiHeadersMiddleware; anonymous reads are served for a few seconds
from hamseda.api.fastcache in front of Django.

Everything the read endpoints show is public: counts, countries, titles and targets,
never anything about a signer or an attendee (PRIVACY.md rule 5).
"""

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from ninja import NinjaAPI, Swagger

from hamseda.api import errors
from hamseda.api.errors import error_response, install_error_handlers
from hamseda.api.read import campaigns, events, petitions, press, pulse
from hamseda.api.write import router as write_router

DESCRIPTION = """\
Open numbers and texts of the campaigns on this install: campaigns, petitions with
their confirmed counts, updates, days of action and events, press releases and hashtag
totals; and, for partner organisations with an API key, signing and RSVPs.

* Every list answers `{items, count, limit, offset}`; `limit` is 1–100 (default 20).
* `lang` (en, fa, ps) chooses the language of texts; a text missing in that language
  comes in the item's own language, which the answer names.
* Read answers carry a strong `ETag`: send it back in `If-None-Match` to get a `304`.
  They may be cached (`Cache-Control: public, max-age=…`, 5 s for counts) and read from
  any origin (CORS). The server itself may answer a read from a cache up to 5 seconds
  old.
* Errors are JSON with a 4xx status: `{"error": "<code>", "message": …, "detail": …}`.

A guide with examples: docs/api.md in the source.
"""


def not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return error_response(errors.not_found())


class HamsedaAPI(NinjaAPI):
    """A NinjaAPI whose unknown URLs (and its bare root) answer a JSON 404 at once,
    rather than through the site's HTML error page."""

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern) and pattern.name == "api-root":
                pattern.callback = not_found
        return [*patterns, re_path(r"", not_found)], app_name, namespace

    def get_openapi_schema(self, **kwargs):
        """The document, with each operation's responses keyed by strings only: an
        operation that documents a status both in `response` (an int key) and in
        `openapi_extra` (a string key) would otherwise get that key twice in the JSON,
        which Python's parser forgives but YAML's (Swagger UI's) refuses."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"] = _merged_by_string(operation["responses"])
        return schema


def _merged_by_string(responses: dict) -> dict:
    merged: dict[str, dict] = {}
    for status, answer in responses.items():
        into = merged.setdefault(str(status), {})
        for name, value in answer.items():
            if isinstance(value, dict) and isinstance(into.get(name), dict):
                into[name] = {**into[name], **value}
            else:
                into[name] = value
    return merged


api = HamsedaAPI(
    title="Hamseda API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    # Swagger UI from django-ninja's static files ("ninja" in INSTALLED_APPS); its
    # template has no inline script. No validator badge: it would load an image from
    # validator.swagger.io (PRIVACY.md rule 6).
    docs=Swagger(settings={"validatorUrl": None, "tryItOutEnabled": False}),
    docs_url="/docs",
)

for module in (campaigns, pulse, petitions, events, press):
    api.add_router("", module.router)

# The partners' write endpoints (api.write) live on the same API and document.
api.add_router("", write_router)

install_error_handlers(api)
