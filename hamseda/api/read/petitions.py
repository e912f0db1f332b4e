"""Petitions: the list, one petition, its count (polled by the embeddable widget) and
its published updates.

DESIGN.md's contract fields (`slug`, `title`, `state`, `signature_count`, `goal`,
`signatures_by_country`, `targets`, `opened_at`, `closing_at`, `url`) stay as they
are; the rest was added with the open API. Every number comes from the counters kept
when a signature is confirmed (Petition.signature_count, CountryCount), never from
counting signatures. Nothing here is about a signer (PRIVACY.md rule 5).
"""

from datetime import date as Date
from datetime import datetime
from typing import Literal

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view

from hamseda.api.http import max_age
from hamseda.api.read.schemas import (
    SLUG_PATTERN,
    ErrorOut,
    LanguageQuery,
    ListQuery,
    PageOut,
    markdown_html,
    page,
    speaking,
)
from hamseda.languages import pick
from hamseda.links import absolute_url
from hamseda.petitions import outcomes
from hamseda.petitions.countries import country_name
from hamseda.petitions.models import Petition, PetitionState, Response, Update
from hamseda.petitions.updates import public_updates

router = Router(tags=["petitions"])

PUBLIC_STATES = [PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]
PublicState = Literal["open", "closed", "won"]
# The widget polls the count: readers should see a new signature within seconds.
COUNT_MAX_AGE = 5
UPDATES_MAX_AGE = 60


class CountryCountOut(Schema):
    code: str = Field(description="ISO 3166-1 alpha-2")
    name: str = Field(description="Country name in the requested language")
    count: int


class TargetOut(Schema):
    name: str
    position: str


class MilestoneOut(Schema):
    count: int
    reached_at: datetime | None = Field(description="None for the next milestone to reach")
    descriptions: list[str] = Field(
        description="What the milestone brings, in the petition's main language"
    )


class ResponseOut(Schema):
    name: str = Field(description="The decision-maker who responded")
    position: str
    date: Date
    language: str = Field(description="The language the response is written in")
    body: str = Field(description="Markdown, as written")
    body_html: str = Field(description="The Markdown rendered and sanitised, as on the page")


class OutcomeOut(Schema):
    state: Literal["won", "closed"]
    statement: str = Field(description="The organisers' closing statement (Markdown)")
    statement_html: str = Field(description="The statement rendered and sanitised")
    date: datetime | None


class UpdatesLinkOut(Schema):
    count: int = Field(description="Published updates")
    url: str = Field(description="The updates in this API")


class PetitionOut(Schema):
    slug: str
    title: str
    summary: str
    language: str = Field(description="The language of title and summary")
    languages: list[str] = Field(description="Languages the petition is written in")
    state: PublicState = Field(
        description="`closed` also for an open petition whose closing date has passed"
    )
    signature_count: int = Field(description="Confirmed signatures only")
    invalidated_count: int = Field(description="Signatures removed as invalid")
    goal: int = Field(description="The goal shown on the petition page")
    signatures_by_country: list[CountryCountOut]
    targets: list[TargetOut]
    milestones: list[MilestoneOut] = Field(
        description="The milestones reached, then the next one, as on the page"
    )
    responses: list[ResponseOut] = Field(description="Published responses, newest first")
    outcome: OutcomeOut | None = Field(description="None while the petition is open")
    updates: UpdatesLinkOut
    campaign: str | None = Field(description="The campaign's slug")
    opened_at: datetime | None
    closing_at: datetime | None
    url: str = Field(description="The petition's page in the requested language")


class PetitionPage(PageOut):
    items: list[PetitionOut]


class CountOut(Schema):
    slug: str
    signature_count: int = Field(description="Confirmed signatures only")
    goal: int
    state: PublicState


class UpdateOut(Schema):
    id: int
    title: str
    language: str = Field(description="The language of title and body")
    body: str = Field(description="Markdown, as written")
    body_html: str = Field(description="The Markdown rendered and sanitised, as on the page")
    published_at: datetime
    url: str


class UpdatePage(PageOut):
    items: list[UpdateOut]


class PetitionQuery(ListQuery):
    campaign: str | None = Field(
        None, max_length=50, pattern=SLUG_PATTERN, description="Only this campaign's"
    )
    state: PublicState | None = Field(None, description="Only petitions in this state")


# --- reading ------------------------------------------------------------------------------


def public_state(petition: Petition, now: datetime) -> str:
    if petition.state == PetitionState.OPEN and not petition.is_open(now):
        return PetitionState.CLOSED
    return petition.state


def _in_state(petitions: QuerySet[Petition], state: str, now: datetime) -> QuerySet[Petition]:
    """Filter by the state the API shows (an open petition past its date is closed)."""
    still_open = Q(closing_at__isnull=True) | Q(closing_at__gt=now)
    if state == PetitionState.OPEN:
        return petitions.filter(Q(state=PetitionState.OPEN) & still_open)
    if state == PetitionState.CLOSED:
        return petitions.filter(
            Q(state=PetitionState.CLOSED) | (Q(state=PetitionState.OPEN) & ~still_open)
        )
    return petitions.filter(state=state)


def public_petitions() -> QuerySet[Petition]:
    """Open, closed and won petitions with everything their answer shows, in a fixed
    number of queries whatever the page size."""
    return (
        Petition.objects.filter(state__in=PUBLIC_STATES)
        .select_related("campaign")
        .prefetch_related(
            "translations",
            "country_counts",
            "targets",
            "thresholds",
            Prefetch(
                "responses",
                queryset=Response.objects.filter(hidden=False)
                .select_related("decision_maker")
                .order_by("-responded_on", "-created_at"),
                to_attr="visible_responses",
            ),
            Prefetch(
                "updates",
                queryset=Update.objects.filter(published_at__isnull=False).only(
                    "pk", "petition_id"
                ),
                to_attr="published_updates",
            ),
        )
    )


