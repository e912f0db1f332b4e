"""Fetching sources into a campaign: resuming where a fetch stopped, rate limits,
refused tokens, pages that are not data, the scheduler's claim, and the command."""

import io
from datetime import UTC, datetime, timedelta

import pytest

from hamseda import runtime
from hamseda.campaigns.models import Campaign
from hamseda.pulse import fetch, sources
from hamseda.pulse.connectors.http import Client
from hamseda.pulse.formats.x import parse_page
from hamseda.pulse.ingest import ingest_records
from hamseda.pulse.models import Platform, PlatformCount, Post, PulseTotals, Source, SourceState
from hamseda.pulse.tasks import fetch_pulse_sources
from tests.conftest import make_org, run_tasks
from tests.pulse.replay import ReplayServer, Reply, recorded_json

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
SEARCH = "/2/tweets/search/recent"
COUNTS = "/2/tweets/counts/recent"
BLUESKY = "/xrpc/app.bsky.feed.searchPosts"
TAG = "/api/v1/timelines/tag/BanTaliban"
NEXT_TOKEN = recorded_json("x_search_page1.json")["meta"]["next_token"]
NEWEST_X = recorded_json("x_search_page1.json")["meta"]["newest_id"]


@pytest.fixture(autouse=True)
def _local_sources(settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "PULSE_LOCAL_SOURCES": True}


@pytest.fixture
def server():
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def campaign(db) -> Campaign:
    organization = make_org().organization
    return Campaign.objects.create(
        organization=organization, slug="ban-taliban", hashtags="BanTaliban آزادی\u200cبیان"
    )


@pytest.fixture
def waits():
    return []


def client(waits) -> Client:
    return Client(sleep=waits.append, clock=lambda: NOW, jitter=lambda: 0.5)


def x_source(campaign, server) -> Source:
    return sources.add_source(
        campaign, platform="x", query="#BanTaliban", base_url=server.url, token="AAAA-bearer"
    )


def script_x_first_fetch(server):
    server.script(
        SEARCH, Reply.json("x_search_page1.json"), when={"next_token": None, "since_id": None}
    )
    server.script(SEARCH, Reply.json("x_search_page2.json"), when={"next_token": NEXT_TOKEN})
    server.script(COUNTS, Reply.json("x_counts.json"))


def test_it_fetches_x_until_caught_up_then_resumes_with_since_id(campaign, server, waits):
    script_x_first_fetch(server)
    source = x_source(campaign, server)

    result = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert result.ok
    assert result.caught_up
    assert (result.pages, result.new) == (2, 5)
    source.refresh_from_db()
    assert source.newest_seen == NEWEST_X
    assert source.page_cursor == ""
    assert source.last_fetched_at == NOW
    assert source.last_error == ""
    assert source.posts_fetched == 5
    assert server.asked(SEARCH)[0].headers["Authorization"] == "Bearer AAAA-bearer"
    totals = PulseTotals.objects.get(campaign=campaign, platform="")
    assert totals.posts == 5  # the aggregates were rebuilt

    server.script(SEARCH, Reply.json("x_search_new.json"), when={"since_id": NEWEST_X})
    again = fetch.fetch_source(source, now=NOW + timedelta(minutes=10), client=client(waits))

    assert again.new == 2
    assert again.pages == 1
    assert server.asked(SEARCH)[-1].params["since_id"] == NEWEST_X
    assert Post.objects.filter(campaign=campaign).count() == 7
    source.refresh_from_db()
    assert source.newest_seen == recorded_json("x_search_new.json")["meta"]["newest_id"]
    assert PulseTotals.objects.get(campaign=campaign, platform="").posts == 7


def test_a_fetch_stopped_mid_paging_resumes_from_the_saved_page(campaign, server, waits):
    script_x_first_fetch(server)
    source = x_source(campaign, server)

    fetch.fetch_source(source, now=NOW, max_pages=1, client=client(waits))

    source.refresh_from_db()
    assert source.newest_seen == ""  # not before the older pages are read
    assert NEXT_TOKEN in source.page_cursor
    assert Post.objects.count() == 3

    result = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert result.caught_up
    assert result.new == 2
    assert server.asked(SEARCH)[-1].params["next_token"] == NEXT_TOKEN
    source.refresh_from_db()
    assert (source.newest_seen, source.page_cursor) == (NEWEST_X, "")
    assert Post.objects.count() == 5


