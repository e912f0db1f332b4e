"""Owners manage their organisation's webhooks under /organize/org/<slug>/webhooks
(docs/api-osdi-webhooks.md). Owners only, with two-factor login (orgs.permissions):
a webhook sends the organisation's petition events to an outside address.

A new webhook's signing secret is shown once, in the answer to its creation (never
stored in the clear, never logged, not cached); the list shows each webhook with its
recent deliveries.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hamseda.api import webhooks
from hamseda.api.models import WebhookEvent, WebhookSubscription
from hamseda.api.webhook_forms import WebhookForm
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import CAN_MANAGE, check_access
from hamseda.petitions.views.organize import organizer_view


def _organization(request: HttpRequest, slug: str) -> Organization:
    organization = get_object_or_404(Organization, slug=slug)
    check_access(request.user, organization, CAN_MANAGE, two_factor=True)
    return organization


def _subscription(organization: Organization, webhook_id: int) -> WebhookSubscription:
    return get_object_or_404(WebhookSubscription, pk=webhook_id, organization=organization)


def _page(
    request: HttpRequest,
    organization: Organization,
    form: WebhookForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    labels = dict(WebhookEvent.choices)
    subscriptions = list(
        WebhookSubscription.objects.filter(organization=organization).order_by("created_at", "pk")
    )
    for subscription in subscriptions:
        subscription.event_labels = [  # type: ignore[attr-defined]
            labels.get(event, event) for event in subscription.event_list
        ]
    return render(
        request,
        "api/webhooks.html",
        {
            "organization": organization,
            "subscriptions": subscriptions,
            "deliveries": webhooks.recent_deliveries(organization),
            "form": form or WebhookForm(),
            "max_failures": webhooks.MAX_FAILURES_IN_A_ROW,
        },
        status=status,
    )


@organizer_view
@require_safe
def webhook_list(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _organization(request, slug))


@organizer_view
@require_POST
def create(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a webhook; the answer shows its secret, once."""
    organization = _organization(request, slug)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _page(request, organization, form, status=400)
    try:
        subscription, secret = webhooks.create_subscription(
            organization,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            created_by=request.user,
        )
    except webhooks.WebhookRefused as refusal:
        form.add_error(None, str(refusal))
        return _page(request, organization, form, status=400)
    response = render(
        request,
        "api/webhook_created.html",
        {"organization": organization, "subscription": subscription, "secret": secret},
    )
    response["Cache-Control"] = "no-store"
    return response


@organizer_view
@require_POST
def delete(request: HttpRequest, slug: str, webhook_id: int) -> HttpResponse:
    organization = _organization(request, slug)
    subscription = _subscription(organization, webhook_id)
    webhooks.delete_subscription(subscription, actor=request.user)
    messages.success(request, _("The webhook was deleted; nothing more will be sent to it."))
    return redirect("apikeys:webhooks", slug=organization.slug)


@organizer_view
@require_POST
def test(request: HttpRequest, slug: str, webhook_id: int) -> HttpResponse:
    organization = _organization(request, slug)
    subscription = _subscription(organization, webhook_id)
    webhooks.send_test(subscription)
    messages.success(
        request,
        _(
            "A test event is on its way and will show below within a minute. If your "
            "endpoint answers with a 2xx status, a switched-off webhook is switched on again."
        ),
    )
    return redirect("apikeys:webhooks", slug=organization.slug)
