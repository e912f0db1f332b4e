"""The newsroom's pages: the public press pages and press kit of a campaign, the
site-wide press page, and the organisers' pages to write releases and authors.

Public pages show only public releases (newsroom.services.public_releases: published,
past any embargo, of a public campaign); anything else is a 404, so a draft or an
embargoed release does not even show that it exists. Organiser pages need the edit
role in the campaign's organisation (orgs.permissions.CAN_EDIT); a member of another
organisation gets a 404.
"""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST, require_safe

from hamseda.campaigns.models import Campaign
from hamseda.campaigns.views import campaign_for_organisers
from hamseda.languages import current_language
from hamseda.newsroom import presskit, services
from hamseda.newsroom.forms import (
    AuthorForm,
    AuthorTextForm,
    QuoteForm,
    ReleaseForm,
    ReleaseTextForm,
    embargo_initial,
)
from hamseda.newsroom.models import Author, PressRelease
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import CAN_EDIT, check_access
from hamseda.petitions.markdown import render_story
from hamseda.petitions.views.organize import _render, organizer_view

LANGUAGE_NAMES = dict(settings.LANGUAGES)
RTL_LANGUAGES = set(settings.LANGUAGES_BIDI)
TEXT_FIELDS = ("title", "summary", "body", "image_caption")
QUOTE_FIELDS = ("language", "text", "speaker", "speaker_role")
MIN_QUOTE_ROWS = 3
NO_TEXT = gettext_lazy(
    "Write the release's title and text in at least one of the campaign's languages."
)


def direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def shown(release: PressRelease) -> dict:
    """A release for a template, in the reader's language or the best other one: its
    text, the sanitised body, the quotes in that language, the author's role and bio."""
    text = release.text()
    language = text.language if text else current_language()
    quotes = list(release.quotes.all())
    in_language = [quote for quote in quotes if quote.language == language]
    author = release.author
    author_text = author.text() if author else None
    campaign_text = release.campaign.text()
    return {
        "release": release,
        "text": text,
        "body": render_story(text.body) if text else "",
        "language": language,
        "direction": direction(language),
        "in_reader_language": language == current_language(),
        # Quotes in the text's language; if there are none in it, every quote (each
        # marked with its own language), rather than none.
        "quotes": [
            {"quote": quote, "direction": direction(quote.language)}
            for quote in (in_language or quotes)
        ],
        "author": author,
        "author_text": author_text,
        "author_direction": direction(author_text.language) if author_text else "ltr",
        "released_at": services.released_at(release),
        "campaign_text": campaign_text,
        "campaign_direction": direction(campaign_text.language) if campaign_text else "ltr",
    }


def _public_campaign(slug: str) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("organization").prefetch_related("translations"),
        slug=slug,
        is_public=True,
    )


# --- public pages ---------------------------------------------------------------------


