"""The campaign's days of action and their events, on its page."""

from django import template

from hamseda.actions import services

register = template.Library()


@register.inclusion_tag("actions/tags/campaign_days.html")
def campaign_days(campaign) -> dict:
    """Published days of action from today on, with links and the calendar feed."""
    return {
        "campaign": campaign,
        "days": [{"day": day, "text": day.text()} for day in services.upcoming_days(campaign)],
    }
