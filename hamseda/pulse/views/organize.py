"""The organisers' pulse pages: settings and sources (editors), the moderation list and
hiding posts (editors and moderators), the posts export (everyone who reads numbers;
the posts are public, and the authors are hashed unless asked otherwise).

Every view checks the user's role in the campaign's organisation
(orgs.permissions.check_access): another organisation's member gets a 404.
"""

from collections.abc import Set as AbstractSet

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hamseda.campaigns.models import Campaign
from hamseda.campaigns.views import campaign_for_organisers
from hamseda.orgs.permissions import CAN_EDIT, CAN_MODERATE, CAN_VIEW_NUMBERS, check_access
from hamseda.petitions.views.organize import _render, organizer_view
from hamseda.pulse import export as posts_export
from hamseda.pulse import moderation, pulses, sources
from hamseda.pulse.forms import ExportForm, PostSearchForm, SettingsForm, SourceForm, TokenForm
from hamseda.pulse.models import Post, Source

CAN_HIDE = CAN_EDIT | CAN_MODERATE
PAGE_SIZE = 50


def _campaign_for(request, slug: str, roles: AbstractSet[str]) -> Campaign:
    campaign = get_object_or_404(
        Campaign.objects.select_related("organization").prefetch_related("translations"),
        slug=slug,
    )
    check_access(request.user, campaign.organization, roles)
    return campaign


def _source_for(request, source_id: int) -> Source:
    source = get_object_or_404(
        Source.objects.select_related("campaign__organization"), pk=source_id
    )
    check_access(request.user, source.campaign.organization, CAN_EDIT)
    return source


def _settings_form(campaign: Campaign, data=None) -> SettingsForm:
    pulse = pulses.settings_or_default(campaign)
    return SettingsForm(
        data,
        initial={
            "is_public": pulse.is_public,
            "show_wall": pulse.show_wall,
            "keywords": pulse.keywords,
            "milestones": pulse.milestones,
        },
    )


