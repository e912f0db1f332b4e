"""Press releases and statements: only public ones, i.e. published, past their embargo,
of a public campaign (newsroom.services.public_releases, decided at query time, so no
job has to run for a release to appear at its embargo time).

Bodies are given twice: `body` is the Markdown as written, `body_html` the same rendered
through the pages' allow-list sanitiser, so a partner can republish it without running
a Markdown renderer of its own (docs/api.md, "Texts").
"""

from datetime import datetime

from django.http import Http404, HttpRequest
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
from hamseda.links import absolute_url
from hamseda.newsroom import services
from hamseda.newsroom.models import PressRelease, ReleaseKind

router = Router(tags=["press"])

# An embargoed release appears at most this long (plus the fast cache's few seconds)
# after its embargo time in shared caches; journalists waiting for it can reload.
PRESS_MAX_AGE = 30


class AuthorOut(Schema):
    name: str
    role: str = Field(description="In the requested language if written in it")


class QuoteOut(Schema):
    text: str
    speaker: str
    speaker_role: str
    language: str


class ReleaseOut(Schema):
    slug: str
    kind: str = Field(description="`press_release` or `statement`")
    title: str
    summary: str
    language: str = Field(description="The language of title, summary, body")
    languages: list[str] = Field(description="Languages the release is written in")
    body: str = Field(description="Markdown, as written")
    body_html: str = Field(description="The Markdown rendered and sanitised, as on the page")
    author: AuthorOut | None
    quotes: list[QuoteOut] = Field(
        description="The quotes in the text's language (all of them if none is)"
    )
    image_url: str | None
    image_caption: str
    campaign: str = Field(description="The campaign's slug")
    published_at: datetime = Field(description="When it became public (after any embargo)")
    updated_at: datetime
    url: str = Field(description="The release's page in the requested language")


class ReleasePage(PageOut):
    items: list[ReleaseOut]


class PressQuery(ListQuery):
    campaign: str | None = Field(None, max_length=50, pattern=SLUG_PATTERN)
    kind: ReleaseKind | None = Field(None, description="Only press releases, or statements")


def release_json(release: PressRelease, language: str) -> dict:
    with speaking(language):
        text = release.text()
        text_language = text.language if text else release.campaign.default_language
        quotes = list(release.quotes.all())
        in_language = [quote for quote in quotes if quote.language == text_language]
        author = release.author
        author_text = author.text() if author else None
        return {
            "slug": release.slug,
            "kind": release.kind,
            "title": text.title if text else release.slug,
            "summary": text.summary if text else "",
            "language": text_language,
            "languages": sorted(t.language for t in release.translations.all()),
            "body": text.body if text else "",
            "body_html": markdown_html(text.body) if text else "",
            "author": (
                {"name": author.name, "role": author_text.role if author_text else ""}
                if author
                else None
            ),
            "quotes": [
                {
                    "text": quote.text,
                    "speaker": quote.speaker,
                    "speaker_role": quote.speaker_role,
                    "language": quote.language,
                }
                for quote in (in_language or quotes)
            ],
            "image_url": absolute_url(release.image.url) if release.image else None,
            "image_caption": text.image_caption if text else "",
            "campaign": release.campaign.slug,
            "published_at": services.released_at(release),
            "updated_at": release.updated_at,
            "url": absolute_url(
                reverse("newsroom:release", args=[release.campaign.slug, release.slug])
            ),
        }


@router.get("/press", response={200: ReleasePage, 422: ErrorOut})
@decorate_view(max_age(PRESS_MAX_AGE))
def list_releases(request: HttpRequest, query: Query[PressQuery]):
    """Public press releases and statements, newest first."""
    releases = services.public_releases(now=timezone.now())
    if query.campaign:
        releases = releases.filter(campaign__slug=query.campaign)
    if query.kind:
        releases = releases.filter(kind=query.kind)
    items, paging = page(releases, query)
    return {"items": [release_json(r, query.lang) for r in items], **paging}


@router.get("/press/{slug}", response={200: ReleaseOut, 404: ErrorOut, 422: ErrorOut})
@decorate_view(max_age(PRESS_MAX_AGE))
def get_release(request: HttpRequest, slug: str, query: Query[LanguageQuery]):
    """One public press release or statement; a draft or embargoed one is a 404."""
    release = services.public_releases(now=timezone.now()).filter(slug=slug).first()
    if release is None:
        raise Http404
    return release_json(release, query.lang)
