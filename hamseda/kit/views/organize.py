"""The organisers' design page: a campaign's colours, logo, background and layout, with
previews of every size in every language before saving.

Only members with an editing role in the campaign's organisation get in
(orgs.permissions.check_access: another organisation's member gets a 404).
"""

import base64
import io

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from PIL import Image

from hamseda.campaigns.models import Campaign
from hamseda.campaigns.views import campaign_for_organisers
from hamseda.context import NAMES
from hamseda.kit import bundle, services
from hamseda.kit.content import design_for, languages_of
from hamseda.kit.design import LAYOUTS, SIZES, Design
from hamseda.kit.forms import DesignForm
from hamseda.kit.imagecache import file_response
from hamseda.languages import CODES
from hamseda.orgs.permissions import (
    CAN_MANAGE,
    CAN_MODERATE,
    needs_two_factor,
    organizations_where,
)
from hamseda.petitions.models import Petition, PetitionState
from hamseda.petitions.views.organize import organizer_view

# Previews on the page: each image scaled to fit this box, as JPEG in a data: URI.
PREVIEW_BOX = (480, 480)
# Petitions worth previewing, the most useful first.
PREVIEW_STATES = [
    PetitionState.OPEN,
    PetitionState.DRAFT,
    PetitionState.SUBMITTED,
    PetitionState.REJECTED,
    PetitionState.CLOSED,
    PetitionState.WON,
]


def _petitions(campaign: Campaign) -> list[Petition]:
    rank = {state: number for number, state in enumerate(PREVIEW_STATES)}
    petitions = list(
        campaign.petitions.select_related("campaign").prefetch_related(
            "translations", "campaign__translations"
        )
    )
    return sorted(petitions, key=lambda p: (rank.get(p.state, 99), p.slug))


def _chosen(petitions: list[Petition], slug: str) -> Petition | None:
    for petition in petitions:
        if petition.slug == slug:
            return petition
    return petitions[0] if petitions else None


def _thumbnail_uri(png: bytes) -> str:
    """A rendered image, scaled down and as JPEG, inline in the page (CSP allows data:
    images): previews of unsaved values have no address to fetch them from."""
    with Image.open(io.BytesIO(png)) as image:
        image = image.convert("RGB")
        image.thumbnail(PREVIEW_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def _file_bytes(choice, stored: bytes | None) -> bytes | None:
    if choice == "keep":
        return stored
    if choice is None:
        return None
    choice.seek(0)
    data = choice.read()
    choice.seek(0)
    return data


def _unsaved_design(form: DesignForm, campaign: Campaign) -> Design:
    saved = design_for(campaign)
    data = form.cleaned_data
    return Design(
        colour=data["colour"],
        accent=data["accent_colour"],
        layout=data["kit_layout"],
        logo=_file_bytes(form.file_choice("logo"), saved.logo),
        background=_file_bytes(form.file_choice("background"), saved.background),
        eastern_digits=data["eastern_digits"],
    )


def _previews(campaign: Campaign, petition: Petition | None, design: Design | None) -> list:
    """Per language of the petition: each size with its image address (the saved
    design) or its rendered image inline (`design`, unsaved)."""
    if petition is None:
        return []
    from hamseda.kit.render import render_png

    groups = []
    for language in languages_of(petition):
        content = bundle.image_content(petition, language) if design else None
        images = []
        for name, spec in SIZES.items():
            if design is not None:
                src = _thumbnail_uri(render_png(name, content, design))
            else:
                src = reverse(
                    "kit:design_preview", args=[campaign.slug, petition.slug, name, language]
                )
            images.append({"name": name, "spec": spec, "src": src})
        groups.append({"code": language, "name": NAMES.get(language, language), "images": images})
    return groups


@organizer_view
@require_http_methods(["GET", "HEAD", "POST"])
def design(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for_organisers(request, slug)
    petitions = _petitions(campaign)
    petition = _chosen(petitions, request.POST.get("petition") or request.GET.get("petition", ""))
    status, unsaved = 200, None
    if request.method == "POST":
        form = DesignForm(request.POST, request.FILES, campaign=campaign, user=request.user)
        if not form.is_valid():
            status = 400
        elif request.POST.get("action") == "save":
            choices = {name: form.file_choice(name) for name in ("logo", "background")}
            services.update_design(
                campaign,
                colour=form.cleaned_data["colour"],
                accent_colour=form.cleaned_data["accent_colour"],
                layout=form.cleaned_data["kit_layout"],
                eastern_digits=form.cleaned_data["eastern_digits"],
                **{k: services.KEEP if v == "keep" else v for k, v in choices.items()},
                by=request.user,
            )
            messages.success(request, _("Design saved. The kit's images use it from now on."))
            for warning in form.warnings():
                messages.warning(request, warning)
            url = reverse("kit:design", args=[campaign.slug])
            return redirect(f"{url}?petition={petition.slug}" if petition else url)
        else:
            unsaved = _unsaved_design(form, campaign)
            form.keep_pending()
    else:
        form = DesignForm(campaign=campaign, user=request.user)
    return render(
        request,
        "kit/design.html",
        {
            "nav_can_moderate": organizations_where(request.user, CAN_MODERATE).exists(),
            "nav_managed": organizations_where(request.user, CAN_MANAGE),
            "needs_two_factor": needs_two_factor(request.user),
            "campaign": campaign,
            "text": campaign.text(),
            "form": form,
            "layouts": LAYOUTS,
            "petitions": petitions,
            "petition": petition,
            "previews": _previews(campaign, petition, unsaved),
            "unsaved": unsaved is not None,
            "warnings": form.warnings() if unsaved is not None else [],
        },
        status=status,
    )


@organizer_view
@require_safe
def design_preview(
    request: HttpRequest, slug: str, petition: str, size: str, language: str
) -> HttpResponse:
    """A kit image with the saved design, for any petition of the campaign (drafts
    too, which have no public image yet)."""
    campaign = campaign_for_organisers(request, slug)
    if size not in SIZES or language not in CODES:
        raise Http404
    found = get_object_or_404(
        Petition.objects.select_related("campaign").prefetch_related(
            "translations", "campaign__translations"
        ),
        slug=petition,
        campaign=campaign,
    )
    response = file_response(request, bundle.petition_image(found, size, language))
    # Only for this organiser; the ETag still spares downloading it again.
    response["Cache-Control"] = "private, no-cache"
    return response
