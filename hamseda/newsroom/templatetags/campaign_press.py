"""The campaign's latest press releases, on its page: `{% campaign_press campaign %}`."""

from django import template

from hamseda.newsroom import services

register = template.Library()
LATEST = 3


@register.inclusion_tag("newsroom/_campaign_press.html")
def campaign_press(campaign) -> dict:
    """The three latest public releases (none under embargo, query-time check) and
    links to the press page, its Atom feed and the press kit."""
    from hamseda.newsroom.views import shown

    releases = services.public_releases(campaign)[:LATEST]
    return {"campaign": campaign, "items": [shown(release) for release in releases]}
