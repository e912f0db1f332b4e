"""Organiser pages of days of action and events.

Who may do what (orgs.permissions):
- days of a campaign: the edit role in the campaign's organisation;
- an event: the edit role in the campaign's organisation OR in the event's host
  organisation (a coalition partner's members manage the events they host);
- an event's counts: any role that sees numbers, in either organisation;
- the attendee list (a sealed export): the export role with two-factor login in the
  HOST organisation only, as the records are sealed to its key.
A member of neither organisation gets a 404: they do not learn the event exists.
"""

from collections.abc import Set as AbstractSet

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hamseda.actions import export, services
from hamseda.actions.forms import DayForm, DayTextForm, EventForm, EventTextForm
from hamseda.actions.models import DayOfAction, Event, PublicationState, Rsvp, RsvpState
from hamseda.campaigns.models import Campaign
from hamseda.campaigns.views import campaign_for_organisers
from hamseda.languages import CODES as LANGUAGES
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import (
    CAN_EDIT,
    CAN_EXPORT,
    CAN_VIEW_NUMBERS,
    check_access,
    organizations_where,
    role_in,
)
from hamseda.petitions.views.organize import _render, organizer_view

LANGUAGE_NAMES = dict(settings.LANGUAGES)


def _day_for(request, slug: str) -> DayOfAction:
    day = get_object_or_404(
        DayOfAction.objects.select_related("campaign__organization").prefetch_related(
            "translations"
        ),
        slug=slug,
    )
    check_access(request.user, day.campaign.organization, CAN_EDIT)
    return day


def _event_for(request, slug: str, roles: AbstractSet[str]) -> Event:
    """The event, if the user has one of `roles` in the campaign's organisation or in
    the host's; 404 for a member of neither, 403 for a member without the role."""
    event = get_object_or_404(
        Event.objects.select_related("day__campaign__organization", "host").prefetch_related(
            "translations"
        ),
        slug=slug,
    )
    organizations = {event.day.campaign.organization, event.host}
    held = [role_in(request.user, organization) for organization in organizations]
    if not any(held):
        raise Http404
    if not any(role in roles for role in held):
        raise PermissionDenied
    return event


def _may_edit_event(user, event: Event) -> bool:
    return any(
        role_in(user, organization) in CAN_EDIT
        for organization in {event.day.campaign.organization, event.host}
    )


# --- days ---------------------------------------------------------------------------------


@organizer_view
@require_safe
def my_events(request: HttpRequest) -> HttpResponse:
    """Days of the user's organisations' campaigns, and the events their organisations
    host (a partner's members find the events they host here)."""
    organizations = organizations_where(request.user, CAN_VIEW_NUMBERS)
    if not organizations.exists():
        raise PermissionDenied
    days = (
        DayOfAction.objects.filter(campaign__organization__in=organizations)
        .select_related("campaign")
        .prefetch_related("translations")
    )
    events = (
        Event.objects.filter(host__in=organizations)
        .select_related("day", "host")
        .prefetch_related("translations")
        .order_by("starts_at")
    )
    campaigns = Campaign.objects.filter(
        organization__in=organizations_where(request.user, CAN_EDIT)
    )
    return _render(
        request,
        "actions/organize/my_events.html",
        {"days": days, "events": events, "campaigns": campaigns},
    )


@organizer_view
@require_http_methods(["GET", "POST"])
def days(request: HttpRequest, campaign: str) -> HttpResponse:
    """The campaign's days of action, and the form for a new one."""
    campaign_obj = campaign_for_organisers(request, campaign)
    return _day_edit(request, campaign_obj, None)


def _day_text_forms(request, day: DayOfAction | None) -> list[DayTextForm]:
    if request.method == "POST":
        return [DayTextForm(request.POST, language=code) for code in LANGUAGES]
    existing = {t.language: t for t in day.translations.all()} if day else {}
    return [
        DayTextForm(
            language=code,
            initial={f: getattr(existing[code], f) for f in services.DAY_TEXT_FIELDS}
            if code in existing
            else None,
        )
        for code in LANGUAGES
    ]