def milestones(petition: Petition) -> list[dict]:
    """Reached milestones (several at one count as one), then the next one."""
    reached: dict[int, dict] = {}
    waiting = []
    for item in petition.thresholds.all():
        if item.reached_at is None:
            waiting.append(item)
            continue
        entry = reached.setdefault(
            item.count, {"count": item.count, "reached_at": item.reached_at, "descriptions": []}
        )
        entry["reached_at"] = min(entry["reached_at"], item.reached_at)
        if item.description:
            entry["descriptions"].append(item.description)
    result = sorted(reached.values(), key=lambda entry: entry["count"])
    if waiting:
        count = min(item.count for item in waiting)
        result.append(
            {
                "count": count,
                "reached_at": None,
                "descriptions": [
                    i.description for i in waiting if i.count == count and i.description
                ],
            }
        )
    return result


def outcome(petition: Petition, state: str) -> dict | None:
    if state == PetitionState.OPEN:
        return None
    written = {t.language: t for t in petition.translations.all() if t.closing_statement}
    chosen = pick(written, petition.default_language) if written else None
    statement = chosen.closing_statement if chosen else ""
    return {
        "state": state,
        "statement": statement,
        "statement_html": markdown_html(statement),
        "date": outcomes.outcome_date(petition) or petition.closing_at,
    }


def petition_json(petition: Petition, language: str, now: datetime) -> dict:
    state = public_state(petition, now)
    with speaking(language):
        text = petition.text()
        return {
            "slug": petition.slug,
            "title": text.title if text else petition.slug,
            "summary": text.summary if text else "",
            "language": text.language if text else petition.default_language,
            "languages": sorted(petition.languages),
            "state": state,
            "signature_count": petition.signature_count,
            "invalidated_count": petition.invalidated_count,
            "goal": petition.current_goal,
            "signatures_by_country": [
                {"code": c.country, "name": country_name(c.country, language), "count": c.count}
                for c in petition.country_counts.all()
            ],
            "targets": [{"name": t.name, "position": t.position} for t in petition.targets.all()],
            "milestones": milestones(petition),
            "responses": [
                {
                    "name": r.decision_maker.name,
                    "position": r.decision_maker.position,
                    "date": r.responded_on,
                    "language": r.language,
                    "body": r.body,
                    "body_html": markdown_html(r.body),
                }
                for r in petition.visible_responses
            ],
            "outcome": outcome(petition, state),
            "updates": {
                "count": len(petition.published_updates),
                "url": absolute_url(reverse("api:petition_updates", args=[petition.slug])),
            },
            "campaign": petition.campaign.slug if petition.campaign else None,
            "opened_at": petition.opened_at,
            "closing_at": petition.closing_at,
            # The page in the same language (/fa/p/…/ for Dari).
            "url": absolute_url(petition.get_absolute_url()),
        }


# --- endpoints ----------------------------------------------------------------------------


@router.get("/petitions", response={200: PetitionPage, 422: ErrorOut})
def list_petitions(request: HttpRequest, query: Query[PetitionQuery]):
    """Public petitions (open, closed and won), newest first, `limit` at a time;
    optionally of one campaign, or in one state."""
    now = timezone.now()
    petitions = public_petitions().order_by("-opened_at", "-pk")
    if query.campaign:
        petitions = petitions.filter(campaign__slug=query.campaign)
    if query.state:
        petitions = _in_state(petitions, query.state, now)
    items, paging = page(petitions, query)
    return {"items": [petition_json(p, query.lang, now) for p in items], **paging}


@router.get("/petitions/{slug}", response={200: PetitionOut, 404: ErrorOut, 422: ErrorOut})
def get_petition(request: HttpRequest, slug: str, query: Query[LanguageQuery]):
    """One public petition (open, closed or won) with its counts by country,
    milestones, responses and outcome."""
    petition = get_object_or_404(public_petitions(), slug=slug)
    return petition_json(petition, query.lang, timezone.now())


@router.get("/petitions/{slug}/count", response={200: CountOut, 404: ErrorOut})
@decorate_view(max_age(COUNT_MAX_AGE))
def get_count(request: HttpRequest, slug: str):
    """Only the count, for pages and widgets that poll it: one small row read."""
    petition = get_object_or_404(
        Petition.objects.filter(state__in=PUBLIC_STATES).only(
            "slug", "state", "goal", "signature_count", "closing_at"
        ),
        slug=slug,
    )
    return {
        "slug": petition.slug,
        "signature_count": petition.signature_count,
        "goal": petition.current_goal,
        "state": public_state(petition, timezone.now()),
    }


@router.get(
    "/petitions/{slug}/updates",
    response={200: UpdatePage, 404: ErrorOut, 422: ErrorOut},
    url_name="petition_updates",
)
@decorate_view(max_age(UPDATES_MAX_AGE))
def list_updates(request: HttpRequest, slug: str, query: Query[ListQuery]):
    """The petition's published updates, newest first, in the requested language (else
    the petition's main language)."""
    petition = get_object_or_404(Petition.objects.filter(state__in=PUBLIC_STATES), slug=slug)
    items, paging = page(public_updates(petition), query)
    answers = []
    with speaking(query.lang):
        for update in items:
            text = update.text()
            answers.append(
                {
                    "id": update.pk,
                    "title": text.title if text else "",
                    "language": text.language if text else petition.default_language,
                    "body": text.body if text else "",
                    "body_html": markdown_html(text.body) if text else "",
                    "published_at": update.published_at,
                    "url": absolute_url(reverse("updates:detail", args=[petition.slug, update.pk])),
                }
            )
    return {"items": answers, **paging}
