"""Coalition pages for organisers (campaigns.partners).

- The campaign's organisation (CAN_EDIT) lists, adds, changes and removes partners.
- A partner's members see what their organisation is partner of (`mine`), and its
  owners and organizers, with two-factor login, export the consents signers gave it
  (`contacts`): audited, sealed to the partner's own key. The petition's organisation
  cannot export them (it is not a member of the partner), and the partner cannot export
  the petition's signatures (vault's export checks the petition's organisation).

Another organisation's member gets a 404, as everywhere under /organize/.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hamseda.campaigns import partners
from hamseda.campaigns.models import Campaign, CampaignPartner
from hamseda.campaigns.partner_forms import AddPartnerForm, EditPartnerForm
from hamseda.campaigns.views import campaign_for_organisers
from hamseda.orgs.models import Organization
from hamseda.orgs.permissions import (
    CAN_EDIT,
    CAN_EXPORT,
    CAN_VIEW_NUMBERS,
    check_access,
    organizations_where,
)
from hamseda.petitions.views.organize import _render, organizer_view
from hamseda.vault import export


def _partner_for(request, pk: int) -> CampaignPartner:
    partner = get_object_or_404(
        CampaignPartner.objects.select_related("campaign__organization", "organization"), pk=pk
    )
    check_access(request.user, partner.campaign.organization, CAN_EDIT)
    return partner


@organizer_view
@require_http_methods(["GET", "POST"])
def partner_list(request: HttpRequest, campaign: str) -> HttpResponse:
    """The coalition of a campaign, and the form to add a partner."""
    the_campaign = campaign_for_organisers(request, campaign)
    bound = (request.POST, request.FILES) if request.method == "POST" else ()
    form = AddPartnerForm(*bound, campaign=the_campaign)
    if request.method == "POST" and form.is_valid():
        try:
            partner = partners.add_partner(
                the_campaign, form.cleaned_data["organization"], **form.details()
            )
        except partners.PartnerRefused as error:
            form.add_error("organization", str(error))
        else:
            messages.success(
                request,
                _("%(name)s is now a partner of this campaign.")
                % {"name": partner.organization.name},
            )
            return redirect("partners:list", campaign=the_campaign.slug)
    return _render(
        request,
        "campaigns/partners/list.html",
        {
            "campaign": the_campaign,
            "text": the_campaign.text(),
            "partners": partners.partners_of(the_campaign),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@organizer_view
@require_http_methods(["GET", "POST"])
def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner_for(request, pk)
    initial = {
        "url": partner.url,
        "description": partner.description,
        "position": partner.position,
    }
    bound = (request.POST, request.FILES) if request.method == "POST" else ()
    form = EditPartnerForm(*bound, initial=initial)
    if request.method == "POST" and form.is_valid():
        partners.update_partner(partner, **form.details())
        messages.success(request, _("Saved."))
        return redirect("partners:list", campaign=partner.campaign.slug)
    return _render(
        request,
        "campaigns/partners/edit.html",
        {"partner": partner, "campaign": partner.campaign, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@organizer_view
@require_POST
def partner_remove(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner_for(request, pk)
    try:
        partners.remove_partner(partner)
    except partners.PartnerRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s is no longer a partner of this campaign.")
            % {"name": partner.organization.name},
        )
    return redirect("partners:list", campaign=partner.campaign.slug)


@organizer_view
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """What the user's organisations are partner of: campaigns, co-hosted petitions,
    counts, and the way to their consenting signers' export."""
    organizations = list(organizations_where(request.user, CAN_VIEW_NUMBERS))
    if not organizations:
        raise PermissionDenied  # Logged in, but a member of no organisation.
    exporters = {o.pk for o in organizations_where(request.user, CAN_EXPORT)}
    return _render(
        request,
        "campaigns/partners/mine.html",
        {"partnerships": partners.partnerships_of(organizations), "exporters": exporters},
    )


@organizer_view
@require_http_methods(["GET", "POST"])
def contacts(request: HttpRequest, org: str, campaign: str) -> HttpResponseBase:
    """GET: what the partner's export holds and how to open it. POST: the export."""
    organization = get_object_or_404(Organization, slug=org)
    check_access(request.user, organization, CAN_EXPORT, two_factor=True)
    the_campaign = get_object_or_404(
        Campaign.objects.prefetch_related("translations"), slug=campaign
    )
    if not partners.has_partner_data(organization, the_campaign):
        raise Http404  # Not a partner of it: nothing of theirs to export.
    if request.method == "GET":
        return _render(
            request,
            "campaigns/partners/contacts.html",
            {
                "organization": organization,
                "campaign": the_campaign,
                "text": the_campaign.text(),
                "records": partners.consenting(organization, the_campaign).count(),
                "has_key": bool(organization.public_key),
            },
        )
    plan = partners.start_contacts_export(organization, the_campaign, actor=request.user, via="web")
    response = StreamingHttpResponse(
        export.export_lines(plan), content_type="application/x-ndjson; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{partners.contacts_file_name(plan)}"'
    response["Cache-Control"] = "no-store"
    return response
