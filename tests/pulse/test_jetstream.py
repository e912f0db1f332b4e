"""Bluesky live via Jetstream, against a local websocket server replaying recorded
events: only the campaign's hashtags are kept, deletions apply to posts the campaign
has, and a restart resumes from the saved cursor."""

import io

import pytest

from hamseda.campaigns.models import Campaign
from hamseda.pulse import fetch, sources
from hamseda.pulse.connectors import jetstream
from hamseda.pulse.models import Post, PulseTotals, Source, SourceState
from tests.conftest import make_org
from tests.pulse.replay import JetstreamServer, jetstream_events

EVENTS = jetstream_events()
# The recorded events (tests/pulse/replay/jetstream_events.jsonl): 1 #BanTaliban post,
# 2 a post without hashtags, 3 an identity event, 4 a Dari #آزادی‌بیان post, 5 an
# unrelated #CatsOfBluesky post, 6 "#bantaliban" in the text without a facet, 7 the
# deletion of post 1, 8 the deletion of post 5 (never stored).
KEPT = {EVENTS[0]["commit"]["rkey"], EVENTS[3]["commit"]["rkey"], EVENTS[5]["commit"]["rkey"]}


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        organization=make_org().organization,
        slug="ban-taliban",
        hashtags="BanTaliban آزادی\u200cبیان",
    )


def stream(campaign, url, stop_after, **options):
    stdout, stderr = io.StringIO(), io.StringIO()
    code = jetstream.run_stream(
        campaign.slug, url, stdout, stderr, stop_after=stop_after, sleep=lambda s: None, **options
    )
    return code, stdout.getvalue(), stderr.getvalue()


def rkeys(campaign, **filters) -> set[str]:
    return {
        uri.rsplit("/", 1)[1]
        for uri in Post.objects.filter(campaign=campaign, **filters).values_list(
            "platform_id", flat=True
        )
    }


def test_it_keeps_the_campaigns_hashtags_and_resumes_from_the_cursor(campaign):
    with JetstreamServer(EVENTS[:6]) as server:
        code, _out, err = stream(campaign, server.url, stop_after=6)

        assert code == 0, err
        assert rkeys(campaign) == KEPT
        assert "wantedCollections=app.bsky.feed.post" in server.paths[0]
        assert "cursor=" not in server.paths[0]
        source = Source.objects.get(campaign=campaign, base_url=server.url)
        assert sources.is_stream(source)
        assert source.page_cursor == str(EVENTS[5]["time_us"])
        assert source.query == "bantaliban آزادی\u200cبیان"
        assert source.posts_fetched == 3
        assert PulseTotals.objects.get(campaign=campaign, platform="").posts == 3

        # Restarted: it asks from a little before where it stopped; the deletions apply.
        server.events = EVENTS
        code, _out, err = stream(campaign, server.url, stop_after=len(EVENTS))

    assert code == 0, err
    cursor = EVENTS[5]["time_us"] - jetstream.REWIND_MICROSECONDS
    assert f"cursor={cursor}" in server.paths[1]
    assert EVENTS[0]["commit"]["rkey"] in rkeys(campaign, deleted_at__isnull=False)
    assert EVENTS[7]["commit"]["rkey"] not in rkeys(campaign)  # not ours: no tombstone
    assert PulseTotals.objects.get(campaign=campaign, platform="").posts == 2


def test_the_cursor_is_sent_when_resuming(campaign):
    source = jetstream.stream_source(campaign, "ws://127.0.0.1:9/subscribe", {"bantaliban"})
    Source.objects.filter(pk=source.pk).update(page_cursor=str(EVENTS[0]["time_us"]))
    source.refresh_from_db()
    batcher = jetstream.Batcher(campaign, source, {"bantaliban"})
    expected = EVENTS[0]["time_us"] - jetstream.REWIND_MICROSECONDS
    assert batcher.resume_cursor() == expected
    url = jetstream.stream_url("wss://jetstream.example/subscribe?compress=false", expected)
    assert url == (
        "wss://jetstream.example/subscribe?compress=false"
        f"&wantedCollections=app.bsky.feed.post&cursor={expected}"
    )


def test_a_dropped_connection_is_reopened_from_the_cursor(campaign):
    with JetstreamServer(EVENTS[:2], close=True) as server:
        code, _out, err = stream(campaign, server.url, stop_after=3)

    assert code == 0, err
    assert len(server.paths) == 2
    assert "cursor=" in server.paths[1]
    assert "connection lost" in err
    assert "Reconnecting" in err
    assert rkeys(campaign) == {EVENTS[0]["commit"]["rkey"]}


def test_it_gives_up_when_jetstream_cannot_be_reached(campaign, monkeypatch):
    monkeypatch.setattr(jetstream, "MAX_RECONNECTS", 2)

    def refuse(url):
        raise ConnectionRefusedError

    code, _out, err = stream(campaign, "ws://127.0.0.1:9/subscribe", None, connect=refuse)

    assert code == 1
    assert "Gave up after 3 attempts" in err
    source = Source.objects.get(campaign=campaign)
    assert "connection lost" in source.last_error


def test_the_scheduler_leaves_stream_sources_alone(campaign, now):
    source = jetstream.stream_source(campaign, "wss://jetstream.example/subscribe", {"x"})
    assert source not in fetch.due_sources(now)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://jetstream.example/subscribe", "must start with wss://"),
        ("ws://", "must start with wss://"),
    ],
)
def test_a_bad_address_is_refused(campaign, url, message):
    code, _out, err = stream(campaign, url, 1)
    assert code == 1
    assert message in err


def test_a_campaign_without_hashtags_has_nothing_to_follow(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(hashtags="")
    code, _out, err = stream(campaign, "wss://jetstream.example/subscribe", 1)
    assert code == 1
    assert "no hashtags" in err


def test_a_paused_stream_does_not_start(campaign):
    source = jetstream.stream_source(campaign, "wss://jetstream.example/subscribe", {"x"})
    sources.set_paused(source, True)
    code, _out, err = stream(campaign, "wss://jetstream.example/subscribe", 1)
    assert code == 1
    assert "paused" in err
    assert Source.objects.get(pk=source.pk).state == SourceState.PAUSED


def test_an_unknown_campaign_is_refused(db):
    stdout, stderr = io.StringIO(), io.StringIO()
    assert jetstream.run_stream("nope", "", stdout, stderr) == 1
    assert "no campaign" in stderr.getvalue()


def test_the_posts_command_streams_and_reports_a_bad_address(campaign):
    from django.core.management import CommandError, call_command

    stderr = io.StringIO()
    with pytest.raises(CommandError, match="The stream stopped"):
        call_command(
            "posts",
            "stream",
            "--source",
            "bluesky",
            "--campaign",
            campaign.slug,
            "--jetstream",
            "https://jetstream.example/subscribe",
            stderr=stderr,
        )
    assert "must start with wss://" in stderr.getvalue()