def _settings_page(
    request,
    campaign: Campaign,
    *,
    settings_form: SettingsForm | None = None,
    source_form: SourceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    campaign_sources = list(
        Source.objects.filter(campaign=campaign).order_by("platform", "query", "base_url")
    )
    return _render(
        request,
        "pulse/organize.html",
        {
            "campaign": campaign,
            "campaign_text": campaign.text(),
            "pulse": pulses.pulse_of(campaign),
            "public": pulses.is_public(pulses.pulse_of(campaign), campaign),
            "form": settings_form or _settings_form(campaign),
            "source_form": source_form or SourceForm(),
            "sources": campaign_sources,
            "token_form": TokenForm(),
            "export_form": ExportForm(initial={"authors": "hashed"}),
        },
        status=status,
    )


@organizer_view
def settings_page(request: HttpRequest, campaign: str) -> HttpResponse:
    found = campaign_for_organisers(request, campaign)
    if request.method != "POST":
        return _settings_page(request, found)
    form = _settings_form(found, request.POST)
    if form.is_valid():
        try:
            pulses.save_settings(found, **form.cleaned_data)
        except pulses.SettingsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved."))
            return redirect("pulse:organize", campaign=found.slug)
    return _settings_page(request, found, settings_form=form, status=400)


@organizer_view
@require_POST
def add_source(request: HttpRequest, campaign: str) -> HttpResponse:
    found = campaign_for_organisers(request, campaign)
    form = SourceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            source = sources.add_source(
                found,
                platform=data["platform"],
                query=data["query"],
                is_hashtag=data["kind"] == "hashtag",
                base_url=data["base_url"],
                token=data["token"],
            )
        except sources.SourceError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Connected: %(source)s.") % {"source": source})
            return redirect("pulse:organize", campaign=found.slug)
    return _settings_page(request, found, source_form=form, status=400)


@organizer_view
@require_POST
def remove_source(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _source_for(request, source_id)
    sources.remove_source(source)
    messages.success(
        request,
        _("Removed: %(source)s. The posts it brought stay counted.") % {"source": source},
    )
    return redirect("pulse:organize", campaign=source.campaign.slug)


@organizer_view
@require_POST
def pause_source(request: HttpRequest, source_id: int) -> HttpResponse:
    """Pause an active source, resume a paused one (or the other way, as asked by the
    `paused` field, so that a double click does not undo itself)."""
    source = _source_for(request, source_id)
    asked = request.POST.get("paused")
    paused = asked == "1" if asked in ("0", "1") else source.state != "paused"
    changed = sources.set_paused(source, paused)
    if changed.state == "paused":
        messages.success(request, _("Paused: %(source)s.") % {"source": source})
    else:
        messages.success(request, _("Resumed: %(source)s.") % {"source": source})
    return redirect("pulse:organize", campaign=source.campaign.slug)


@organizer_view
@require_POST
def replace_token(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _source_for(request, source_id)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            sources.replace_token(source, form.cleaned_data["token"])
        except sources.SourceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("New token saved: %(source)s.") % {"source": source})
    else:
        messages.error(request, _("Paste the token."))
    return redirect("pulse:organize", campaign=source.campaign.slug)


# --- moderation -----------------------------------------------------------------------------


@organizer_view
@require_safe
def posts(request: HttpRequest, campaign: str) -> HttpResponse:
    found = _campaign_for(request, campaign, CAN_HIDE)
    form = PostSearchForm(request.GET)
    valid = form.is_valid()
    data = form.cleaned_data if valid else {}
    page = data.get("page") or 1
    offset = (page - 1) * PAGE_SIZE
    # One row more than a page tells whether there is a next page without counting.
    rows = list(
        moderation.search(found, query=data.get("q") or "", show=data.get("show") or "all")[
            offset : offset + PAGE_SIZE + 1
        ]
    )
    query = request.GET.copy()
    query.pop("page", None)

    def page_link(number: int) -> str:
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    return _render(
        request,
        "pulse/posts.html",
        {
            "campaign": found,
            "campaign_text": found.text(),
            "form": form,
            "posts": rows[:PAGE_SIZE],
            "page": page,
            "previous": page_link(page - 1) if page > 1 else "",
            "next": page_link(page + 1) if len(rows) > PAGE_SIZE else "",
            "here": request.get_full_path(),
            "export_form": ExportForm(initial={"authors": "hashed"}),
        },
        status=200 if valid else 400,
    )


@organizer_view
@require_POST
def hide_post(request: HttpRequest, post_id: int) -> HttpResponse:
    """Hide a shown post, show a hidden one (or as asked by the `hide` field)."""
    post = get_object_or_404(Post.objects.select_related("campaign__organization"), pk=post_id)
    check_access(request.user, post.campaign.organization, CAN_HIDE)
    asked = request.POST.get("hide")
    hide = asked == "1" if asked in ("0", "1") else not post.hidden
    moderation.set_hidden(post, hide, by=request.user)
    messages.success(
        request,
        _("Hidden from the public wall; still counted.") if hide else _("Shown on the wall again."),
    )
    # Back to the list as it was (its search and page): a path on this site only.
    back = request.POST.get("next", "")
    if (
        back.startswith("/")
        and not back.startswith("//")
        and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return HttpResponseRedirect(back)
    return redirect(reverse("pulse:posts", kwargs={"campaign": post.campaign.slug}))


@organizer_view
@require_safe
def export(request: HttpRequest, campaign: str) -> HttpResponse:
    found = _campaign_for(request, campaign, CAN_VIEW_NUMBERS)
    form = ExportForm(request.GET)
    if not form.is_valid():
        return _render(
            request,
            "pulse/posts.html",
            {
                "campaign": found,
                "campaign_text": found.text(),
                "form": PostSearchForm(),
                "posts": [],
                "export_form": form,
                "here": reverse("pulse:posts", kwargs={"campaign": found.slug}),
            },
            status=400,
        )
    hash_authors = form.hash_authors()
    posts_export.record_export(found, by=request.user, hash_authors=hash_authors)
    response = StreamingHttpResponse(
        posts_export.csv_lines(found, hash_authors=hash_authors),
        content_type="text/csv; charset=utf-8",
    )
    suffix = "posts" if hash_authors else "posts-with-handles"
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-{suffix}.csv"'
    return response
