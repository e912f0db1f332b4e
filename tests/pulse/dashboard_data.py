"""A small campaign with known figures for the dashboard tests (analytics, charts,
pages, moderation). Everything goes through the services: ingest, rebuild, hide.

The posts (times UTC, March 2025; hashtags besides #bantaliban, which every post has):

| id | platform | author | time      | kind     | lang  | other tags                 | engagement |
| -- | -------- | ------ | --------- | -------- | ----- | -------------------------- | ---------- |
| 1  | x        | a1     | 1st 10:05 | original | en    | afghanwomen                | 15         |
| 2  | x        | a2     | 1st 10:40 | reply    | fa    |                            | 1          |
| 3  | x        | a1     | 1st 11:10 | repost   | en    | afghanwomen                | 0          |
| 4  | bluesky  | b1     | 1st 10:20 | original | fa    | letgirlslearn              | 30         |
| 5  | bluesky  | b2     | 2nd 09:00 | quote    | ps    |                            | 3          |
| 6  | mastodon | m1     | 2nd 09:30 | original | en-GB | afghanwomen, letgirlslearn | 4          |
| 7  | mastodon | m1     | 3rd 12:10 | original | none  |                            | 0          |
| 8  | x        | a4     | 2nd 10:00 | deleted by its author afterwards            |            |
| 9  | x        | a3     | 2nd 10:15 | original | de    |                            | 100 hidden |

So: 8 posts counted (x 4, bluesky 2, mastodon 2), 6 authors (x 3, bluesky 2,
mastodon 1), 1 deleted, 1 hidden; 5 originals, 1 reply, 1 quote, 1 repost.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hamseda.campaigns.models import Campaign
from hamseda.petitions import services as petition_services
from hamseda.petitions.models import Petition
from hamseda.pulse import moderation, pulses
from hamseda.pulse.ingest import ingest_records
from hamseda.pulse.models import PlatformCount, Post, Source
from hamseda.pulse.records import PostRecord
from tests.conftest import make_petition, signer

NOW = datetime(2025, 3, 3, 12, 30, tzinfo=UTC)
MILESTONES = "2 5 8 100"


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def _record(number, platform, author, when, kind, language, tags, **counts) -> PostRecord:
    platform_id = {
        "x": str(1000 + number),
        "bluesky": f"at://did:plc:{author}/app.bsky.feed.post/{number}",
        "mastodon": f"https://mastodon.example/users/{author}/statuses/{number}",
    }[platform]
    url = {
        "x": f"https://x.com/{author}/status/{1000 + number}",
        "bluesky": f"https://bsky.app/profile/{author}.bsky.social/post/{number}",
        "mastodon": f"https://mastodon.example/@{author}/{number}",
    }[platform]
    return PostRecord(
        platform=platform,
        platform_id=platform_id,
        author_id=f"id-{author}",
        author_handle=f"@example_{author}",
        created_at=when,
        text=f"Post {number} #BanTaliban",
        language=language,
        kind=kind,
        hashtags=["bantaliban", *tags],
        url=url,
        **counts,
    )


RECORDS = [
    _record(
        1, "x", "a1", at(1, 10, 5), "original", "en", ["afghanwomen"], like_count=10, repost_count=5
    ),
    _record(2, "x", "a2", at(1, 10, 40), "reply", "fa", [], like_count=1),
    _record(3, "x", "a1", at(1, 11, 10), "repost", "en", ["afghanwomen"]),
    _record(4, "bluesky", "b1", at(1, 10, 20), "original", "fa", ["letgirlslearn"], like_count=30),
    _record(5, "bluesky", "b2", at(2, 9, 0), "quote", "ps", [], like_count=2, quote_count=1),
    _record(
        6,
        "mastodon",
        "m1",
        at(2, 9, 30),
        "original",
        "en-gb",
        ["afghanwomen", "letgirlslearn"],
        repost_count=4,
    ),
    _record(7, "mastodon", "m1", at(3, 12, 10), "original", "", []),
    _record(8, "x", "a4", at(2, 10, 0), "original", "en", []),
    _record(9, "x", "a3", at(2, 10, 15), "original", "de", [], like_count=100),
]


@dataclass
class Scene:
    campaign: Campaign
    petition: Petition
    posts: dict[int, Post]


def post_of(campaign: Campaign, number: int) -> Post:
    record = RECORDS[number - 1]
    return Post.objects.get(
        campaign=campaign, platform=record.platform, platform_id=record.platform_id
    )


def make_scene(organization, *, is_public: bool = True, show_wall: bool = True) -> Scene:
    petition = make_petition(organization)
    campaign = petition.campaign
    pulses.save_settings(
        campaign,
        is_public=is_public,
        show_wall=show_wall,
        keywords="",
        milestones=MILESTONES,
        now=NOW,
    )
    ingest_records(campaign, RECORDS, now=NOW)
    deleted = RECORDS[7]
    notice = PostRecord(
        platform=deleted.platform,
        platform_id=deleted.platform_id,
        author_id="",
        author_handle="",
        created_at=deleted.created_at,
        deleted=True,
    )
    ingest_records(campaign, [notice], now=NOW)
    moderation.set_hidden(post_of(campaign, 9), True, now=NOW)
    # X's own counts for one source: 70 on the 1st, 7 on the 2nd.
    source = Source.objects.create(
        campaign=campaign, platform="x", query="BanTaliban", created_at=NOW
    )
    for hour, posts in ((at(1, 10, 0), 50), (at(1, 11, 0), 20), (at(2, 10, 0), 7)):
        PlatformCount.objects.create(source=source, hour=hour, posts=posts)
    # Confirmed signatures: two on the 1st, one on the 3rd.
    for number, when in ((1, at(1, 15, 0)), (2, at(1, 16, 0)), (3, at(3, 8, 0))):
        petition_services.record_confirmed_signature(petition, signer(number), now=when)
    posts = {number: post_of(campaign, number) for number in range(1, 10)}
    return Scene(campaign, petition, posts)


def later(hours: int) -> datetime:
    return NOW + timedelta(hours=hours)


SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def svgs_of(html: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML (so each must be well-formed)."""
    return [
        ET.fromstring(found)  # noqa: S314 - our own SVG, parsed in a test.
        for found in SVG.findall(html)
    ]
