"""The campaign's coalition partners, on its page."""

from django import template

from hamseda.campaigns.partners import partners_of

register = template.Library()


@register.inclusion_tag("campaigns/partners/_coalition.html")
def campaign_partners(campaign) -> dict:
    """Each partner's logo (served by this install), name, description and a plain
    link to its site: never an asset loaded from another host (PRIVACY.md rule 6)."""
    return {"partners": list(partners_of(campaign))}
