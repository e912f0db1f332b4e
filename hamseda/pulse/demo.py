"""The demo's hashtag campaign: a few thousand #BanTaliban posts of three weeks on X,
Bluesky and Mastodon, in English, Dari and Pashto (and a little German and Swedish).

Every author is made up (handles start with "example_"), the posts have no links, and
the texts are the campaign's own messages. The curve grows slowly, peaks on the day the
coalition called everyone to post (STORM_DAYS_AGO; the demo's day of action is still
ahead), then settles. Posts go in through pulse.ingest like any import, so the
aggregates are built as in production. Idempotent: a campaign with pulse settings is
left as it is.
"""

import random
from datetime import datetime, timedelta

from django.db import transaction

from hamseda.campaigns.models import Campaign
from hamseda.pulse import moderation, pulses, sources
from hamseda.pulse.hashtags import hashtags_in_text
from hamseda.pulse.ingest import ingest_records
from hamseda.pulse.models import Post, Pulse
from hamseda.pulse.records import PostRecord

POSTS = 4000
DAYS = 21
STORM_DAYS_AGO = 3
AUTHORS = 1300
MILESTONES = "1000 2000 3000 5000"

TEXTS = {
    "en": [
        "Social media companies must stop giving the Taliban a megaphone. #BanTaliban",
        "Girls in Afghanistan have been kept out of school for years. Platforms should "
        "not amplify the people who did it. #BanTaliban #LetAfghanGirlsLearn",
        "I signed the petition asking ExampleSocial to enforce its own rules. "
        "Sign it too. #BanTaliban",
        "A designated terrorist group should not run verified accounts. #BanTaliban",
        "Afghan women deserve the reach that the Taliban's accounts get. #BanTaliban #AfghanWomen",
        "Join the day of action in San Francisco, London and Stockholm. #BanTaliban",
        "Rules that are not enforced are not rules. #BanTaliban #AfghanWomen",
    ],
    "fa": [
        "شبکه‌های اجتماعی نباید بلندگوی طالبان باشند. #BanTaliban #نه_به_طالبان",
        "دختران افغان سال‌هاست از مکتب محروم اند. #BanTaliban #بگذارید_دختران_بخوانند",
        "من دادخواست را امضا کردم؛ شما هم امضا کنید. #BanTaliban",
        "صدای زنان افغان باید شنیده شود، نه تبلیغات طالبان. #BanTaliban #زنان_افغان",
        "در روز اقدام با ما همراه شوید. #BanTaliban",
    ],
    "ps": [
        "ټولنیزې رسنۍ باید د طالبانو غږ لوړ نه کړي. #BanTaliban",
        "افغان نجونې له کلونو راهیسې له ښوونځي بې برخې دي. #BanTaliban #LetAfghanGirlsLearn",
        "ما عریضه لاسلیک کړه، تاسو یې هم لاسلیک کړئ. #BanTaliban",
        "د افغان ښځو غږ ته پام وکړئ. #BanTaliban #AfghanWomen",
    ],
    "de": ["Soziale Netzwerke dürfen den Taliban keine Bühne bieten. #BanTaliban"],
    "sv": ["Sociala medier ska inte ge talibanerna en plattform. #BanTaliban"],
    # X tags a post of hashtags only with a code of its own (pulse.languagenames).
    "qht": ["#BanTaliban #AfghanWomen", "#BanTaliban #LetAfghanGirlsLearn"],
}
LANGUAGES = ["en", "fa", "ps", "de", "sv", "qht"]
LANGUAGE_WEIGHTS = [46, 28, 16, 3, 2, 5]
PLATFORMS = ["x", "bluesky", "mastodon"]
PLATFORM_WEIGHTS = [58, 27, 15]
KINDS = ["original", "repost", "reply", "quote"]
KIND_WEIGHTS = [45, 35, 12, 8]
# Most diaspora posters are in Europe and North America: more posts in the UTC evening.
HOUR_WEIGHTS = [3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 6, 7, 8, 9, 10, 10, 9, 8, 6, 5, 4]
WORDS = ["river", "cedar", "lark", "willow", "saffron", "kite", "amber", "maple", "dawn"]


