"""The public JSON API (read-only for now), with its OpenAPI document generated from
the code by django-ninja at /api/v1/openapi.json.

Everything here is public: counts, countries, titles and targets, never anything about
a signer (PRIVACY.md rule 5). Answers may be cached for a few seconds by anyone and read
from any origin.
"""

from datetime import datetime
from functools import wraps
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from django.utils import timezone, translation
from ninja import Field, NinjaAPI, Query, Schema

from hamseda.links import absolute_url
from hamseda.petitions.countries import country_name
from hamseda.petitions.models import Petition, PetitionState

PUBLIC_STATES = [PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]
# Counts move by the second on a busy day; 15 seconds of caching lets a proxy or CDN
# absorb a crowd of readers while the numbers still look live.
CACHE_CONTROL = "public, max-age=15"
MAX_LIMIT = 100


def public_read(view):
    """Cache headers and CORS for every answer of the API.

    Reads (GET, HEAD), including their 4xx answers, may be cached briefly and read
    from any origin; server errors and anything else are not cached.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.method in {"GET", "HEAD"} and response.status_code < 500:
            response.headers.setdefault("Cache-Control", CACHE_CONTROL)
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return wrapper


class PublicAPI(NinjaAPI):
    """A NinjaAPI whose every URL answers through `public_read`: the operations, their
    validation errors, the 405 for a method they do not have, and /openapi.json."""

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = public_read(pattern.callback)
        return patterns, app_name, namespace


api = PublicAPI(
    title="Hamseda API",
    version="1",
    description="Public numbers of petitions. Counts include confirmed signatures only.",
    urls_namespace="api",
    docs_url=None,  # Browsable docs come with the API issue, served without a CDN.
)

Language = Literal["en", "fa", "ps"]


class CountryCountOut(Schema):
    code: str = Field(description="ISO 3166-1 alpha-2")
    name: str = Field(description="Country name in the requested language")
    count: int


class TargetOut(Schema):
    name: str
    position: str


class PetitionOut(Schema):
    slug: str
    title: str
    state: Literal["open", "closed", "won"] = Field(
        description="`closed` also for an open petition whose closing date has passed"
    )
    signature_count: int = Field(description="Confirmed signatures only")
    invalidated_count: int = Field(description="Signatures removed as invalid")
    goal: int = Field(description="The goal shown on the petition page")
    signatures_by_country: list[CountryCountOut]
    targets: list[TargetOut]
    opened_at: datetime | None
    closing_at: datetime | None
    url: str


class PetitionPage(Schema):
    items: list[PetitionOut]
    count: int = Field(description="Number of public petitions in all pages")


class ErrorOut(Schema):
    detail: str | list


class LanguageQuery(Schema):
    lang: Language = "en"


class ListQuery(LanguageQuery):
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


def public_state(petition: Petition, now: datetime) -> str:
    if petition.state == PetitionState.OPEN and not petition.is_open(now):
        return PetitionState.CLOSED
    return petition.state


def petition_json(petition: Petition, language: str, now: datetime) -> dict:
    with translation.override(language):
        text = petition.text()
        return {
            "slug": petition.slug,
            "title": text.title if text else petition.slug,
            "state": public_state(petition, now),
            "signature_count": petition.signature_count,
            "invalidated_count": petition.invalidated_count,
            "goal": petition.current_goal,
            "signatures_by_country": [
                {"code": c.country, "name": country_name(c.country, language), "count": c.count}
                for c in petition.country_counts.all()
            ],
            "targets": [{"name": t.name, "position": t.position} for t in petition.targets.all()],
            "opened_at": petition.opened_at,
            "closing_at": petition.closing_at,
            # The page in the same language (/fa/p/…/ for Dari).
            "url": absolute_url(petition.get_absolute_url()),
        }


def _public_petitions():
    return Petition.objects.filter(state__in=PUBLIC_STATES).prefetch_related(
        "translations", "country_counts", "targets"
    )


@api.get("/petitions", response={200: PetitionPage, 422: ErrorOut}, tags=["petitions"])
def list_petitions(request: HttpRequest, query: Query[ListQuery]):
    """Public petitions (open, closed and won), newest first, `limit` at a time."""
    petitions = _public_petitions().order_by("-opened_at", "-pk")
    page = petitions[query.offset : query.offset + query.limit]
    now = timezone.now()
    return {
        "items": [petition_json(p, query.lang, now) for p in page],
        "count": petitions.count(),
    }


@api.get(
    "/petitions/{slug}",
    response={200: PetitionOut, 404: ErrorOut, 422: ErrorOut},
    tags=["petitions"],
)
def get_petition(request: HttpRequest, slug: str, query: Query[LanguageQuery]):
    """One public petition (open, closed or won) with its counts by country."""
    petition = get_object_or_404(_public_petitions(), slug=slug)
    return petition_json(petition, query.lang, timezone.now())
