"""Storing posts: dedup, edits, deletions, exact counting, and the aggregates."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from hamseda.campaigns.models import Campaign
from hamseda.pulse import aggregates
from hamseda.pulse.ingest import ingest_records
from hamseda.pulse.models import HashtagDay, LanguageDay, Post, PostHour, PulseTotals
from hamseda.pulse.records import PostRecord

NOW = datetime(2025, 8, 17, 8, 0, tzinfo=UTC)
TEN = datetime(2025, 8, 15, 10, 5, tzinfo=UTC)


@pytest.fixture
def campaign(org):
    return Campaign.objects.create(
        organization=org.organization, slug="ban-taliban", hashtags="BanTaliban"
    )


def post(number: int, **values) -> PostRecord:
    defaults = {
        "platform": "x",
        "platform_id": str(1000 + number),
        "author_id": f"a{number % 3}",
        "author_handle": f"user{number % 3}",
        "created_at": TEN + timedelta(minutes=20 * number),
        "text": f"post {number} #BanTaliban",
        "language": "en",
        "hashtags": ["bantaliban"],
        "url": f"https://x.com/user{number % 3}/status/{1000 + number}",
        "like_count": number,
    }
    defaults.update(values)
    return PostRecord(**defaults)


def stored(number: int) -> Post:
    return Post.objects.get(platform_id=str(1000 + number))


def test_it_counts_new_updated_and_unchanged_exactly(campaign):
    first = ingest_records(campaign, [post(1), post(2), post(3)], now=NOW)
    assert (first.read, first.new, first.updated, first.unchanged) == (3, 3, 0, 0)
    again = ingest_records(campaign, [post(1), post(2, like_count=50), post(4)], now=NOW)
    assert (again.read, again.new, again.updated, again.unchanged) == (3, 1, 1, 1)
    assert stored(2).like_count == 50
    assert stored(2).engagement == 50
    assert Post.objects.count() == 4


def test_the_same_post_twice_in_one_batch_is_one_post(campaign):
    result = ingest_records(campaign, [post(1), post(1, like_count=9)], now=NOW)
    assert (result.new, result.updated) == (1, 1)
    assert stored(1).like_count == 9
    assert Post.objects.count() == 1


def test_batches_count_the_same_as_one(campaign):
    records = [post(number) for number in range(7)]
    result = ingest_records(campaign, [*records, *records], now=NOW, batch_size=3)
    assert (result.read, result.new, result.updated) == (14, 7, 0)


def test_a_newer_version_replaces_the_text_and_an_older_one_never_does(campaign):
    original = post(1, text="first words #BanTaliban", like_count=3)
    edit = replace(
        original,
        text="better words #BanTaliban #Afghanistan",
        hashtags=["bantaliban", "afghanistan"],
        edited_at=TEN + timedelta(hours=1),
        like_count=2,
    )
    ingest_records(campaign, [original], now=NOW)
    result = ingest_records(campaign, [edit], now=NOW)
    assert result.updated == 1
    row = stored(1)
    assert (row.text, row.hashtags, row.edited_at) == (
        "better words #BanTaliban #Afghanistan",
        "bantaliban afghanistan",
        edit.edited_at,
    )
    # The higher metric of the two copies stays.
    assert row.like_count == 3
    late = ingest_records(campaign, [original], now=NOW)
    assert (late.updated, late.unchanged) == (0, 1)
    assert stored(1).text == "better words #BanTaliban #Afghanistan"


def test_the_order_in_which_versions_arrive_does_not_matter(campaign, org):
    other = Campaign.objects.create(organization=org.organization, slug="other")
    versions = [
        post(1, text="v1", edited_at=None),
        post(1, text="v2", edited_at=TEN + timedelta(hours=1)),
        post(1, text="v3", edited_at=TEN + timedelta(hours=2), like_count=0),
    ]
    ingest_records(campaign, versions, now=NOW)
    ingest_records(other, list(reversed(versions)), now=NOW)
    one, two = (Post.objects.get(campaign=c) for c in (campaign, other))
    assert (one.text, one.edited_at, one.like_count) == ("v3", TEN + timedelta(hours=2), 1)
    assert (two.text, two.edited_at, two.like_count) == ("v3", TEN + timedelta(hours=2), 1)


def test_a_copy_fills_what_is_missing_but_overwrites_nothing(campaign):
    ingest_records(campaign, [post(1, text="", language="", url="")], now=NOW)
    result = ingest_records(campaign, [post(1, text="full text", language="fa")], now=NOW)
    assert result.updated == 1
    row = stored(1)
    assert (row.text, row.language) == ("full text", "fa")
    assert row.url.startswith("https://x.com/")
    ingest_records(campaign, [post(1, text="other text", language="ps")], now=NOW)
    assert (stored(1).text, stored(1).language) == ("full text", "fa")


def test_a_did_as_handle_gives_way_to_a_real_handle(campaign):
    jetstream = post(1, platform="bluesky", platform_id="at://did:plc:a/app.bsky.feed.post/3l")
    jetstream = replace(jetstream, author_id="did:plc:a", author_handle="did:plc:a", url="")
    ingest_records(campaign, [jetstream], now=NOW)
    search = replace(jetstream, author_handle="maryam.bsky.social")
    assert ingest_records(campaign, [search], now=NOW).updated == 1
    update = replace(jetstream, text="edited", edited_at=NOW)
    ingest_records(campaign, [update], now=NOW)
    row = Post.objects.get(campaign=campaign)
    assert (row.author_handle, row.text) == ("maryam.bsky.social", "edited")


def test_a_deletion_wipes_the_post_and_it_stays_deleted(campaign):
    ingest_records(campaign, [post(1), post(2)], now=NOW)
    deletion = PostRecord(
        platform="x",
        platform_id="1001",
        author_id="",
        author_handle="",
        created_at=TEN,
        deleted=True,
    )
    result = ingest_records(campaign, [deletion], now=NOW)
    assert (result.deleted, result.new, result.updated) == (1, 0, 0)
    row = stored(1)
    assert row.deleted_at == NOW
    assert (row.text, row.url, row.hashtags, row.author_handle, row.engagement) == (
        "",
        "",
        "",
        "",
        0,
    )
    back = ingest_records(campaign, [post(1, like_count=99, edited_at=NOW)], now=NOW)
    assert (back.new, back.updated) == (0, 0)
    assert stored(1).text == ""
    twice = ingest_records(campaign, [deletion], now=NOW + timedelta(hours=1))
    assert twice.deleted == 0
    assert stored(1).deleted_at == NOW


def test_a_deletion_of_an_unknown_post_leaves_a_tombstone_unless_told_not_to(campaign):
    notice = replace(post(5), deleted=True)
    ignored = ingest_records(campaign, [notice], now=NOW, keep_unknown_deletions=False)
    assert (ignored.deleted, ignored.ignored) == (0, 1)
    assert not Post.objects.exists()
    kept = ingest_records(campaign, [notice], now=NOW)
    assert kept.deleted == 1
    assert stored(5).text == ""
    late = ingest_records(campaign, [post(5)], now=NOW)
    assert (late.new, late.updated) == (0, 0)
    assert stored(5).deleted_at is not None


def test_ingest_never_touches_hidden(campaign):
    ingest_records(campaign, [post(1)], now=NOW)
    Post.objects.update(hidden=True)
    ingest_records(campaign, [post(1, like_count=40, edited_at=NOW, text="new")], now=NOW)
    assert stored(1).hidden


def test_a_naive_time_is_refused(campaign):
    with pytest.raises(ValueError, match="naive"):
        ingest_records(campaign, [post(1, created_at=datetime(2025, 1, 1))], now=NOW)  # noqa: DTZ001 - the point


def test_the_aggregates_count_kinds_authors_languages_and_hashtags(campaign):
    records = [
        post(0, kind="original", language="en", hashtags=["bantaliban", "afghanistan"]),
        post(1, kind="repost", language="en"),
        post(2, kind="reply", language="fa", created_at=TEN + timedelta(minutes=30)),
        post(3, kind="quote", language="", created_at=TEN + timedelta(days=1)),
        post(4, platform="mastodon", platform_id="https://m.example/s/1", author_id="m@x"),
    ]
    result = ingest_records(campaign, records, now=NOW)
    assert result.first_hour == datetime(2025, 8, 15, 10, tzinfo=UTC)
    assert result.last_hour == datetime(2025, 8, 16, 10, tzinfo=UTC)
    hours = {
        (row.platform, row.hour): (
            row.posts,
            row.originals,
            row.replies,
            row.quotes,
            row.reposts,
            row.authors,
            row.engagement,
        )
        for row in PostHour.objects.filter(campaign=campaign)
    }
    assert hours == {
        ("x", datetime(2025, 8, 15, 10, tzinfo=UTC)): (3, 1, 1, 0, 1, 3, 0 + 1 + 2),
        ("x", datetime(2025, 8, 16, 10, tzinfo=UTC)): (1, 0, 0, 1, 0, 1, 3),
        ("mastodon", datetime(2025, 8, 15, 11, tzinfo=UTC)): (1, 1, 0, 0, 0, 1, 4),
    }
    languages = {
        (row.day, row.language): row.posts for row in LanguageDay.objects.filter(campaign=campaign)
    }
    assert languages == {
        (date(2025, 8, 15), "en"): 3,
        (date(2025, 8, 15), "fa"): 1,
        (date(2025, 8, 16), ""): 1,
    }
    tags = {(row.day, row.tag): row.posts for row in HashtagDay.objects.filter(campaign=campaign)}
    assert tags == {
        (date(2025, 8, 15), "bantaliban"): 4,
        (date(2025, 8, 15), "afghanistan"): 1,
        (date(2025, 8, 16), "bantaliban"): 1,
    }
    everything = PulseTotals.objects.get(campaign=campaign, platform="")
    assert (everything.posts, everything.authors, everything.deleted) == (5, 4, 0)
    assert everything.first_post_at == TEN
    assert everything.last_post_at == TEN + timedelta(days=1)
    assert PulseTotals.objects.get(campaign=campaign, platform="x").authors == 3


def test_deleted_posts_stop_counting_and_hidden_ones_count(campaign):
    ingest_records(campaign, [post(0), post(1), post(2)], now=NOW)
    Post.objects.filter(platform_id="1001").update(hidden=True)
    aggregates.refresh_hidden_total(campaign, now=NOW)
    totals = PulseTotals.objects.get(campaign=campaign, platform="")
    assert (totals.posts, totals.hidden) == (3, 1)
    ingest_records(campaign, [replace(post(2), deleted=True)], now=NOW)
    totals = PulseTotals.objects.get(campaign=campaign, platform="x")
    assert (totals.posts, totals.deleted, totals.hidden) == (2, 1, 1)
    ten = PostHour.objects.get(campaign=campaign, hour=datetime(2025, 8, 15, 10, tzinfo=UTC))
    assert ten.posts == 2
    assert not PostHour.objects.filter(hour=datetime(2025, 8, 15, 10, 45, tzinfo=UTC)).exists()
    assert HashtagDay.objects.get(campaign=campaign).posts == 2


def test_rebuild_all_gives_the_same_figures_as_the_incremental_rebuilds(campaign):
    for number in range(6):
        ingest_records(campaign, [post(number, created_at=TEN + timedelta(hours=5 * number))])

    def snapshot():
        return (
            sorted(
                PostHour.objects.filter(campaign=campaign).values_list(
                    "platform", "hour", "posts", "authors"
                )
            ),
            sorted(
                LanguageDay.objects.filter(campaign=campaign).values_list(
                    "day", "language", "posts"
                )
            ),
            sorted(HashtagDay.objects.filter(campaign=campaign).values_list("day", "tag", "posts")),
            sorted(
                PulseTotals.objects.filter(campaign=campaign).values_list(
                    "platform", "posts", "authors"
                )
            ),
        )

    before = snapshot()
    PostHour.objects.filter(campaign=campaign).update(posts=999)
    HashtagDay.objects.filter(campaign=campaign).delete()
    aggregates.rebuild_all(campaign, now=NOW)
    assert snapshot() == before


def test_a_campaign_without_posts_has_zero_totals(campaign):
    aggregates.rebuild_all(campaign, now=NOW)
    totals = PulseTotals.objects.get(campaign=campaign, platform="")
    assert (totals.posts, totals.authors, totals.first_post_at) == (0, 0, None)
