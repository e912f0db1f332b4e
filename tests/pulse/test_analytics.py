"""The dashboard's figures on a small campaign with known answers (dashboard_data)."""

import dataclasses
from datetime import date, timedelta

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.campaigns.models import Campaign
from hamseda.pulse import analytics, pulses
from hamseda.pulse.analytics import Figures
from hamseda.pulse.models import Post
from tests.conftest import make_org, make_petition
from tests.pulse.dashboard_data import NOW, at, make_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(org):
    return make_scene(org.organization)


def figures(scene, now=NOW) -> Figures:
    return Figures(scene.campaign, now=now)


def test_it_counts_the_totals(scene):
    totals = analytics.totals(scene.campaign)
    assert totals.posts == 8
    assert totals.authors == 6
    assert totals.deleted == 1
    assert totals.hidden == 1
    assert totals.by_platform == {"x": 4, "bluesky": 2, "mastodon": 2}
    assert totals.authors_by_platform == {"x": 3, "bluesky": 2, "mastodon": 1}
    assert totals.first_post_at == at(1, 10, 5)
    assert totals.last_post_at == at(3, 12, 10)


def test_it_splits_the_kinds(scene):
    assert figures(scene).kinds == {"originals": 5, "replies": 1, "quotes": 1, "reposts": 1}
    shares = {share.key: share.percent for share in figures(scene).kind_shares()}
    assert shares == {"originals": 62.5, "replies": 12.5, "quotes": 12.5, "reposts": 12.5}


def test_it_counts_posts_per_hour_over_the_span(scene):
    hours = figures(scene).hourly()
    # From the first post's hour to the last (now is in the last post's hour).
    assert len(hours) == 51
    assert hours[0].start == at(1, 10, 0)
    assert hours[-1].start == at(3, 12, 0)
    by_hour = {bucket.start: bucket.by_platform for bucket in hours if bucket.total}
    assert by_hour == {
        at(1, 10, 0): {"x": 2, "bluesky": 1, "mastodon": 0},
        at(1, 11, 0): {"x": 1, "bluesky": 0, "mastodon": 0},
        at(2, 9, 0): {"x": 0, "bluesky": 1, "mastodon": 1},
        at(2, 10, 0): {"x": 1, "bluesky": 0, "mastodon": 0},
        at(3, 12, 0): {"x": 0, "bluesky": 0, "mastodon": 1},
    }


def test_the_hourly_window_is_the_last_72_hours_and_runs_to_now_while_posts_come(scene):
    hours = figures(scene, now=at(4, 20, 45)).hourly()
    assert len(hours) == 72
    assert hours[-1].start == at(4, 20, 0)
    assert hours[0].start == at(1, 21, 0)
    assert sum(bucket.total for bucket in hours) == 4  # the 2nd and the 3rd


def test_a_finished_campaign_ends_its_charts_at_the_last_post(scene):
    hours = figures(scene, now=at(20, 0, 0)).hourly()
    assert hours[-1].start == at(3, 12, 0)


def test_it_counts_posts_per_day(scene):
    days = [(bucket.start, bucket.by_platform, bucket.total) for bucket in figures(scene).daily()]
    assert days == [
        (date(2025, 3, 1), {"x": 3, "bluesky": 1, "mastodon": 0}, 4),
        (date(2025, 3, 2), {"x": 1, "bluesky": 1, "mastodon": 1}, 3),
        (date(2025, 3, 3), {"x": 0, "bluesky": 0, "mastodon": 1}, 1),
    ]


def test_it_draws_the_cumulative_curve_and_says_when_each_milestone_was_passed(scene):
    points = [(p.hour, p.posts, p.cumulative) for p in figures(scene).cumulative()]
    assert points == [
        (at(1, 10, 0), 3, 3),
        (at(1, 11, 0), 1, 4),
        (at(2, 9, 0), 2, 6),
        (at(2, 10, 0), 1, 7),
        (at(3, 12, 0), 1, 8),
    ]
    milestones = [(m.count, m.passed_at) for m in figures(scene).milestones()]
    assert milestones == [
        (2, at(1, 10, 0)),
        (5, at(2, 9, 0)),
        (8, at(3, 12, 0)),
        (100, None),
    ]


