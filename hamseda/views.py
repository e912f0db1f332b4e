"""Site-wide views: health check, and the pages for errors and refused forms."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means "unhealthy".
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/csrf.html", status=403)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    from hamseda.orgs.permissions import TwoFactorRequired

    if isinstance(exception, TwoFactorRequired):
        return render(request, "errors/two_factor_required.html", status=403)
    return render(request, "errors/403.html", status=403)


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text: petitions, confirmed signatures, the mail queue.

    For organisers and for scrapers on the same machine; counts only, nothing personal.
    """
    from django.db.models import Count, Sum
    from django.http import Http404

    from hamseda.mail.models import OutboundMessage
    from hamseda.network import is_loopback
    from hamseda.orgs.models import Membership
    from hamseda.petitions.models import Petition

    is_member = (
        request.user.is_authenticated and Membership.objects.filter(user=request.user).exists()
    )
    if not (is_loopback(request) or is_member):
        raise Http404
    lines = [
        "# HELP hamseda_petitions Petitions by state.",
        "# TYPE hamseda_petitions gauge",
    ]
    for row in Petition.objects.values("state").annotate(n=Count("id")).order_by("state"):
        lines.append(f'hamseda_petitions{{state="{row["state"]}"}} {row["n"]}')
    confirmed = Petition.objects.aggregate(n=Sum("signature_count"))["n"] or 0
    lines += [
        "# HELP hamseda_confirmed_signatures Confirmed signatures on all petitions.",
        "# TYPE hamseda_confirmed_signatures gauge",
        f"hamseda_confirmed_signatures {confirmed}",
        "# HELP hamseda_outbox_messages Outgoing mail by state.",
        "# TYPE hamseda_outbox_messages gauge",
    ]
    for row in OutboundMessage.objects.values("state").annotate(n=Count("id")).order_by("state"):
        lines.append(f'hamseda_outbox_messages{{state="{row["state"]}"}} {row["n"]}')
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")
