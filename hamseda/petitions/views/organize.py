"""Organiser and moderator pages. Every view checks the user's role in the petition's
organisation (orgs.permissions); another organisation's member gets a 404, so they do
not even learn that the petition exists.

These pages show counts only, never personal data (PRIVACY.md rule 5): exports are a
separate, audited path.
"""

import csv
import io
from collections.abc import Set as AbstractSet
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hamseda.campaigns.models import Campaign
from hamseda.campaigns.partners import PartnerRefused
from hamseda.languages import CODES as LANGUAGES
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import (
    CAN_EDIT,
    CAN_MAIL,
    CAN_MANAGE,
    CAN_MODERATE,
    CAN_VIEW_NUMBERS,
    check_access,
    has_role,
    needs_two_factor,
    organizations_where,
    role_in,
)
from hamseda.petitions import counting, outcomes, services, sources
from hamseda.petitions.charts import bar_chart
from hamseda.petitions.countries import country_name
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import Petition, PetitionState
from hamseda.petitions.organize_forms import PetitionForm, PetitionTextForm, RejectForm

TEXT_FIELDS = ("title", "summary", "story")
EDITABLE_STATES = {PetitionState.DRAFT, PetitionState.REJECTED}
MODERATION_ACTIONS = {"approve", "reject", "close", "won"}