def _day_edit(request, campaign: Campaign, day: DayOfAction | None) -> HttpResponse:
    initial = {"slug": day.slug, "date": day.date} if day else None
    form = DayForm(request.POST if request.method == "POST" else None, initial=initial)
    text_forms = _day_text_forms(request, day)
    status = 200
    if request.method == "POST":
        valid = form.is_valid() & all([f.is_valid() for f in text_forms])
        texts = {
            f.language: {name: f.cleaned_data[name] for name in services.DAY_TEXT_FIELDS}
            for f in text_forms
            if f.is_valid() and f.is_filled()
        }
        if valid:
            try:
                saved = services.save_day(
                    campaign,
                    slug=form.cleaned_data["slug"],
                    date=form.cleaned_data["date"],
                    texts=texts,
                    day=day,
                    created_by=request.user,
                )
            except services.ActionRefused as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("Saved."))
                return redirect("actions:organize_day", slug=saved.slug)
        status = 400
    return _render(
        request,
        "actions/organize/days.html" if day is None else "actions/organize/day_edit.html",
        {
            "campaign": campaign,
            "day": day,
            "days": campaign.days_of_action.prefetch_related("translations", "events")
            if day is None
            else None,
            "form": form,
            "text_forms": [(f, LANGUAGE_NAMES[f.language]) for f in text_forms],
        },
        status=status,
    )


@organizer_view
@require_http_methods(["GET", "POST"])
def day_edit(request: HttpRequest, slug: str) -> HttpResponse:
    day = _day_for(request, slug)
    return _day_edit(request, day.campaign, day)


@organizer_view
@require_safe
def day_detail(request: HttpRequest, slug: str) -> HttpResponse:
    day = _day_for(request, slug)
    return _render(
        request,
        "actions/organize/day.html",
        {
            "day": day,
            "text": day.text(),
            "events": day.events.select_related("host").prefetch_related("translations"),
        },
    )


@organizer_view
@require_POST
def day_publish(request: HttpRequest, slug: str) -> HttpResponse:
    day = _day_for(request, slug)
    try:
        services.publish_day(day)
        messages.success(request, _("Published."))
    except services.ActionRefused as error:
        messages.error(request, str(error))
    return redirect("actions:organize_day", slug=day.slug)


@organizer_view
@require_POST
def day_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    day = _day_for(request, slug)
    try:
        services.cancel_day(day)
        messages.success(request, _("Cancelled. Attendees who asked for notices are told."))
    except services.ActionRefused as error:
        messages.error(request, str(error))
    return redirect("actions:organize_day", slug=day.slug)


# --- events -------------------------------------------------------------------------------


def _event_text_forms(request, event: Event | None) -> list[EventTextForm]:
    if request.method == "POST":
        return [EventTextForm(request.POST, language=code) for code in LANGUAGES]
    existing = {t.language: t for t in event.translations.all()} if event else {}
    return [
        EventTextForm(
            language=code,
            initial={f: getattr(existing[code], f) for f in services.EVENT_TEXT_FIELDS}
            if code in existing
            else None,
        )
        for code in LANGUAGES
    ]


def _event_initial(event: Event) -> dict:
    return {
        "slug": event.slug,
        "host": event.host_id,
        "city": event.city,
        "country": event.country,
        "venue": event.venue,
        "starts_at": services.local_time(event.starts_at, event.time_zone).replace(tzinfo=None),
        "ends_at": services.local_time(event.ends_at, event.time_zone).replace(tzinfo=None),
        "time_zone": event.time_zone,
        "capacity": event.capacity,
        "contact": event.contact,
        "latitude": event.latitude,
        "longitude": event.longitude,
    }


