"""Connecting, pausing, re-keying and removing sources (the organisers' services)."""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.campaigns.models import Campaign
from hamseda.pulse import sources
from hamseda.pulse.ingest import ingest_records
from hamseda.pulse.models import Post, Source, SourceState
from hamseda.pulse.records import PostRecord
from hamseda.pulse.sources import SourceError
from tests.conftest import make_org

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        organization=make_org().organization, slug="ban-taliban", hashtags="BanTaliban"
    )


def add(campaign, **fields) -> Source:
    values = {"platform": "bluesky", "query": "#BanTaliban"}
    return sources.add_source(campaign, **{**values, **fields}, now=NOW)


def test_a_hashtag_is_kept_as_typed_without_the_hash(campaign):
    source = add(campaign)
    assert source.query == "BanTaliban"
    assert source.is_hashtag
    assert source.state == SourceState.ACTIVE
    assert source.created_at == NOW


def test_the_same_hashtag_in_another_case_is_a_duplicate(campaign):
    add(campaign)
    with pytest.raises(SourceError, match="already connected") as caught:
        add(campaign, query="bantaliban")
    assert caught.value.field == "query"
    add(campaign, platform="mastodon", base_url="https://mastodon.social")  # another platform


def test_an_arabic_script_hashtag_is_accepted(campaign):
    source = add(campaign, query="#آزادی\u200cبیان")
    assert source.query == "آزادی\u200cبیان"


@pytest.mark.parametrize("hashtag", ["#✊", "#Ban🇦🇫", "#ban taliban", "#", "#2025"])
def test_a_hashtag_that_cannot_be_one_is_refused_clearly(campaign, hashtag):
    with pytest.raises(SourceError) as caught:
        add(campaign, query=hashtag)
    assert caught.value.field == "query"
    assert str(caught.value)


def test_x_needs_a_token_and_keeps_it_locked(campaign):
    with pytest.raises(SourceError, match="bearer token"):
        add(campaign, platform="x")
    source = add(campaign, platform="x", token="  AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid  ")
    stored = Source.objects.get(pk=source.pk)
    assert b"AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0" not in bytes(stored.locked_token)
    assert sources.token_of(stored) == "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid"


def test_a_token_with_line_breaks_is_refused(campaign):
    with pytest.raises(SourceError, match="does not look like a token"):
        add(campaign, platform="x", token="first line\nsecond")


def test_bluesky_needs_no_token(campaign):
    with pytest.raises(SourceError, match="needs no token"):
        add(campaign, token="something")


def test_keywords_work_on_x_and_bluesky_but_not_mastodon(campaign):
    keyword = add(campaign, query="  stop   the  ban ", is_hashtag=False)
    assert keyword.query == "stop the ban"
    assert not keyword.is_hashtag
    with pytest.raises(SourceError, match="hashtag timelines only"):
        add(
            campaign,
            platform="mastodon",
            query="stop the ban",
            is_hashtag=False,
            base_url="https://mastodon.social",
        )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://mastodon.social", "https://mastodon.social"),
        ("https://Mastodon.Social/", "https://mastodon.social"),
        ("mastodon.social", "https://mastodon.social"),
        ("https://kolektiva.social:8443", "https://kolektiva.social:8443"),
        ("https://مثال.example", "https://xn--mgbh0fb.example"),
    ],
)
def test_a_mastodon_instance_address_is_normalised(campaign, typed, stored):
    source = add(campaign, platform="mastodon", base_url=typed)
    assert source.base_url == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "http://mastodon.social",
        "https://mastodon.social/tags/BanTaliban",
        "https://user:pw@mastodon.social",
        "https://mastodon.social/?q=1",
        "ftp://mastodon.social",
        "https://127.0.0.1",
        "https://10.1.2.3",
        "https://[::1]",
        "https://localhost",
        "https://169.254.169.254",
        "wss://jetstream.example/subscribe",
    ],
)
def test_a_bad_or_private_instance_address_is_refused(campaign, typed):
    with pytest.raises(SourceError) as caught:
        add(campaign, platform="mastodon", base_url=typed)
    assert caught.value.field == "base_url"


def test_loopback_is_allowed_when_the_install_says_so(campaign, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "PULSE_LOCAL_SOURCES": True}
    source = add(campaign, platform="mastodon", base_url="http://127.0.0.1:8765")
    assert source.base_url == "http://127.0.0.1:8765"


def test_pausing_and_resuming_keeps_the_place(campaign):
    source = add(campaign)
    Source.objects.filter(pk=source.pk).update(newest_seen="2025-03-10T10:00:00+00:00")
    paused = sources.set_paused(source, True)
    assert paused.state == SourceState.PAUSED
    assert sources.set_paused(paused, True).state == SourceState.PAUSED  # idempotent
    resumed = sources.set_paused(paused, False)
    assert resumed.state == SourceState.ACTIVE
    assert resumed.newest_seen == "2025-03-10T10:00:00+00:00"


def test_resuming_a_failing_source_still_needs_a_token(campaign):
    source = add(campaign, platform="x", token="old-token-123")
    Source.objects.filter(pk=source.pk).update(state=SourceState.FAILING, last_error="refused")
    assert sources.set_paused(source, False).state == SourceState.FAILING

    fixed = sources.replace_token(source, "new-token-456")

    assert fixed.state == SourceState.ACTIVE
    assert fixed.last_error == ""
    assert sources.token_of(Source.objects.get(pk=source.pk)) == "new-token-456"


def test_resuming_a_refused_source_without_a_token_tries_again(campaign):
    source = add(campaign, platform="mastodon", base_url="https://mastodon.social")
    Source.objects.filter(pk=source.pk).update(state=SourceState.FAILING, last_error="403")
    resumed = sources.set_paused(source, False)
    assert resumed.state == SourceState.ACTIVE
    assert resumed.last_error == ""


def test_removing_a_source_keeps_the_posts_it_brought(campaign):
    source = add(campaign)
    record = PostRecord(
        platform="bluesky",
        platform_id="at://did:plc:abc/app.bsky.feed.post/3lk2a",
        author_id="did:plc:abc",
        author_handle="maryam.bsky.social",
        created_at=NOW,
        hashtags=["bantaliban"],
    )
    ingest_records(campaign, [record], now=NOW)

    sources.remove_source(source)

    assert not Source.objects.filter(pk=source.pk).exists()
    assert Post.objects.filter(campaign=campaign).count() == 1


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    platform=st.sampled_from(["x", "bluesky", "mastodon", "myspace", ""]),
    query=st.text(max_size=60),
    is_hashtag=st.booleans(),
    base_url=st.text(max_size=60),
    token=st.text(max_size=40),
)
def test_anything_typed_is_either_added_or_refused_clearly(
    campaign, platform, query, is_hashtag, base_url, token
):
    message = ""
    try:
        source = sources.add_source(
            campaign,
            platform=platform,
            query=query,
            is_hashtag=is_hashtag,
            base_url=base_url,
            token=token,
        )
    except SourceError as error:
        message = str(error)
        assert message
    else:
        sources.remove_source(source)