def test_a_429_storm_stops_with_not_before_and_loses_nothing(campaign, server, waits):
    server.script(
        SEARCH, Reply.json("x_search_page1.json"), when={"next_token": None, "since_id": None}
    )
    server.script(SEARCH, Reply.json("x_429.json", 429, **{"Retry-After": "2"}))
    source = x_source(campaign, server)

    result = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert not result.ok
    assert result.not_before is not None
    source.refresh_from_db()
    assert source.state == SourceState.ACTIVE
    assert source.not_before >= NOW + timedelta(minutes=1)
    assert "slow down" in source.last_error
    assert Post.objects.count() == 3  # the first page is kept
    assert NEXT_TOKEN in source.page_cursor  # and paging resumes after it
    later = NOW + timedelta(minutes=11)
    assert source not in fetch.due_sources(NOW + timedelta(seconds=30))
    assert source in fetch.due_sources(later)

    server.scripts.clear()
    script_x_first_fetch(server)
    fetch.fetch_source(source, now=later, client=client(waits))
    assert Post.objects.count() == 5


def test_a_long_rate_limit_reset_after_the_last_page_is_kept(campaign, server, waits):
    reset = str(int((NOW + timedelta(minutes=12)).timestamp()))
    server.script(
        SEARCH,
        Reply.json(
            "x_search_page2.json", **{"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
        ),
    )
    source = x_source(campaign, server)

    result = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert result.caught_up  # the page came; counts were not asked: no request left
    source.refresh_from_db()
    assert source.not_before == NOW + timedelta(minutes=12)
    assert server.asked(COUNTS) == []


def test_a_revoked_token_marks_the_source_as_needing_attention(campaign, server, waits):
    server.script(SEARCH, Reply.json("x_401.json", 401))
    source = x_source(campaign, server)

    result = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert result.refused
    source.refresh_from_db()
    assert source.state == SourceState.FAILING
    assert "refused the token" in source.last_error
    assert "AAAA-bearer" not in source.last_error
    assert source not in fetch.due_sources(NOW + timedelta(hours=1))

    sources.replace_token(source, "BBBB-new-bearer")
    source.refresh_from_db()
    assert source.state == SourceState.ACTIVE
    assert source.last_error == ""
    assert source in fetch.due_sources(NOW + timedelta(hours=1))


def test_an_html_page_instead_of_json_stores_nothing(campaign, server, waits):
    server.script(SEARCH, Reply.html())
    source = x_source(campaign, server)

    result = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert "web page instead of data" in result.error
    source.refresh_from_db()
    assert source.state == SourceState.ACTIVE
    assert "web page" in source.last_error
    assert Post.objects.count() == 0
    assert source.newest_seen == ""
    assert source.page_cursor == ""


def test_x_counts_are_stored_per_hour_and_updated_in_place(campaign, server, waits):
    script_x_first_fetch(server)
    source = x_source(campaign, server)
    fetch.fetch_source(source, now=NOW, client=client(waits))
    assert PlatformCount.objects.filter(source=source).count() == 4
    peak = PlatformCount.objects.get(source=source, hour=datetime(2025, 3, 10, 10, tzinfo=UTC))
    assert peak.posts == 2210

    server.script(SEARCH, Reply.json("x_search_empty.json"), when={"since_id": NEWEST_X})
    fetch.fetch_source(source, now=NOW, client=client(waits))
    assert PlatformCount.objects.filter(source=source).count() == 4


def test_a_plan_without_counts_is_a_note_not_a_failure(campaign, server, waits):
    server.script(SEARCH, Reply.json("x_search_page2.json"))
    server.script(COUNTS, Reply.json({"title": "Client Forbidden"}, 403))
    source = x_source(campaign, server)

    result = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert result.ok
    assert any("refused" in note for note in result.notes)
    source.refresh_from_db()
    assert source.state == SourceState.ACTIVE


def test_fetch_and_import_of_the_same_post_make_one_post(campaign, server, waits):
    # An organiser imported a saved API page before connecting the source.
    ingest_records(campaign, parse_page(recorded_json("x_search_page1.json")), now=NOW)
    assert Post.objects.count() == 3
    script_x_first_fetch(server)

    result = fetch.fetch_source(x_source(campaign, server), now=NOW, client=client(waits))

    assert result.new == 2
    assert Post.objects.count() == 5
    assert PulseTotals.objects.get(campaign=campaign, platform="").posts == 5


def test_bluesky_stops_at_posts_seen_before(campaign, server, waits):
    server.script(BLUESKY, Reply.json("bluesky_search_page1.json"), when={"cursor": None})
    server.script(BLUESKY, Reply.json("bluesky_search_page2.json"), when={"cursor": "2"})
    source = sources.add_source(
        campaign, platform="bluesky", query="BanTaliban", base_url=server.url
    )
    first = fetch.fetch_source(source, now=NOW, client=client(waits))
    assert (first.pages, first.new, first.caught_up) == (2, 4, True)
    source.refresh_from_db()
    assert source.newest_seen.startswith("2025-03-10T10:40:02")

    server.scripts.clear()
    server.script(BLUESKY, Reply.json("bluesky_search_new.json"), when={"cursor": None})
    server.script(BLUESKY, Reply.json("bluesky_search_new_old.json"), when={"cursor": "2"})
    server.script(BLUESKY, Reply.json({"error": "should not be asked"}, 500))
    second = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert (second.pages, second.new, second.caught_up) == (2, 2, True)
    assert [r.params.get("cursor") for r in server.asked(BLUESKY)][-2:] == [None, "2"]
    assert Post.objects.filter(platform=Platform.BLUESKY).count() == 6
    source.refresh_from_db()
    assert source.newest_seen.startswith("2025-03-10T11:15:02")


def link(max_id: str = "", min_id: str = "") -> dict[str, str]:
    parts = []
    if max_id:
        parts.append(f'<{{base}}{TAG}?max_id={max_id}>; rel="next"')
    if min_id:
        parts.append(f'<{{base}}{TAG}?min_id={min_id}>; rel="prev"')
    return {"Link": ", ".join(parts)}


def test_mastodon_pages_back_first_then_forward_with_min_id(campaign, server, waits):
    page1 = recorded_json("mastodon_tag_page1.json")
    page2 = recorded_json("mastodon_tag_page2.json")
    new = recorded_json("mastodon_tag_new.json")
    server.script(
        TAG,
        Reply.json(page1, **link(max_id=page1[-1]["id"], min_id=page1[0]["id"])),
        when={"max_id": None, "min_id": None},
    )
    server.script(
        TAG,
        Reply.json(page2, **link(max_id=page2[-1]["id"], min_id=page2[0]["id"])),
        when={"max_id": page1[-1]["id"]},
    )
    server.script(TAG, Reply.json([]), when={"max_id": page2[-1]["id"]})  # the end
    source = sources.add_source(
        campaign, platform="mastodon", query="#BanTaliban", base_url=server.url
    )

    first = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert (first.pages, first.new, first.caught_up) == (3, 4, True)
    source.refresh_from_db()
    assert source.newest_seen == page1[0]["id"]

    server.script(
        TAG,
        Reply.json(new, **link(max_id=new[-1]["id"], min_id=new[0]["id"])),
        when={"min_id": page1[0]["id"]},
    )
    second = fetch.fetch_source(source, now=NOW, client=client(waits))

    assert second.new == 2
    assert second.caught_up
    assert server.asked(TAG)[-1].params == {"limit": "40", "min_id": page1[0]["id"]}
    source.refresh_from_db()
    assert source.newest_seen == new[0]["id"]
    assert Post.objects.filter(platform=Platform.MASTODON).count() == 6


def test_two_workers_never_claim_the_same_source(campaign, server):
    source = x_source(campaign, server)
    first_worker = Source.objects.get(pk=source.pk)
    second_worker = Source.objects.get(pk=source.pk)
    assert fetch.claim(first_worker, NOW) is True
    assert fetch.claim(second_worker, NOW) is False


def test_only_active_due_sources_are_fetched(campaign, server, monkeypatch):
    fetched = []
    monkeypatch.setattr(fetch, "fetch_source", lambda source, **kw: fetched.append(source.query))
    add = sources.add_source
    due = add(campaign, platform="bluesky", query="Due", base_url=server.url)
    add(campaign, platform="bluesky", query="Recent", base_url=server.url)
    Source.objects.filter(query="Recent").update(last_fetched_at=NOW - timedelta(minutes=3))
    add(campaign, platform="bluesky", query="Paused", base_url=server.url)
    Source.objects.filter(query="Paused").update(state=SourceState.PAUSED)
    add(campaign, platform="bluesky", query="Failing", base_url=server.url)
    Source.objects.filter(query="Failing").update(state=SourceState.FAILING)
    add(campaign, platform="bluesky", query="Limited", base_url=server.url)
    Source.objects.filter(query="Limited").update(not_before=NOW + timedelta(minutes=5))
    Source.objects.create(
        campaign=campaign,
        platform="bluesky",
        query="bantaliban",
        created_at=NOW,
        base_url="wss://jetstream.example/subscribe",
    )

    assert fetch.fetch_due_sources(NOW) == 1
    assert fetched == ["Due"]
    due.refresh_from_db()
    assert due.last_fetched_at == NOW  # claimed


def test_the_scheduled_task_fetches_due_sources(campaign, server):
    server.script(BLUESKY, Reply.json("bluesky_search_page2.json"))
    sources.add_source(campaign, platform="bluesky", query="BanTaliban", base_url=server.url)
    assert ("hamseda.pulse.tasks.fetch_pulse_sources", 60) in runtime.SCHEDULE

    fetch_pulse_sources.enqueue()
    run_tasks()

    assert Post.objects.filter(campaign=campaign).count() == 2


# --- the command ---------------------------------------------------------------------------


def run(campaign, **options):
    stdout, stderr = io.StringIO(), io.StringIO()
    arguments = {"campaign": campaign, "platform": "x", "hashtag": "BanTaliban", "stdout": stdout}
    code = fetch.run_fetch(**{**arguments, **options, "stderr": stderr})
    return code, stdout.getvalue(), stderr.getvalue()


def test_the_command_connects_x_with_a_token_file_and_fetches(campaign, server, tmp_path):
    script_x_first_fetch(server)
    token_file = tmp_path / "x-token"
    token_file.write_text("AAAA-bearer-from-file\n")
    source = Source.objects.create(
        campaign=campaign, platform="x", query="BanTaliban", base_url=server.url, created_at=NOW
    )

    code, out, err = run(campaign.slug, token=token_file, now=NOW)

    assert code == 0, err
    assert "page 1: 3 received, 3 new" in out
    assert "2 pages, 5 posts received, 5 new; up to date" in out
    source.refresh_from_db()
    assert sources.token_of(source) == "AAAA-bearer-from-file"
    assert b"AAAA-bearer-from-file" not in bytes(source.locked_token)
    assert server.asked(SEARCH)[0].headers["Authorization"] == "Bearer AAAA-bearer-from-file"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"campaign": "no-such-campaign"}, "no campaign"),
        ({"hashtag": "#✊"}, "cannot be part of one"),
        ({"platform": "myspace"}, "Unknown source"),
        ({"token": "/nonexistent/token"}, "does not exist"),
        ({}, "X needs the bearer token"),
        ({"platform": "mastodon"}, "address of a Mastodon instance"),
        ({"platform": "mastodon", "instance": "http://10.0.0.1"}, "https"),
        ({"platform": "bluesky", "instance": "https://bsky.example"}, "Mastodon sources only"),
    ],
)
def test_the_command_says_what_is_wrong(campaign, settings, options, message):
    settings.HAMSEDA = {**settings.HAMSEDA, "PULSE_LOCAL_SOURCES": False}
    code, _out, err = run(options.pop("campaign", campaign.slug), **options)
    assert code == 1
    assert message in err


