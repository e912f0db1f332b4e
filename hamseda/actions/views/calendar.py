"""The .ics files: one per event, and a feed per campaign (actions.calendar).

Public and free of personal data, so a shared cache may keep them for a few minutes;
calendar apps poll the feed (REFRESH-INTERVAL) and a peak of subscribers then costs one
rendering per language every few minutes, not one per poll.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from hamseda.actions import calendar
from hamseda.actions.models import Event
from hamseda.campaigns.models import Campaign

CONTENT_TYPE = "text/calendar; charset=utf-8"
MAX_AGE = 300


def _ics(body: bytes, filename: str, disposition: str) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


@require_safe
def event_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(
        Event.objects.select_related("day__campaign", "host").prefetch_related("translations"),
        slug=slug,
    )
    if not calendar.is_public(event):
        raise Http404
    # An attachment: a click hands the file to the calendar app, which offers to add it.
    return _ics(calendar.event_calendar(event), f"{event.slug}.ics", "attachment")


@require_safe
def campaign_ics(request: HttpRequest, campaign: str) -> HttpResponse:
    found = get_object_or_404(
        Campaign.objects.prefetch_related("translations"), slug=campaign, is_public=True
    )
    # Inline: apps subscribe to the address; a browser may show or save it.
    return _ics(calendar.campaign_calendar(found), f"{found.slug}-events.ics", "inline")