def _day_weight(days_ago: int) -> float:
    """Slow growth over three weeks, a storm on one day, then a slow settling."""
    if days_ago == STORM_DAYS_AGO:
        return 9.0
    if days_ago < STORM_DAYS_AGO:
        return 2.4 + 0.4 * days_ago
    return max(0.25, 2.2 - 0.1 * days_ago)


def _handle(platform: str, number: int) -> str:
    word = WORDS[number % len(WORDS)]
    if platform == "bluesky":
        return f"example-{word}{number}.bsky.social"
    if platform == "mastodon":
        return f"@example_{word}{number}@mastodon.example"
    return f"@example_{word}{number}"


def _records(now: datetime, rng: random.Random, count: int) -> list[PostRecord]:
    start = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = list(range(DAYS - 1, -1, -1))  # days ago, oldest first
    weights = [_day_weight(days_ago) for days_ago in days]
    records = []
    for number in range(count):
        days_ago = rng.choices(days, weights)[0]
        # Today only has the hours until now.
        hours = range(24) if days_ago else range(now.hour + 1)
        hour = rng.choices(hours, HOUR_WEIGHTS[: len(hours)])[0]
        moment = start + timedelta(days=DAYS - 1 - days_ago, hours=hour, minutes=rng.randrange(60))
        if moment > now:
            moment = now - timedelta(minutes=rng.randrange(1, 60))
        platform = rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0]
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        if language == "qht" and platform != "x":
            language = "en"
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        text = rng.choice(TEXTS[language])
        author = int(rng.paretovariate(1.2) * 40) % AUTHORS
        likes = 0 if kind == "repost" else int(rng.paretovariate(1.5) * 2) - 2
        records.append(
            PostRecord(
                platform=platform,
                platform_id=_platform_id(platform, author, number),
                author_id=f"demo-{platform}-{author}",
                author_handle=_handle(platform, author),
                created_at=moment,
                text=text,
                language=language,
                kind=kind,
                hashtags=hashtags_in_text(text),
                like_count=max(likes, 0),
                repost_count=max(likes // 3, 0),
                reply_count=max(likes // 8, 0),
                quote_count=max(likes // 20, 0),
            )
        )
    return records


def _platform_id(platform: str, author: int, number: int) -> str:
    if platform == "x":
        return str(1_890_000_000_000_000_000 + number)
    if platform == "bluesky":
        return f"at://did:plc:example{author}/app.bsky.feed.post/demo{number}"
    return f"https://mastodon.example/users/example{author}/statuses/{number}"


SPAM = "Buy 10,000 followers today, cheap!!! #BanTaliban #followback"


def add_demo_pulse(campaign: Campaign, *, now: datetime, posts: int = POSTS) -> None:
    """The demo campaign's pulse: settings, a paused Bluesky source (the demo fetches
    nothing from the internet), the posts, and one spam post hidden by a moderator."""
    if Pulse.objects.filter(campaign=campaign).exists():
        return
    rng = random.Random(2025)  # noqa: S311 - demo data, not security.
    with transaction.atomic():
        pulses.save_settings(
            campaign,
            is_public=True,
            show_wall=True,
            keywords="",
            milestones=MILESTONES,
            now=now,
        )
        source = sources.add_source(campaign, platform="bluesky", query="BanTaliban", now=now)
        sources.set_paused(source, True)
        records = _records(now, rng, posts)
        spam = PostRecord(
            platform="x",
            platform_id="1889999999999999999",
            author_id="demo-x-spam",
            author_handle="@example_followers_shop",
            created_at=now - timedelta(days=STORM_DAYS_AGO, hours=2),
            text=SPAM,
            language="en",
            hashtags=hashtags_in_text(SPAM),
        )
        ingest_records(campaign, [*records, spam], now=now)
        hidden = Post.objects.get(campaign=campaign, platform="x", platform_id=spam.platform_id)
        moderation.set_hidden(hidden, True, now=now)
