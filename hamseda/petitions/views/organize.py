"""Organiser and moderator pages. Every view checks the user's role in the petition's
organisation (orgs.permissions); another organisation's member gets a 404."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import (
    CAN_EDIT,
    CAN_MODERATE,
    CAN_VIEW_NUMBERS,
    has_role,
    organizations_where,
    role_in,
)
from hamseda.petitions import services
from hamseda.petitions.countries import country_name
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import Petition, PetitionState
from hamseda.petitions.organize_forms import PetitionForm, PetitionTextForm, RejectForm

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def _petition_for(request, slug: str, roles: set[str]) -> Petition:
    petition = get_object_or_404(
        Petition.objects.select_related("organization", "campaign"), slug=slug
    )
    role = role_in(request.user, petition.organization)
    if role is None:
        raise Http404  # Do not even confirm that another organisation's petition exists.
    if role not in roles:
        raise PermissionDenied
    return petition


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    organizations = organizations_where(request.user, CAN_VIEW_NUMBERS)
    petitions = (
        Petition.objects.filter(organization__in=organizations)
        .select_related("organization", "campaign")
        .prefetch_related("translations")
        .order_by("organization__name", "-created_at")
    )
    return render(
        request,
        "petitions/organize/dashboard.html",
        {
            "petitions": petitions,
            "can_create": organizations_where(request.user, CAN_EDIT),
            "can_moderate": organizations_where(request.user, CAN_MODERATE).exists(),
        },
    )


def _edit(request, petition: Petition, organization: Organization, *, creating: bool):
    text_by_language = {t.language: t for t in petition.translations.all()} if petition.pk else {}
    if request.method == "POST":
        form = PetitionForm(
            request.POST, request.FILES, instance=petition, organization=organization
        )
        text_forms = [PetitionTextForm(request.POST, language=code) for code in LANGUAGE_CODES]
    else:
        form = PetitionForm(instance=petition, organization=organization)
        text_forms = [
            PetitionTextForm(
                language=code,
                initial={
                    f: getattr(text_by_language[code], f) for f in ("title", "summary", "story")
                }
                if code in text_by_language
                else None,
            )
            for code in LANGUAGE_CODES
        ]
    if request.method == "POST":
        valid = form.is_valid() & all([f.is_valid() for f in text_forms])
        texts = {
            f.language: {k: f.cleaned_data[k] for k in ("title", "summary", "story")}
            for f in text_forms
            if f.is_valid() and f.is_filled()
        }
        main = form.cleaned_data.get("default_language") if valid else None
        if valid and main not in texts:
            form.add_error(None, _("Write the title, summary and story in the main language."))
            valid = False
        if valid:
            petition = form.save(commit=False)
            services.save_petition(
                petition,
                texts=texts,
                targets=form.cleaned_data["targets"],
                new_targets=form.cleaned_data["new_targets"],
            )
            messages.success(request, _("Saved."))
            return redirect("organize:petition", slug=petition.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "petitions/organize/edit.html",
        {
            "form": form,
            "text_forms": text_forms,
            "petition": petition,
            "creating": creating,
            "organization": organization,
        },
        status=status,
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    organizations = organizations_where(request.user, CAN_EDIT)
    slug = request.GET.get("org") or request.POST.get("org")
    if slug:
        organization = get_object_or_404(organizations, slug=slug)
    elif organizations.count() == 1:
        organization = organizations.get()
    elif not organizations:
        raise PermissionDenied
    else:
        return render(
            request, "petitions/organize/choose_org.html", {"organizations": organizations}
        )
    petition = Petition(organization=organization, created_by=request.user)
    return _edit(request, petition, organization, creating=True)


@login_required
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    if petition.state not in {PetitionState.DRAFT, PetitionState.REJECTED}:
        messages.error(request, _("An open petition keeps its wording: people signed it."))
        return redirect("organize:petition", slug=slug)
    return _edit(request, petition, petition.organization, creating=False)


@login_required
def numbers(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_VIEW_NUMBERS)
    live = services.live_numbers(petition)
    peak = max([count for _day, count, _total in live["days"]] or [1])
    return render(
        request,
        "petitions/organize/petition.html",
        {
            "petition": petition,
            "text": petition.text(),
            "live": live,
            "countries": [(country_name(c.country), c.count) for c in live["countries"]],
            "days": [(d, n, total, n * 100 // peak) for d, n, total in live["days"]],
            "can_edit": has_role(request.user, petition.organization, CAN_EDIT),
            "can_moderate": has_role(request.user, petition.organization, CAN_MODERATE),
        },
    )


@login_required
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_VIEW_NUMBERS)
    text = petition.text()
    return render(
        request,
        "petitions/detail.html",
        {
            "petition": petition,
            "text": text,
            "story": render_story(text.story) if text else "",
            "form": None,
            "signers": [],
            "is_open": False,
            "preview": True,
        },
    )


@login_required
@require_POST
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    try:
        services.submit_petition(petition)
        messages.success(request, _("Submitted for moderation."))
    except services.TransitionRefused:
        messages.error(request, _("This petition cannot be submitted now."))
    return redirect("organize:petition", slug=slug)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    organizations = organizations_where(request.user, CAN_MODERATE)
    if not organizations.exists():
        raise PermissionDenied
    petitions = (
        Petition.objects.filter(organization__in=organizations)
        .select_related("organization")
        .prefetch_related("translations", "targets")
    )
    return render(
        request,
        "petitions/organize/queue.html",
        {
            "submitted": [
                (p, p.text(), render_story(p.text().story) if p.text() else "")
                for p in petitions.filter(state=PetitionState.SUBMITTED).order_by("submitted_at")
            ],
            "open": petitions.filter(state__in=[PetitionState.OPEN, PetitionState.CLOSED]),
            "reject_form": RejectForm(),
        },
    )


@login_required
@require_POST
def moderate(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_MODERATE)
    try:
        if action == "approve":
            services.approve_petition(petition)
            messages.success(request, _("Approved: the petition is open."))
        elif action == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("A rejection needs a reason."))
                return redirect("organize:queue")
            services.reject_petition(petition, form.cleaned_data["reason"])
            messages.success(request, _("Rejected."))
        elif action == "close":
            services.close_petition(petition)
            messages.success(request, _("Closed."))
        elif action == "won":
            services.mark_won(petition)
            messages.success(request, _("Marked as won."))
        else:
            raise Http404
    except services.TransitionRefused:
        messages.error(request, _("That is not possible in the petition's current state."))
    return redirect("organize:queue")
