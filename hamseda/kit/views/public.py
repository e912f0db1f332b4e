"""The supporters' kit: share images, posters and the zip of a petition, the campaign's
kit page, and the profile-picture frame.

Images and posters are public files cached by content (kit.imagecache); the pages
that list them only link to them. Everything is in the language of the URL (/fa/…),
falling back to the petition's main language when it has no text in that language.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_safe

from hamseda.campaigns.models import Campaign
from hamseda.context import NAMES
from hamseda.kit import bundle
from hamseda.kit.content import languages_of
from hamseda.kit.design import SIZES
from hamseda.kit.imagecache import (
    MAX_AGE,
    by_alias,
    file_response,
    image_alias,
    remember_alias,
)
from hamseda.languages import current_language
from hamseda.petitions.models import Petition
from hamseda.petitions.services import open_petitions

# The size shown for a petition on the campaign's kit page.
OVERVIEW_SIZE = "card"


def public_petition(slug: str) -> Petition:
    """The petition if the public may see it (as on its page), with what content_for
    reads, in three queries."""
    petition = get_object_or_404(
        Petition.objects.select_related("organization", "campaign").prefetch_related(
            "translations", "campaign__translations"
        ),
        slug=slug,
    )
    if not petition.is_public:
        raise Http404
    return petition


def public_campaign(slug: str) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("organization").prefetch_related("translations"),
        slug=slug,
        is_public=True,
    )


def url_in(language: str, name: str, *args) -> str:
    """The address of a page or file in `language` (English has no prefix)."""
    with translation.override(language):
        return reverse(name, args=args)


def _language_links(languages: list[str], name: str, *args) -> list[dict]:
    return [
        {"code": code, "name": NAMES.get(code, code), "url": url_in(code, name, *args)}
        for code in languages
    ]


@require_safe
def petition_image(request: HttpRequest, slug: str, size: str) -> HttpResponse:
    """A share image in the URL's language. Link previews fetch the card size by the
    thousand at a peak: a hit of the last few seconds is served without a query."""
    if size not in SIZES:
        raise Http404
    language = current_language()
    alias = image_alias(slug, size, language)
    file = by_alias(alias)
    if file is None:
        petition = public_petition(slug)
        file = bundle.petition_image(petition, size, language)
        remember_alias(alias, file)
    spec = SIZES[size]
    filename = f"{slug}-{size}-{spec.width}x{spec.height}-{language}.png"
    return file_response(request, file, filename=filename)


@require_safe
def poster(request: HttpRequest, slug: str, paper: str) -> HttpResponse:
    if paper not in bundle.PAPERS:
        raise Http404
    petition = public_petition(slug)
    language = current_language()
    file = bundle.petition_poster(petition, paper, language)
    return file_response(request, file, filename=bundle.poster_filename(petition, paper, language))


@require_safe
def petition_zip(request: HttpRequest, slug: str) -> HttpResponse:
    """The whole kit: every size and both posters in every language of the petition.

    Built from the cached files, so after the first download it costs little more than
    copying them; the first one renders what is missing."""
    petition = public_petition(slug)
    data = bundle.zip_bytes(petition)
    body = b"" if request.method == "HEAD" else data
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Length"] = str(len(data))
    response["Content-Disposition"] = f'attachment; filename="{petition.slug}-kit.zip"'
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def _sizes(petition: Petition, language: str, languages: list[str]) -> list[dict]:
    return [
        {
            "name": name,
            "spec": spec,
            "use": bundle.USES[name],
            "src": url_in(language, "kit:petition_image", petition.slug, name),
            "downloads": [
                {**link, "filename": bundle.image_filename(petition, name, link["code"])}
                for link in _language_links(languages, "kit:petition_image", petition.slug, name)
            ],
        }
        for name, spec in SIZES.items()
    ]


@require_safe
def petition_kit(request: HttpRequest, slug: str) -> HttpResponse:
    """Every size as a thumbnail of the real image, with downloads in each language."""
    petition = public_petition(slug)
    campaign = petition.campaign
    language = current_language()
    languages = languages_of(petition)
    posters = [
        {
            "paper": paper,
            "label": label,
            "links": _language_links(languages, "kit:poster", petition.slug, paper),
        }
        for paper, label in bundle.PAPERS.items()
    ]
    return render(
        request,
        "kit/petition_kit.html",
        {
            "petition": petition,
            "text": petition.text(),
            "campaign": campaign if campaign and campaign.is_public else None,
            "sizes": _sizes(petition, language, languages),
            "languages": _language_links(languages, "kit:petition_kit", petition.slug),
            "posters": posters,
            "has_language": language in languages,
        },
    )


@require_safe
def campaign_kit(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's kit: its open petitions with their images, and the frame maker."""
    campaign = public_campaign(slug)
    language = current_language()
    petitions = []
    for petition in (
        open_petitions().filter(campaign=campaign).prefetch_related("campaign__translations")
    ):
        languages = languages_of(petition)
        spec = SIZES[OVERVIEW_SIZE]
        petitions.append(
            {
                "petition": petition,
                "text": petition.text(),
                "spec": spec,
                "src": url_in(language, "kit:petition_image", petition.slug, OVERVIEW_SIZE),
                "downloads": _language_links(
                    languages, "kit:petition_image", petition.slug, OVERVIEW_SIZE
                ),
                "posters": _language_links(languages, "kit:poster", petition.slug, "a4"),
            }
        )
    return render(
        request,
        "kit/campaign_kit.html",
        {
            "campaign": campaign,
            "text": campaign.text(),
            "petitions": petitions,
            "has_hashtag": bool(campaign.hashtag_list),
        },
    )