def test_it_names_the_languages_and_folds_regional_variants(scene):
    rows = [(s.key, s.name, s.posts, s.percent) for s in figures(scene).languages()]
    assert rows == [
        ("en", "English", 3, 37.5),
        ("fa", "Dari/Persian", 2, 25.0),
        ("", "Language not known", 1, 12.5),
        ("de", "German", 1, 12.5),
        ("ps", "Pashto", 1, 12.5),
    ]


def test_it_puts_the_smallest_languages_together_as_other(scene):
    rows = [(s.key, s.posts) for s in figures(scene).languages(limit=2)]
    assert rows == [("en", 3), ("fa", 2), ("other", 3)]


def test_language_names_follow_the_reader(scene):
    with translation.override("fa"):
        names = {s.key: s.name for s in figures(scene).languages()}
    assert names["de"] != "German"  # pycountry's Persian catalogue names it


def test_it_lists_the_co_occurring_hashtags_without_the_campaigns_own(scene):
    rows = [(s.key, s.name, s.posts, s.percent) for s in figures(scene).hashtags()]
    assert rows == [
        ("afghanwomen", "#afghanwomen", 3, 37.5),
        ("letgirlslearn", "#letgirlslearn", 2, 25.0),
    ]


def test_top_posts_leave_out_hidden_and_deleted_posts(scene):
    top = [post.pk for post in figures(scene).top_posts()]
    expected = [scene.posts[n].pk for n in (4, 1, 6, 5, 2)]
    assert top[:5] == expected
    assert scene.posts[9].pk not in top  # hidden, though the most liked
    assert scene.posts[8].pk not in top  # deleted
    assert len(top) == 7


def test_the_wall_shows_the_latest_posts_but_not_hidden_ones(scene):
    wall = [post.pk for post in figures(scene).wall()]
    assert wall == [scene.posts[n].pk for n in (7, 6, 5, 3, 2, 4, 1)]


def test_it_sets_x_counts_beside_the_collected_posts(scene):
    rows = [(p.day, p.first, p.second) for p in figures(scene).x_counts()]
    assert rows == [(date(2025, 3, 1), 70, 3), (date(2025, 3, 2), 7, 1)]


def test_it_compares_posts_with_signatures_on_the_same_days(scene):
    rows = [(p.day, p.first, p.second) for p in figures(scene).signatures()]
    assert rows == [
        (date(2025, 3, 1), 4, 2),
        (date(2025, 3, 2), 3, 0),
        (date(2025, 3, 3), 1, 1),
    ]


def test_public_totals_has_exactly_the_promised_keys(scene):
    shown = analytics.public_totals(scene.campaign)
    assert shown == {
        "posts": 8,
        "authors": 6,
        "by_platform": {"x": 4, "bluesky": 2, "mastodon": 2},
        "originals": 5,
        "replies": 1,
        "quotes": 1,
        "reposts": 1,
        "first_post_at": at(1, 10, 5),
        "last_post_at": at(3, 12, 10),
        "updated_at": NOW,
        "milestones": [
            {"count": 2, "passed_at": at(1, 10, 0)},
            {"count": 5, "passed_at": at(2, 9, 0)},
            {"count": 8, "passed_at": at(3, 12, 0)},
            {"count": 100, "passed_at": None},
        ],
    }


def test_public_totals_is_none_for_an_organiser_only_or_missing_pulse(org):
    scene = make_scene(org.organization, is_public=False)
    assert analytics.public_totals(scene.campaign) is None
    other = make_petition(make_org("second").organization, slug="second").campaign
    assert analytics.public_totals(other) is None
    pulses.save_settings(other, is_public=True, show_wall=True, keywords="", milestones="")
    other.is_public = False
    other.save()
    assert analytics.public_totals(other) is None


def test_an_empty_campaign_has_zeros_and_no_series(org):
    campaign = make_petition(org.organization).campaign
    empty = Figures(campaign, now=NOW)
    assert empty.totals.posts == 0
    assert empty.hourly() == []
    assert empty.daily() == []
    assert empty.cumulative() == []
    assert empty.signatures() == []
    assert [m.passed_at for m in empty.milestones()] == [None, None, None, None]
    assert empty.languages() == []
    assert empty.hashtags() == []


