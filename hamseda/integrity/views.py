"""The audit log pages: owners read and export their organisation's log. And the
moderators' integrity page of a petition: trends and flagged bursts (integrity.trends)."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.integrity import audit, trends
from hamseda.integrity.models import AuditAction
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import CAN_MANAGE, CAN_MODERATE, check_access
from hamseda.petitions.countries import country_name
from hamseda.petitions.views.organize import _petition_for, _render, organizer_view

PAGE_SIZE = 100


def _organization(request, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    check_access(request.user, organization, CAN_MANAGE, two_factor=True)
    return organization


def _filtered(request, organization: Organization):
    events = audit.events_of(organization)
    action = request.GET.get("action", "")
    if action in AuditAction.values:
        events = events.filter(action=action)
    else:
        action = ""
    return events, action


@organizer_view
def log(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(request, slug)
    events, action = _filtered(request, organization)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "integrity/audit_log.html",
        {
            "organization": organization,
            "page": page,
            "action": action,
            "actions": AuditAction.choices,
        },
    )


@organizer_view
def log_csv(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(request, slug)
    events, action = _filtered(request, organization)
    # The export itself is an event: who took a copy of the log, and when.
    audit.record(
        AuditAction.AUDIT_EXPORT,
        organization=organization,
        actor=request.user,
        details={"action": action} if action else None,
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = HttpResponse(audit.as_csv(events.iterator()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{organization.slug}-{stamp}.csv"'
    )
    return response


# --- The moderators' integrity page (integrity.trends, docs/integrity.md, "Integrity trends") ---

# The page reloads itself this often (a meta refresh: no script, works without
# JavaScript; the trends are aggregated about once a minute anyway).
REFRESH_SECONDS = 60


# The per-minute chart's drawing box (SVG user units); CSS scales it to the page.
CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 600, 120, 2


def _bar_chart(per_minute: list) -> dict:
    """Bars of a server-drawn SVG chart, one per minute, oldest on the left."""
    peak = max([n for _start, n in per_minute] or [0]) or 1
    step = CHART_WIDTH / max(1, len(per_minute))
    bars = []
    for i, (start, n) in enumerate(per_minute):
        height = round(n * CHART_HEIGHT / peak, 1)
        bars.append(
            {
                "x": round(i * step, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(step - BAR_GAP, 1),
                "height": height,
                "start": start,
                "count": n,
            }
        )
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": bars, "peak": peak}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    if seconds < 3600:
        if seconds % 60 == 0:  # "1 min", not "1 min 0 s", on the table's round bounds
            return _("%(m)d min") % {"m": seconds // 60}
        return _("%(m)d min %(s)d s") % {"m": seconds // 60, "s": seconds % 60}
    if seconds % 3600 == 0:
        return _("%(h)d h") % {"h": seconds // 3600}
    return _("%(h)d h %(m)d min") % {"h": seconds // 3600, "m": seconds % 3600 // 60}


def _delay_rows(delays: dict) -> list[tuple[str, int, float]]:
    """(label, count, percent of the sample) for each class of confirmation delay."""
    rows, lower = [], None
    sample = delays["sample"] or 1
    for entry in delays["classes"]:
        upper = entry["under_seconds"]
        if lower is None:
            label = _("under %(t)s") % {"t": _duration(upper)}
        elif upper is None:
            label = _("%(t)s or more") % {"t": _duration(lower)}
        else:
            label = _("%(a)s to %(b)s") % {"a": _duration(lower), "b": _duration(upper)}
        rows.append((label, entry["count"], entry["count"] * 100 / sample))
        lower = upper
    return rows


@organizer_view
def integrity_page(request: HttpRequest, slug: str) -> HttpResponse:
    petition = _petition_for(request, slug, CAN_MODERATE)
    report = trends.integrity_report(petition)
    if request.GET.get("format") == "json":
        return JsonResponse(report.as_json())
    return _render(
        request,
        "integrity/integrity.html",
        {
            "petition": petition,
            "text": petition.text(),
            "report": report,
            "chart": _bar_chart(report.per_minute),
            "median_delay": _duration(report.delays["median_seconds"]),
            "delay_rows": _delay_rows(report.delays),
            "source_tables": [
                {
                    "heading": _("E-mail domains, last hour"),
                    "sources": report.domains_hour,
                    "kind": "domain",
                    "usual": True,
                },
                {
                    "heading": _("Network fingerprints, last hour"),
                    "sources": report.networks_hour,
                    "kind": "network",
                    "usual": True,
                },
                {
                    "heading": _("E-mail domains, last day"),
                    "sources": report.domains_day,
                    "kind": "domain",
                    "usual": False,
                },
                {
                    "heading": _("Network fingerprints, last day"),
                    "sources": report.networks_day,
                    "kind": "network",
                    "usual": False,
                },
            ],
            "countries": [(country_name(s.key), s) for s in report.countries_day],
            "rules": {
                "domain": trends.DOMAIN_RULE,
                "network": trends.NETWORK_RULE,
                "spike": trends.SPIKE_RULE,
                "pending": trends.PENDING_RULE,
            },
            "refresh_seconds": REFRESH_SECONDS,
        },
    )
