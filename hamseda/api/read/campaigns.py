"""Campaigns: the list and one campaign, with its coalition, its petitions and its days
of action. Only public campaigns (Campaign.is_public)."""

from datetime import date as Date

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view

from hamseda.actions.models import DayOfAction, PublicationState
from hamseda.api.http import max_age
from hamseda.api.read.schemas import ErrorOut, LanguageQuery, ListQuery, PageOut, page, speaking
from hamseda.campaigns.models import Campaign, CampaignPartner
from hamseda.links import absolute_url
from hamseda.petitions.models import Petition, PetitionState

router = Router(tags=["campaigns"])

# A campaign's texts and links change rarely.
CAMPAIGN_MAX_AGE = 60
PUBLIC_PETITION_STATES = [PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]
PUBLIC_DAY_STATES = [PublicationState.PUBLISHED, PublicationState.CANCELLED]


class OrganizationOut(Schema):
    name: str
    slug: str


class PartnerOut(Schema):
    name: str = Field(description="The partner organisation")
    url: str = Field(description="Its website, or empty")
    description: str = Field(description="Plain text, in the campaign's main language")
    logo_url: str | None = Field(description="Its logo, served by this install")


class DayLinkOut(Schema):
    slug: str
    date: Date
    title: str
    state: str = Field(description="`published`, or `cancelled`")
    url: str


class CampaignOut(Schema):
    slug: str
    name: str
    description: str = Field(description="Plain text")
    language: str = Field(description="The language of name and description")
    languages: list[str] = Field(description="Languages the campaign is written in")
    hashtags: list[str] = Field(description="Without '#'")
    colour: str = Field(description="Brand colour, #rrggbb")
    accent_colour: str = Field(description="Second colour, #rrggbb")
    organization: OrganizationOut
    partners: list[PartnerOut] = Field(description="Coalition partners, in their order")
    petitions: list[str] = Field(description="Slugs of the campaign's public petitions")
    days_of_action: list[DayLinkOut]
    pulse: str = Field(description="The campaign's hashtag totals in this API (may be 404)")
    url: str = Field(description="The campaign's page in the requested language")


class CampaignPage(PageOut):
    items: list[CampaignOut]


def public_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.filter(is_public=True)
        .select_related("organization")
        .prefetch_related(
            "translations",
            Prefetch(
                "partners",
                queryset=CampaignPartner.objects.select_related("organization"),
            ),
            Prefetch(
                "petitions",
                queryset=Petition.objects.filter(state__in=PUBLIC_PETITION_STATES)
                .only("pk", "slug", "campaign_id")
                .order_by("-opened_at", "-pk"),
                to_attr="public_petitions",
            ),
            Prefetch(
                "days_of_action",
                queryset=DayOfAction.objects.filter(state__in=PUBLIC_DAY_STATES)
                .prefetch_related("translations")
                .order_by("date", "slug"),
                to_attr="public_days",
            ),
        )
    )


def campaign_json(campaign: Campaign, language: str) -> dict:
    with speaking(language):
        text = campaign.text()
        days = []
        for day in campaign.public_days:
            day_text = day.text()
            days.append(
                {
                    "slug": day.slug,
                    "date": day.date,
                    "title": day_text.title if day_text else day.slug,
                    "state": day.state,
                    "url": absolute_url(reverse("actions:day", args=[campaign.slug, day.slug])),
                }
            )
        return {
            "slug": campaign.slug,
            "name": text.name if text else campaign.slug,
            "description": text.description if text else "",
            "language": text.language if text else campaign.default_language,
            "languages": sorted(t.language for t in campaign.translations.all()),
            "hashtags": campaign.hashtag_list,
            "colour": campaign.colour,
            "accent_colour": campaign.accent_colour,
            "organization": {
                "name": campaign.organization.name,
                "slug": campaign.organization.slug,
            },
            "partners": [
                {
                    "name": partner.organization.name,
                    "url": partner.url,
                    "description": partner.description,
                    "logo_url": absolute_url(partner.logo.url) if partner.logo else None,
                }
                for partner in campaign.partners.all()
            ],
            "petitions": [petition.slug for petition in campaign.public_petitions],
            "days_of_action": days,
            "pulse": absolute_url(reverse("api:campaign_pulse", args=[campaign.slug])),
            "url": absolute_url(reverse("campaign", args=[campaign.slug])),
        }


@router.get("/campaigns", response={200: CampaignPage, 422: ErrorOut})
@decorate_view(max_age(CAMPAIGN_MAX_AGE))
def list_campaigns(request: HttpRequest, query: Query[ListQuery]):
    """Public campaigns, newest first."""
    items, paging = page(public_campaigns().order_by("-created_at", "-pk"), query)
    return {"items": [campaign_json(c, query.lang) for c in items], **paging}


@router.get("/campaigns/{slug}", response={200: CampaignOut, 404: ErrorOut, 422: ErrorOut})
@decorate_view(max_age(CAMPAIGN_MAX_AGE))
def get_campaign(request: HttpRequest, slug: str, query: Query[LanguageQuery]):
    """One public campaign: its texts, hashtags, colours, coalition, petitions and days
    of action."""
    return campaign_json(get_object_or_404(public_campaigns(), slug=slug), query.lang)