def test_the_figures_read_no_posts_but_for_the_two_indexed_lists(
    scene, django_assert_max_num_queries
):
    """Aggregates only: a page's figures are a handful of queries, however many posts."""
    fresh = figures(scene)
    with django_assert_max_num_queries(12):
        fresh.hourly()
        fresh.daily()
        fresh.cumulative()
        fresh.milestones()
        fresh.kind_shares()
        fresh.platform_shares()
        fresh.languages()
        fresh.hashtags()
        fresh.x_counts()
        fresh.signatures()
    assert Post.objects.filter(campaign=scene.campaign).count() == 9


def test_the_curve_goes_through_each_passed_milestone(scene):
    curve = figures(scene).curve()
    assert curve == [
        (at(1, 10, 0), 0),
        (at(1, 10, 30), 2),  # milestone 2, in the middle of its hour
        (at(1, 11, 0), 3),
        (at(1, 12, 0), 4),
        (at(2, 9, 30), 5),
        (at(2, 10, 0), 6),
        (at(2, 11, 0), 7),
        (at(3, 12, 30), 8),
        (at(3, 13, 0), 8),
    ]


def test_a_long_campaigns_curve_runs_day_by_day(org):
    from hamseda.pulse.ingest import ingest_records
    from tests.pulse.dashboard_data import RECORDS

    campaign = make_petition(org.organization).campaign
    early = RECORDS[0]
    late = dataclasses.replace(
        RECORDS[1], created_at=early.created_at + timedelta(days=20, hours=3)
    )
    ingest_records(campaign, [early, late], now=NOW)
    pulses.save_settings(campaign, is_public=True, show_wall=True, keywords="", milestones="2")
    curve = Figures(campaign, now=late.created_at).curve()
    # From the first hour, one vertex a day (21 days), and the milestone's.
    assert len(curve) == 1 + 21 + 1
    assert curve[-1] == (late.created_at.replace(minute=0) + timedelta(hours=1), 2)
    assert (late.created_at.replace(minute=30), 2) in curve


def test_buckets_are_utc_hours_and_days_on_every_database(org):
    from hamseda.pulse.ingest import ingest_records
    from tests.pulse.dashboard_data import RECORDS

    campaign = make_petition(org.organization).campaign
    late = dataclasses.replace(RECORDS[0], created_at=at(1, 23, 59))
    early = dataclasses.replace(RECORDS[1], created_at=at(2, 0, 0))
    ingest_records(campaign, [late, early], now=NOW)
    shown = Figures(campaign, now=at(2, 0, 30))
    assert [(b.start, b.total) for b in shown.daily()] == [
        (date(2025, 3, 1), 1),
        (date(2025, 3, 2), 1),
    ]
    assert [(p.hour, p.cumulative) for p in shown.cumulative()] == [
        (at(1, 23, 0), 1),
        (at(2, 0, 0), 2),
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.dictionaries(
        st.tuples(st.integers(0, 4), st.sampled_from([f"t{k}" for k in range(14)])),
        st.integers(1, 60),
        max_size=50,
    ),
    candidates=st.integers(1, 30),
)
def test_the_top_hashtags_are_exact_however_few_rows_are_read(org, rows, candidates):
    """The candidates shortcut (Figures._hashtag_rows) gives what summing every tag gives."""
    from hamseda.pulse.models import HashtagDay, PulseTotals

    campaign = Campaign.objects.get_or_create(
        slug="hashtags", defaults={"organization": org.organization}
    )[0]
    HashtagDay.objects.filter(campaign=campaign).delete()
    PulseTotals.objects.filter(campaign=campaign).delete()
    HashtagDay.objects.bulk_create(
        HashtagDay(campaign=campaign, day=date(2025, 3, 1 + day), tag=tag, posts=posts)
        for (day, tag), posts in rows.items()
    )
    PulseTotals.objects.create(
        campaign=campaign,
        platform="",
        posts=1000,
        first_post_at=at(1, 0, 0),
        last_post_at=at(5, 23, 0),
        updated_at=NOW,
    )
    expected: dict[str, int] = {}
    for (_day, tag), posts in rows.items():
        expected[tag] = expected.get(tag, 0) + posts
    want = sorted(expected.items(), key=lambda item: (-item[1], item[0]))[:10]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analytics, "HASHTAG_CANDIDATE_ROWS", candidates)
        got = [(share.key, share.posts) for share in Figures(campaign, now=NOW).hashtags()]
    assert got == want