def _event_edit(request, day: DayOfAction, event: Event | None) -> HttpResponse:
    hosts = Organization.objects.filter(
        pk__in=[org.pk for org in services.allowed_hosts(day.campaign)]
    )
    form = EventForm(
        request.POST if request.method == "POST" else None,
        hosts=hosts,
        initial=_event_initial(event) if event else {"host": day.campaign.organization_id},
    )
    text_forms = _event_text_forms(request, event)
    status = 200
    if request.method == "POST":
        valid = form.is_valid() & all([f.is_valid() for f in text_forms])
        texts = {
            f.language: {name: f.cleaned_data[name] for name in services.EVENT_TEXT_FIELDS}
            for f in text_forms
            if f.is_valid() and f.is_filled()
        }
        if valid:
            data = form.cleaned_data
            try:
                saved = services.save_event(day, texts=texts, event=event, **data)
            except services.ActionRefused as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("Saved."))
                return redirect("actions:organize_event", slug=saved.slug)
        status = 400
    return _render(
        request,
        "actions/organize/event_edit.html",
        {
            "day": day,
            "event": event,
            "form": form,
            "text_forms": [(f, LANGUAGE_NAMES[f.language]) for f in text_forms],
        },
        status=status,
    )


@organizer_view
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest, slug: str) -> HttpResponse:
    day = _day_for(request, slug)
    return _event_edit(request, day, None)


@organizer_view
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_for(request, slug, CAN_EDIT)
    return _event_edit(request, event.day, event)


@organizer_view
@require_safe
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Counts only (PRIVACY.md rule 5): confirmed, pending, capacity."""
    event = _event_for(request, slug, CAN_VIEW_NUMBERS)
    pending = Rsvp.objects.filter(event=event, state=RsvpState.PENDING).count()
    return _render(
        request,
        "actions/organize/event.html",
        {
            "event": event,
            "text": event.text(),
            "pending": pending,
            "can_edit": _may_edit_event(request.user, event),
            "can_export": role_in(request.user, event.host) in CAN_EXPORT,
            "is_draft": event.state == PublicationState.DRAFT,
            "is_cancelled": event.state == PublicationState.CANCELLED,
        },
    )


@organizer_view
@require_POST
def event_publish(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_for(request, slug, CAN_EDIT)
    try:
        services.publish_event(event)
        messages.success(request, _("Published."))
    except services.ActionRefused as error:
        messages.error(request, str(error))
    return redirect("actions:organize_event", slug=event.slug)


@organizer_view
@require_POST
def event_cancel(request: HttpRequest, slug: str) -> HttpResponse:
    event = _event_for(request, slug, CAN_EDIT)
    try:
        services.cancel_event(event)
        messages.success(request, _("Cancelled. Attendees who asked for notices are told."))
    except services.ActionRefused as error:
        messages.error(request, str(error))
    return redirect("actions:organize_event", slug=event.slug)


@organizer_view
@require_http_methods(["GET", "POST"])
def attendees(request: HttpRequest, slug: str) -> HttpResponseBase:
    """GET: what the sealed attendee list holds and how to open it. POST: the list,
    streamed, audited first. Only the host's owners and organisers, with two-factor
    login: the records are sealed to the host's key."""
    event = get_object_or_404(Event.objects.select_related("host", "day"), slug=slug)
    campaign_role = role_in(request.user, event.day.campaign.organization)
    if role_in(request.user, event.host) is None:
        if campaign_role is None:
            raise Http404
        # The campaign's organisers see that the list exists, but it is not theirs.
        raise PermissionDenied
    check_access(request.user, event.host, CAN_EXPORT, two_factor=True)
    if request.method == "GET":
        return _render(
            request,
            "actions/organize/attendees.html",
            {
                "event": event,
                "text": event.text(),
                "records": Rsvp.objects.filter(event=event).count(),
            },
        )
    plan = export.start_export(event, actor=request.user, via="web")
    response = StreamingHttpResponse(
        export.export_lines(plan), content_type="application/x-ndjson; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.file_name(plan)}"'
    response["Cache-Control"] = "no-store"
    return response
