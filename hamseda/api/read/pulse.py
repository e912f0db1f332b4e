"""A campaign's hashtag totals (hamseda.pulse): posts, authors, platforms, kinds and
milestones, as the public pulse page shows them. A 404 when the campaign has no pulse
or its organisers keep it to themselves (`public_totals` answers None then).

Only totals: never a post's text, author or link (the posts are people's, and the
wall of posts is the pulse page's business, with its moderation).
"""

from datetime import datetime

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.decorators import decorate_view

from hamseda.api.http import max_age
from hamseda.api.read.schemas import ErrorOut
from hamseda.campaigns.models import Campaign

router = Router(tags=["campaigns"])

# Totals change when posts are imported, every few minutes at most.
PULSE_MAX_AGE = 60


class PlatformCountsOut(Schema):
    x: int
    bluesky: int
    mastodon: int


class PulseMilestoneOut(Schema):
    count: int
    passed_at: datetime | None


class PulseOut(Schema):
    campaign: str = Field(description="The campaign's slug")
    posts: int = Field(
        description=(
            "Posts with the campaign's hashtags: hidden ones included (they leave the wall, "
            "not the count), deleted ones not"
        )
    )
    authors: int = Field(description="Distinct accounts that posted")
    by_platform: PlatformCountsOut
    originals: int
    replies: int
    quotes: int
    reposts: int
    first_post_at: datetime | None
    last_post_at: datetime | None
    updated_at: datetime | None = Field(description="When the totals were last brought up to date")
    milestones: list[PulseMilestoneOut]


def pulse_totals(campaign: Campaign) -> dict | None:
    """The public totals of hamseda.pulse, or None."""
    from hamseda.pulse.analytics import public_totals

    return public_totals(campaign)


@router.get(
    "/campaigns/{slug}/pulse",
    response={200: PulseOut, 404: ErrorOut},
    url_name="campaign_pulse",
)
@decorate_view(max_age(PULSE_MAX_AGE))
def get_pulse(request: HttpRequest, slug: str):
    """A campaign's hashtag totals: posts and authors in all, by platform and by kind,
    and the milestones passed."""
    campaign = get_object_or_404(Campaign, slug=slug, is_public=True)
    totals = pulse_totals(campaign)
    if totals is None:
        raise Http404
    return {"campaign": campaign.slug, **totals}
