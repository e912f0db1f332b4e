"""The public JSON API (read-only for now), with its OpenAPI document generated from
the code by django-ninja at /api/v1/openapi.json."""

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import translation
from ninja import NinjaAPI, Query, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from hamseda.petitions.countries import country_name
from hamseda.petitions.models import Petition, PetitionState
from hamseda.petitions.services import open_petitions

api = NinjaAPI(
    title="Hamseda API",
    version="1",
    description="Public numbers of petitions. Counts include confirmed signatures only.",
    urls_namespace="api",
    docs_url=None,  # Browsable docs come with the API issue, served without a CDN.
)

Language = Literal["en", "fa", "ps"]


class CountryCountOut(Schema):
    code: str
    name: str
    count: int


class TargetOut(Schema):
    name: str
    position: str


class PetitionOut(Schema):
    slug: str
    title: str
    state: str
    signature_count: int
    invalidated_count: int
    goal: int
    signatures_by_country: list[CountryCountOut]
    targets: list[TargetOut]
    opened_at: datetime | None
    closing_at: datetime | None
    url: str


class LanguageQuery(Schema):
    lang: Language = "en"


def petition_json(petition: Petition, language: str) -> dict:
    with translation.override(language):
        text = petition.text()
        return {
            "slug": petition.slug,
            "title": text.title if text else petition.slug,
            "state": petition.state,
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
            "url": settings.BASE_URL + petition.get_absolute_url(),
        }


@api.get("/petitions", response=list[PetitionOut], tags=["petitions"])
@paginate(LimitOffsetPagination)
def list_petitions(request: HttpRequest, query: Query[LanguageQuery]):
    """Open petitions, newest first."""
    petitions = open_petitions().prefetch_related("country_counts", "targets")
    return [petition_json(p, query.lang) for p in petitions]


@api.get("/petitions/{slug}", response={200: PetitionOut}, tags=["petitions"])
def get_petition(request: HttpRequest, slug: str, query: Query[LanguageQuery]):
    """One public petition (open, closed or won) with its counts by country."""
    petition = get_object_or_404(
        Petition.objects.prefetch_related("translations", "country_counts", "targets"),
        slug=slug,
        state__in=[PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON],
    )
    return petition_json(petition, query.lang)