@require_safe
def campaign_press(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _public_campaign(slug)
    return render(
        request,
        "newsroom/campaign_press.html",
        {
            "campaign": campaign,
            "campaign_text": campaign.text(),
            "items": [shown(release) for release in services.public_releases(campaign)],
        },
    )


@require_safe
def release_detail(request: HttpRequest, slug: str, release: str) -> HttpResponse:
    campaign = _public_campaign(slug)
    found = services.public_releases(campaign).filter(slug=release).first()
    if found is None:
        raise Http404
    return render(
        request,
        "newsroom/release.html",
        {"campaign": campaign, "item": shown(found), "preview": False},
    )


@require_safe
def site_press(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "newsroom/site_press.html",
        {"items": [shown(release) for release in services.public_releases()[:100]]},
    )


@require_safe
@cache_control(public=True, max_age=presskit.CACHE_SECONDS)
def press_kit(request: HttpRequest, slug: str) -> HttpResponse:
    """The press kit zip, in the reader's language: logos, pictures and the fact
    sheet with the numbers of the last few minutes (newsroom.presskit)."""
    campaign = _public_campaign(slug)
    data = presskit.press_kit_zip(campaign, current_language())
    return FileResponse(
        presskit.as_stream(data),
        as_attachment=True,
        filename=presskit.file_name(campaign, current_language()),
        content_type="application/zip",
    )


# --- organiser pages: releases --------------------------------------------------------


def _release_for(request, slug: str) -> PressRelease:
    release = get_object_or_404(
        PressRelease.objects.select_related("campaign", "campaign__organization", "author")
        .prefetch_related("translations", "quotes", "campaign__translations")
        .filter(slug=slug)
    )
    check_access(request.user, release.campaign.organization, CAN_EDIT)
    return release


@organizer_view
@require_safe
def organize_list(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for_organisers(request, slug)
    now = timezone.now()
    rows = [
        {
            **shown(release),
            "state": services.state_of(release, now),
            "language_names": [
                LANGUAGE_NAMES.get(code, code)
                for code, _name in settings.LANGUAGES
                if code in {t.language for t in release.translations.all()}
            ],
        }
        for release in services.organizer_releases(campaign)
    ]
    return _render(
        request,
        "newsroom/organize_list.html",
        {"campaign": campaign, "campaign_text": campaign.text(), "rows": rows},
    )


def _text_forms(request, campaign: Campaign, release: PressRelease | None):
    languages = services.release_languages(campaign)
    if request.method == "POST":
        return [ReleaseTextForm(request.POST, language=code) for code in languages]
    existing = {t.language: t for t in release.translations.all()} if release else {}
    return [
        ReleaseTextForm(
            language=code,
            initial={f: getattr(existing[code], f) for f in TEXT_FIELDS}
            if code in existing
            else None,
        )
        for code in languages
    ]


def _quote_forms(request, campaign: Campaign, release: PressRelease | None):
    languages = services.release_languages(campaign)
    if request.method == "POST":
        try:
            rows = int(request.POST.get("quote_rows", MIN_QUOTE_ROWS))
        except ValueError:
            rows = MIN_QUOTE_ROWS
        rows = max(MIN_QUOTE_ROWS, min(rows, services.MAX_QUOTES))
        return [
            QuoteForm(request.POST, prefix=f"quote-{n}", languages=languages) for n in range(rows)
        ]
    quotes = list(release.quotes.all()) if release else []
    rows = min(services.MAX_QUOTES, max(MIN_QUOTE_ROWS, len(quotes) + 1))
    return [
        QuoteForm(
            prefix=f"quote-{n}",
            languages=languages,
            initial={f: getattr(quotes[n], f) for f in QUOTE_FIELDS} if n < len(quotes) else None,
        )
        for n in range(rows)
    ]


def _edit(request: HttpRequest, campaign: Campaign, release: PressRelease | None) -> HttpResponse:
    organization = campaign.organization
    initial = {"kind": "press_release", "embargo_zone": "UTC"}
    if release is not None:
        initial = {
            "slug": release.slug,
            "kind": release.kind,
            "author": release.author_id,
            "image": release.image or None,
            **embargo_initial(release.embargo_until),
        }
    if request.method == "POST":
        form = ReleaseForm(request.POST, request.FILES, initial=initial, organization=organization)
    else:
        form = ReleaseForm(initial=initial, organization=organization)
    text_forms = _text_forms(request, campaign, release)
    quote_forms = _quote_forms(request, campaign, release)
    if request.method == "POST":
        valid = (
            form.is_valid()
            & all([f.is_valid() for f in text_forms])
            & all([f.is_valid() for f in quote_forms])
        )
        texts = {
            f.language: {k: f.cleaned_data[k] for k in TEXT_FIELDS}
            for f in text_forms
            if f.is_valid() and f.is_filled()
        }
        if valid and not texts:
            form.add_error(None, NO_TEXT)
            valid = False
        if valid:
            try:
                saved = services.save_release(
                    campaign,
                    slug=form.cleaned_data["slug"],
                    kind=form.cleaned_data["kind"],
                    author=form.cleaned_data["author"],
                    image=form.cleaned_data["image"],
                    embargo_until=form.cleaned_data["embargo_until"],
                    texts=texts,
                    quotes=[
                        {k: f.cleaned_data[k] for k in QUOTE_FIELDS}
                        for f in quote_forms
                        if f.is_filled()
                    ],
                    release=release,
                    created_by=request.user,
                )
            except services.NewsroomRefused as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved."))
                if request.POST.get("action") == "preview":
                    return redirect("newsroom:preview", release=saved.slug)
                return redirect("newsroom:organize_list", slug=campaign.slug)
    return _render(
        request,
        "newsroom/edit.html",
        {
            "campaign": campaign,
            "campaign_text": campaign.text(),
            "release": release,
            "state": services.state_of(release) if release else "draft",
            "form": form,
            "text_forms": text_forms,
            "quote_forms": quote_forms,
            "invalid": form.errors
            or any(f.is_bound and f.errors for f in [*text_forms, *quote_forms]),
        },
        status=400 if request.method == "POST" else 200,
    )


@organizer_view
def organize_new(request: HttpRequest, slug: str) -> HttpResponse:
    return _edit(request, campaign_for_organisers(request, slug), None)


@organizer_view
def organize_edit(request: HttpRequest, release: str) -> HttpResponse:
    found = _release_for(request, release)
    return _edit(request, found.campaign, found)


@organizer_view
@require_safe
def preview(request: HttpRequest, release: str) -> HttpResponse:
    """The release as readers will see it, draft or embargoed, with a banner."""
    found = _release_for(request, release)
    return _render(
        request,
        "newsroom/release.html",
        {
            "campaign": found.campaign,
            "item": shown(found),
            "preview": True,
            "state": services.state_of(found),
        },
    )


@organizer_view
@require_POST
def publish(request: HttpRequest, release: str) -> HttpResponse:
    found = _release_for(request, release)
    try:
        found = services.publish_release(found)
    except services.NewsroomRefused as error:
        messages.error(request, str(error))
    else:
        if services.state_of(found) == "embargoed":
            messages.success(
                request,
                _("Published under embargo: it appears by itself at the embargo time."),
            )
        else:
            messages.success(request, _("Published: the release is on the press page."))
    return redirect("newsroom:organize_list", slug=found.campaign.slug)


@organizer_view
@require_POST
def unpublish(request: HttpRequest, release: str) -> HttpResponse:
    found = services.unpublish_release(_release_for(request, release))
    messages.success(request, _("Unpublished: the release is off the public pages and feeds."))
    return redirect("newsroom:organize_list", slug=found.campaign.slug)


# --- organiser pages: authors ---------------------------------------------------------


def _org_for(request, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    check_access(request.user, organization, CAN_EDIT)
    return organization


@organizer_view
@require_safe
def authors(request: HttpRequest, org: str) -> HttpResponse:
    organization = _org_for(request, org)
    return _render(
        request,
        "newsroom/authors.html",
        {
            "organization": organization,
            "authors": [
                {"author": author, "text": author.text()}
                for author in services.organization_authors(organization)
            ],
        },
    )


def _author_edit(request: HttpRequest, organization: Organization, author: Author | None):
    initial = {"name": author.name, "photo": author.photo or None} if author else None
    if request.method == "POST":
        form = AuthorForm(request.POST, request.FILES, initial=initial)
        text_forms = [
            AuthorTextForm(request.POST, language=code) for code in services.SITE_LANGUAGES
        ]
    else:
        form = AuthorForm(initial=initial)
        existing = {t.language: t for t in author.translations.all()} if author else {}
        text_forms = [
            AuthorTextForm(
                language=code,
                initial={"role": existing[code].role, "bio": existing[code].bio}
                if code in existing
                else None,
            )
            for code in services.SITE_LANGUAGES
        ]
    if request.method == "POST":
        valid = form.is_valid() & all([f.is_valid() for f in text_forms])
        if valid:
            try:
                services.save_author(
                    organization,
                    name=form.cleaned_data["name"],
                    photo=form.cleaned_data["photo"],
                    texts={
                        f.language: {"role": f.cleaned_data["role"], "bio": f.cleaned_data["bio"]}
                        for f in text_forms
                    },
                    author=author,
                )
            except services.NewsroomRefused as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved."))
                return redirect("newsroom:authors", org=organization.slug)
    return _render(
        request,
        "newsroom/author_edit.html",
        {
            "organization": organization,
            "author": author,
            "form": form,
            "text_forms": text_forms,
            "invalid": form.errors or any(f.is_bound and f.errors for f in text_forms),
        },
        status=400 if request.method == "POST" else 200,
    )


@organizer_view
def author_new(request: HttpRequest, org: str) -> HttpResponse:
    return _author_edit(request, _org_for(request, org), None)


@organizer_view
def author_edit(request: HttpRequest, pk: int) -> HttpResponse:
    author = get_object_or_404(
        Author.objects.select_related("organization").prefetch_related("translations"), pk=pk
    )
    check_access(request.user, author.organization, CAN_EDIT)
    return _author_edit(request, author.organization, author)
