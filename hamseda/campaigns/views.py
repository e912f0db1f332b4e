from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from hamseda.campaigns.models import Campaign
from hamseda.orgs.permissions import CAN_EDIT, check_access
from hamseda.petitions.services import open_petitions


def home(request: HttpRequest) -> HttpResponse:
    petitions = list(open_petitions())
    campaign_ids = {p.campaign_id for p in petitions if p.campaign_id}
    campaigns = Campaign.objects.filter(is_public=True, pk__in=campaign_ids).prefetch_related(
        "translations"
    )
    return render(request, "campaigns/home.html", {"petitions": petitions, "campaigns": campaigns})


def detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(
        Campaign.objects.prefetch_related("translations"), slug=slug, is_public=True
    )
    petitions = [p for p in open_petitions() if p.campaign_id == campaign.pk]
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "text": campaign.text(),
            "petitions": petitions,
        },
    )


def campaign_for_organisers(request: HttpRequest, slug: str) -> Campaign:
    """The campaign behind an organiser page (kit design, days of action, press,
    partners), for members with an editing role in its organisation; another
    organisation's member gets a 404 (orgs.permissions.check_access)."""
    campaign = get_object_or_404(
        Campaign.objects.select_related("organization").prefetch_related("translations"),
        slug=slug,
    )
    check_access(request.user, campaign.organization, CAN_EDIT)
    return campaign
