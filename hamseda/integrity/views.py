"""The audit log pages: owners read and export their organisation's log."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import CAN_MANAGE, check_access
from hamseda.petitions.views.organize import organizer_view

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
