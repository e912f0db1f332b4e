"""Downloading a sealed export, and the page that decrypts one in the organiser's browser.

Exports need the export role and two-factor login (orgs.permissions) and each one is
audited before its first byte is sent (vault.export.start_export). The decrypt page
sends nothing to the server: no form, and a policy that forbids its scripts to connect
anywhere (vault.csp).
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_safe

from hamseda.orgs.permissions import (
    CAN_EXPORT,
    CAN_VIEW_NUMBERS,
    check_access,
    organizations_where,
)
from hamseda.petitions.models import Petition, Signature
from hamseda.petitions.views.organize import organizer_view
from hamseda.vault import export
from hamseda.vault.csp import allow_sodium


@organizer_view
@require_http_methods(["GET", "POST"])
def export_signatures(request: HttpRequest, slug: str) -> HttpResponseBase:
    """GET: what the export holds and how to open it. POST: the export, streamed."""
    petition = get_object_or_404(Petition.objects.select_related("organization"), slug=slug)
    check_access(request.user, petition.organization, CAN_EXPORT, two_factor=True)
    if request.method == "GET":
        return render(
            request,
            "vault/export.html",
            {
                "petition": petition,
                "text": petition.text(),
                "records": Signature.objects.filter(petition=petition).count(),
            },
        )
    plan = export.start_export(petition, actor=request.user, via="web")
    response = StreamingHttpResponse(
        export.export_lines(plan), content_type="application/x-ndjson; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.file_name(plan)}"'
    response["Cache-Control"] = "no-store"
    return response


@organizer_view
@require_safe
def decrypt(request: HttpRequest) -> HttpResponse:
    if not organizations_where(request.user, CAN_VIEW_NUMBERS).exists():
        raise PermissionDenied  # Logged in, but a member of no organisation.
    return allow_sodium(render(request, "vault/decrypt.html"))