def test_the_command_reports_a_revoked_token(campaign, server, tmp_path):
    server.script(SEARCH, Reply.json("x_401.json", 401))
    token_file = tmp_path / "token"
    token_file.write_text("revoked-token")
    Source.objects.create(
        campaign=campaign, platform="x", query="BanTaliban", base_url=server.url, created_at=NOW
    )

    code, out, err = run(campaign, token=token_file, now=NOW)

    assert code == 1
    assert "refused the token" in err
    assert "--token-file" in err
    assert "revoked-token" not in out + err


def test_hamseda_posts_fetch_runs_the_fetch(campaign, server, tmp_path):
    from django.core.management import call_command

    server.script(BLUESKY, Reply.json("bluesky_search_page2.json"))
    Source.objects.create(
        campaign=campaign,
        platform="bluesky",
        query="BanTaliban",
        base_url=server.url,
        created_at=NOW,
    )
    stdout = io.StringIO()

    call_command(
        "posts",
        "fetch",
        "--source",
        "bluesky",
        "--hashtag",
        "#BanTaliban",
        "--campaign",
        campaign.slug,
        stdout=stdout,
        stderr=io.StringIO(),
    )

    assert "1 page, 2 posts received, 2 new; up to date" in stdout.getvalue()
    assert Post.objects.filter(campaign=campaign).count() == 2