def organizer_view(view):
    """Logged in, and never cached: these pages are per user and change by the minute."""

    @wraps(view)
    @login_required
    @never_cache
    def wrapper(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    return wrapper


def _render(request, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    context = {
        "nav_can_moderate": organizations_where(request.user, CAN_MODERATE).exists(),
        "nav_managed": organizations_where(request.user, CAN_MANAGE),
        "needs_two_factor": needs_two_factor(request.user),
        **context,
    }
    return render(request, template, context, status=status)


def _petition_for(request, slug: str, roles: AbstractSet[str], *, two_factor=False) -> Petition:
    """The petition, if the user's role in its organisation allows (orgs.permissions)."""
    petition = get_object_or_404(
        Petition.objects.select_related("organization", "campaign"), slug=slug
    )
    check_access(request.user, petition.organization, roles, two_factor=two_factor)
    return petition


@organizer_view
def dashboard(request: HttpRequest) -> HttpResponse:
    organizations = organizations_where(request.user, CAN_VIEW_NUMBERS)
    if not organizations.exists():
        raise PermissionDenied  # Logged in, but not a member of any organisation.
    petitions = (
        Petition.objects.filter(organization__in=organizations)
        .select_related("organization", "campaign")
        .prefetch_related("translations")
        .order_by("organization__name", "-created_at")
    )
    editable = organizations_where(request.user, CAN_EDIT)
    campaigns = (
        Campaign.objects.filter(organization__in=editable)
        .select_related("organization")
        .prefetch_related("translations")
        .order_by("organization__name", "slug")
    )
    return _render(
        request,
        "petitions/organize/dashboard.html",
        {
            "petitions": petitions,
            "can_create": editable.exists(),
            # Each campaign's own pages: days of action, press, partners, kit design.
            "campaigns": campaigns,
        },
    )


def _text_forms(request, petition: Petition) -> list[PetitionTextForm]:
    if request.method == "POST":
        return [PetitionTextForm(request.POST, language=code) for code in LANGUAGES]
    existing = {t.language: t for t in petition.translations.all()} if petition.pk else {}
    return [
        PetitionTextForm(
            language=code,
            initial={f: getattr(existing[code], f) for f in TEXT_FIELDS}
            if code in existing
            else None,
        )
        for code in LANGUAGES
    ]


def _edit(request, petition: Petition, organization: Organization, *, creating: bool):
    """The create and edit page: the petition's settings and its text in each language."""
    old_image = petition.image.name if petition.image else ""
    if request.method == "POST":
        form = PetitionForm(
            request.POST, request.FILES, instance=petition, organization=organization
        )
    else:
        form = PetitionForm(
            instance=petition,
            organization=organization,
            initial={"default_language": request.LANGUAGE_CODE} if creating else None,
        )
    text_forms = _text_forms(request, petition)
    if request.method == "POST":
        valid = form.is_valid() & all([f.is_valid() for f in text_forms])
        texts = {
            f.language: {k: f.cleaned_data[k] for k in TEXT_FIELDS}
            for f in text_forms
            if f.is_valid() and f.is_filled()
        }
        main = form.cleaned_data.get("default_language") if valid else None
        if valid and main not in texts:
            form.add_error(None, _("Write the title, summary and story in the main language."))
            valid = False
        if valid:
            petition = form.save(commit=False)
            try:
                services.save_petition(
                    petition,
                    texts=texts,
                    targets=form.cleaned_data["targets"],
                    new_targets=form.cleaned_data["new_targets"],
                    co_hosts=form.cleaned_data["co_hosts"],
                )
            except PartnerRefused as error:
                # A partner removed from the campaign between validation and saving.
                form.add_error("co_hosts", str(error))
            except IntegrityError:
                # Another request took the slug between validation and saving.
                form.add_error("slug", _("This web address is already taken."))
            except services.TransitionRefused:
                # Submitted or opened by someone else while this form was open.
                messages.error(request, _("An open petition keeps its wording: people signed it."))
                return redirect("organize:petition", slug=petition.slug)
            else:
                if old_image and petition.image.name != old_image:
                    petition.image.storage.delete(old_image)
                messages.success(request, _("Saved."))
                return redirect("organize:petition", slug=petition.slug)
    return _render(
        request,
        "petitions/organize/edit.html",
        {
            "form": form,
            "text_forms": text_forms,
            "text_forms_invalid": any(f.is_bound and f.errors for f in text_forms),
            "petition": petition,
            "creating": creating,
            "organization": organization,
        },
        status=400 if request.method == "POST" else 200,
    )


@organizer_view
def create(request: HttpRequest) -> HttpResponse:
    organizations = organizations_where(request.user, CAN_EDIT)
    slug = request.GET.get("org") or request.POST.get("org")
    if slug:
        organization = get_object_or_404(Organization, slug=slug)
        role = role_in(request.user, organization)
        if role is None:
            raise Http404  # As for petitions: another organisation is not confirmed.
        if role not in CAN_EDIT:
            raise PermissionDenied
    elif not organizations.exists():
        raise PermissionDenied
    elif organizations.count() == 1:
        organization = organizations.get()
    else:
        return _render(
            request, "petitions/organize/choose_org.html", {"organizations": organizations}
        )
    petition = Petition(organization=organization, created_by=request.user)
    return _edit(request, petition, organization, creating=True)


@organizer_view
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    if petition.state not in EDITABLE_STATES:
        messages.error(request, _("Only a draft or a rejected petition can be edited."))
        return redirect("organize:petition", slug=slug)
    return _edit(request, petition, petition.organization, creating=False)


@organizer_view
def numbers(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition's page for its organisers: state, actions, live numbers, and where
    the signatures come from. `?format=csv` downloads the sources table."""
    petition = _petition_for(request, slug, CAN_VIEW_NUMBERS)
    report = sources.sources_report(petition)
    if request.GET.get("format") == "csv":
        return _sources_csv(petition, report)
    live = counting.live_numbers(petition)
    rtl = get_language_bidi()
    peak = max([count for _day, count, _total in live["days"]] or [1])
    return _render(
        request,
        "petitions/organize/petition.html",
        {
            "petition": petition,
            "text": petition.text(),
            "languages": [name for code, name in settings.LANGUAGES if code in petition.languages],
            "live": live,
            "countries": [(country_name(c.country), c.country, c.count) for c in live["countries"]],
            "days": [(d, n, total, n * 100 // peak) for d, n, total in live["days"]],
            "can_edit": has_role(request.user, petition.organization, CAN_EDIT),
            "can_moderate": has_role(request.user, petition.organization, CAN_MODERATE),
            "can_mail": has_role(request.user, petition.organization, CAN_MAIL),
            "editable": petition.state in EDITABLE_STATES,
            "reject_form": RejectForm(),
            "sources": report,
            "channel_chart": bar_chart(report.channels, rtl=rtl),
            "generation_chart": bar_chart(report.generations, rtl=rtl),
        },
    )


def _spreadsheet_safe(text: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection), as the
    audit log's CSV does. Channels and codes are letters, but a label is translated."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _sources_csv(petition: Petition, report: sources.SourcesReport) -> HttpResponse:
    """The sources table as CSV: counts only, like the page (no personal data)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "key", "label", "signed", "confirmed", "confirmed_percent"])
    for table, rows in (
        ("channel", report.channels),
        ("generation", report.generations),
        ("sharer", report.sharers),
    ):
        for row in rows:
            writer.writerow(
                [
                    table,
                    _spreadsheet_safe(row.key),
                    _spreadsheet_safe(row.label),
                    row.signed,
                    row.confirmed,
                    "" if row.rate is None else row.rate,
                ]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="sources-{petition.slug}-{stamp}.csv"'
    return response


@organizer_view
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_VIEW_NUMBERS)
    text = petition.text()
    response = render(
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
    response["X-Robots-Tag"] = "noindex"
    return response


@organizer_view
@require_POST
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_EDIT)
    try:
        services.submit_petition(petition)
        messages.success(request, _("Submitted for moderation."))
    except services.TransitionRefused:
        messages.error(request, _("This petition cannot be submitted now."))
    return redirect("organize:petition", slug=slug)


def _queue_page(request, *, status: int = 200, rejecting: Petition | None = None, form=None):
    organizations = organizations_where(request.user, CAN_MODERATE)
    if not organizations.exists():
        raise PermissionDenied
    petitions = (
        Petition.objects.filter(organization__in=organizations)
        .select_related("organization")
        .prefetch_related("translations", "targets")
    )
    submitted = []
    for petition in petitions.filter(state=PetitionState.SUBMITTED).order_by("submitted_at"):
        text = petition.text()
        story = render_story(text.story) if text else ""
        reject_form = form if rejecting and rejecting.pk == petition.pk else RejectForm()
        submitted.append((petition, text, story, reject_form))
    return _render(
        request,
        "petitions/organize/queue.html",
        {
            "submitted": submitted,
            "open": petitions.filter(state__in=[PetitionState.OPEN, PetitionState.CLOSED]),
        },
        status=status,
    )


@organizer_view
def queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


@organizer_view
@require_POST
def moderate(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_MODERATE)
    if action not in MODERATION_ACTIONS:
        raise Http404
    try:
        if action == "approve":
            services.approve_petition(petition)
            messages.success(request, _("Approved: the petition is open."))
        elif action == "reject":
            form = RejectForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("A rejection needs a reason (at most 2000 characters)."))
                return _queue_page(request, status=400, rejecting=petition, form=form)
            services.reject_petition(petition, form.cleaned_data["reason"])
            messages.success(request, _("Rejected. The organisers will see your reason."))
        elif action in {"close", "won"}:
            # As close_petition() and mark_won() allow; set_outcome() alone would also
            # take "won" again (to edit the closing statement).
            allowed = {PetitionState.OPEN} | ({PetitionState.CLOSED} if action == "won" else set())
            if petition.state not in allowed:
                raise services.TransitionRefused(f"{petition.slug} is {petition.state}")
            # Through the outcome service, so that partners' webhooks hear of it too
            # (api.webhooks, petition.outcome); the closing statements stay as they are.
            try:
                outcome = PetitionState.CLOSED if action == "close" else PetitionState.WON
                outcomes.set_outcome(petition, outcome=outcome, statements={})
            except outcomes.OutcomeError:
                raise services.TransitionRefused(f"{petition.slug} is {petition.state}") from None
            messages.success(request, _("Closed.") if action == "close" else _("Marked as won."))
    except services.TransitionRefused:
        if action == "approve" and not petition.organization.public_key:
            messages.error(
                request,
                _(
                    "This organisation has no sealing key yet, so signatures could not be "
                    "protected. Ask an administrator to run “hamseda keys generate”."
                ),
            )
        else:
            messages.error(request, _("That is not possible in the petition's current state."))
    if request.POST.get("return_to") == "petition":
        return redirect("organize:petition", slug=slug)
    return redirect("organize:queue")
