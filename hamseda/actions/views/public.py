"""Public pages of days of action and events: the day with its events by country and
city, the event with its RSVP form, and the RSVP's confirm and withdraw links.

Drafts are 404s. A cancelled event stays visible, marked cancelled, so people who
planned to go learn it is off. Pages with a person's link (confirm, withdraw) and the
answer to an RSVP are never cached.
"""

from itertools import groupby

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hamseda.actions import rsvps, services
from hamseda.actions.forms import RsvpForm
from hamseda.actions.models import DayOfAction, Event, PublicationState
from hamseda.integrity import checks as integrity
from hamseda.languages import current_language
from hamseda.network import client_fingerprint
from hamseda.petitions.countries import country_name
from hamseda.petitions.markdown import render_story

PUBLIC_STATES = {PublicationState.PUBLISHED, PublicationState.CANCELLED}


def _public_day(campaign: str, slug: str) -> DayOfAction:
    day = get_object_or_404(
        DayOfAction.objects.select_related("campaign").prefetch_related("translations"),
        slug=slug,
        campaign__slug=campaign,
    )
    if day.state not in PUBLIC_STATES or not day.campaign.is_public:
        raise Http404
    return day


def _public_event(slug: str) -> Event:
    event = get_object_or_404(
        Event.objects.select_related("day__campaign", "host").prefetch_related(
            "translations", "day__translations"
        ),
        slug=slug,
    )
    if event.state not in PUBLIC_STATES or event.day.state not in PUBLIC_STATES:
        raise Http404
    return event


def places(events) -> list[dict]:
    """Events grouped by country (named in the reader's language), then city."""
    language = current_language()
    rows = [
        {"event": event, "text": event.text(), "country": country_name(event.country, language)}
        for event in events
    ]
    rows.sort(key=lambda row: (row["country"], row["event"].city, row["event"].starts_at))
    grouped = []
    for country, in_country in groupby(rows, key=lambda row: row["country"]):
        cities = [
            {"city": city, "events": list(in_city)}
            for city, in_city in groupby(in_country, key=lambda row: row["event"].city)
        ]
        grouped.append({"country": country, "cities": cities})
    return grouped


def spaces_left(event: Event) -> int | None:
    if event.capacity is None:
        return None
    return max(0, event.capacity - event.attendee_count)


@require_safe
def day(request: HttpRequest, campaign: str, slug: str) -> HttpResponse:
    day = _public_day(campaign, slug)
    text = day.text()
    events = list(services.public_events(day))
    for event in events:
        event.spaces_left = spaces_left(event)
    return render(
        request,
        "actions/day.html",
        {
            "day": day,
            "text": text,
            "description": render_story(text.description) if text else "",
            "places": places(events),
        },
    )


def _event_page(request, event: Event, form=None, *, status=200, **extra) -> HttpResponse:
    text = event.text()
    now = timezone.now()
    is_open = event.state == PublicationState.PUBLISHED and event.starts_at > now
    full = event.capacity is not None and event.attendee_count >= event.capacity
    if form is None and is_open and not full:
        form = RsvpForm()
    return render(
        request,
        "actions/event.html",
        {
            "event": event,
            "day": event.day,
            "day_text": event.day.text(),
            "text": text,
            "description": render_story(text.description) if text else "",
            "country": country_name(event.country),
            "form": form if is_open and not full else None,
            "is_open": is_open,
            "full": full,
            "spaces_left": spaces_left(event),
            "has_key": bool(event.host.public_key),
            **extra,
        },
        status=status,
    )


@require_safe
def event(request: HttpRequest, slug: str) -> HttpResponse:
    return _event_page(request, _public_event(slug))


@never_cache
@require_POST
def rsvp(request: HttpRequest, slug: str) -> HttpResponse:
    """The RSVP form's POST: the same "check your inbox" page whether the address had
    RSVPed or not (the mail tells its owner); every refusal says why."""
    event = _public_event(slug)
    form = RsvpForm(request.POST)
    if not form.is_valid():
        return _event_page(request, event, form, status=400)
    now = timezone.now()
    try:
        rsvps.check_open(event, now)
    except rsvps.RsvpRefused as refusal:
        return _event_page(request, event, form, status=refusal.status, refusal=str(refusal))
    fingerprint = client_fingerprint(request, now=now)
    refusal = rsvps.check_attempt(
        event, {**request.POST.dict(), **form.cleaned_data}, fingerprint, now=now
    )
    if refusal:
        return _event_page(request, event, form, status=429, refusal=refusal)
    attendee = rsvps.Attendee(
        first_name=form.cleaned_data["first_name"],
        last_name=form.cleaned_data["last_name"],
        email=form.cleaned_data["email"],
        language=current_language(),
        wants_notices=form.cleaned_data["wants_notices"],
        network_fingerprint=fingerprint,
    )
    try:
        outcome = rsvps.rsvp(event, attendee, now=now)
    except rsvps.RsvpRefused as refusal:
        return _event_page(request, event, form, status=refusal.status, refusal=str(refusal))
    if outcome == rsvps.RsvpOutcome.MAIL_LIMITED:
        return _event_page(request, event, form, status=429, refusal=integrity.mail_limit_message())
    return render(
        request, "actions/rsvped.html", {"event": event, "text": event.text(), "day": event.day}
    )


CONFIRM_STATUS = {
    rsvps.ConfirmOutcome.CONFIRMED: 200,
    rsvps.ConfirmOutcome.ALREADY: 200,
    rsvps.ConfirmOutcome.FULL: 409,
    rsvps.ConfirmOutcome.CLOSED: 409,
    rsvps.ConfirmOutcome.EXPIRED: 410,
    rsvps.ConfirmOutcome.INVALID: 404,
}


@never_cache
@require_safe
def confirm(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    event = _public_event(slug)
    outcome = rsvps.confirm_rsvp(event, token)
    event.refresh_from_db(fields=["attendee_count"])
    return render(
        request,
        "actions/confirmed.html",
        {"event": event, "text": event.text(), "day": event.day, "outcome": outcome.value},
        status=CONFIRM_STATUS[outcome],
    )


WITHDRAW_STATUS = {rsvps.WithdrawOutcome.INVALID: 404, rsvps.WithdrawOutcome.GONE: 410}


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """GET says what will happen (mail scanners follow links); the button withdraws."""
    event = _public_event(slug)
    if request.method == "POST":
        outcome = rsvps.withdraw_rsvp(event, token)
    else:
        outcome = rsvps.check_withdrawal(event, token)
    return render(
        request,
        "actions/withdraw.html",
        {"event": event, "text": event.text(), "day": event.day, "outcome": outcome.value},
        status=WITHDRAW_STATUS.get(outcome, 200),
    )
