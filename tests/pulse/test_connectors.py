"""The HTTP policy of the connectors (timeouts, retries, rate limits, refusals) and what
each platform's connector asks, against the local replay server. No test sleeps: the
client's `sleep` records the waits instead."""

import socket
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hamseda.pulse.connectors import bluesky, mastodon, x
from hamseda.pulse.connectors.http import (
    USER_AGENT,
    AccessRefused,
    Client,
    NotJson,
    RateLimited,
    Refused,
    Unavailable,
    exhausted_until,
    parse_reset,
    retry_after,
)
from hamseda.pulse.models import Platform, Source
from tests.pulse.replay import ReplayServer, Reply, recorded_json

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
SEARCH = "/2/tweets/search/recent"


@pytest.fixture
def server():
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(waits):
    with Client(sleep=waits.append, clock=lambda: NOW, jitter=lambda: 0.5) as made:
        yield made


def x_source(server, **fields) -> Source:
    return Source(platform=Platform.X, query="BanTaliban", base_url=server.url, **fields)


# --- the HTTP policy ---------------------------------------------------------------------


def test_it_sends_a_user_agent_naming_hamseda_and_the_token(server, client):
    server.script("/ping", Reply.json({"ok": True}))
    answer = client.get_json(server.url + "/ping", token="secret-token")
    assert answer.data == {"ok": True}
    request = server.requests[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("Hamseda/")
    assert request.headers["Authorization"] == "Bearer secret-token"


def test_it_retries_a_503_then_succeeds(server, client, waits):
    server.script("/ping", Reply.json({"title": "busy"}, 503), Reply.json({"ok": True}))
    assert client.get_json(server.url + "/ping").data == {"ok": True}
    assert len(server.requests) == 2
    assert waits == [1.0]  # backoff 1 s × (0.5 + jitter 0.5)


def test_it_gives_up_after_a_few_5xx(server, client, waits):
    server.script("/ping", Reply.json({"title": "down"}, 502))
    with pytest.raises(Unavailable, match="kept failing"):
        client.get_json(server.url + "/ping", service="X")
    assert len(server.requests) == client.attempts
    assert waits == [1.0, 2.0, 4.0]  # exponential


def test_it_waits_a_short_retry_after_then_succeeds(server, client, waits):
    server.script(
        "/ping", Reply.json("x_429.json", 429, **{"Retry-After": "3"}), Reply.json({"ok": 1})
    )
    assert client.get_json(server.url + "/ping").data == {"ok": 1}
    assert waits == [3.0]


def test_it_stops_on_a_long_retry_after_and_says_when_to_come_back(server, client, waits):
    server.script("/ping", Reply.json("x_429.json", 429, **{"Retry-After": "900"}))
    with pytest.raises(RateLimited) as caught:
        client.get_json(server.url + "/ping", service="X")
    assert caught.value.not_before == NOW + timedelta(seconds=900)
    assert "X asked us to slow down" in str(caught.value)
    assert len(server.requests) == 1
    assert waits == []


def test_a_429_storm_stops_with_a_pause_instead_of_hammering(server, client, waits):
    server.script("/ping", Reply.json("x_429.json", 429, **{"Retry-After": "1"}))
    with pytest.raises(RateLimited) as caught:
        client.get_json(server.url + "/ping")
    assert len(server.requests) == client.attempts
    assert caught.value.not_before >= NOW + timedelta(minutes=1)
    # The next request does not even go out.
    with pytest.raises(RateLimited):
        client.get_json(server.url + "/ping")
    assert len(server.requests) == client.attempts


def test_a_429_with_an_http_date_retry_after(server, client):
    server.script("/ping", Reply.json({}, 429, **{"Retry-After": "Mon, 10 Mar 2025 13:00:00 GMT"}))
    with pytest.raises(RateLimited) as caught:
        client.get_json(server.url + "/ping")
    assert caught.value.not_before == datetime(2025, 3, 10, 13, 0, tzinfo=UTC)


def test_an_exhausted_x_window_stops_the_next_request_before_it_goes_out(server, client):
    reset = int((NOW + timedelta(minutes=10)).timestamp())
    server.script(
        "/ping",
        Reply.json({"ok": 1}, **{"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}),
    )
    assert client.get_json(server.url + "/ping").data == {"ok": 1}
    with pytest.raises(RateLimited) as caught:
        client.get_json(server.url + "/ping", service="X")
    assert caught.value.not_before == NOW + timedelta(minutes=10)
    assert len(server.requests) == 1
    assert client.limited_until(server.url) == NOW + timedelta(minutes=10)


def test_a_window_about_to_reset_is_waited_for(server, client, waits):
    server.script(
        "/ping",
        Reply.json(
            {"ok": 1},
            **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2025-03-10T12:00:05.000Z"},
        ),
    )
    client.get_json(server.url + "/ping")
    client.get_json(server.url + "/ping")
    assert waits == [5.0]
    assert len(server.requests) == 2


def test_it_refuses_a_revoked_token_clearly(server, client):
    server.script(SEARCH, Reply.json("x_401.json", 401))
    with pytest.raises(AccessRefused) as caught:
        client.get_json(server.url + SEARCH, token="revoked", service="X")
    assert "X refused the token" in str(caught.value)
    assert "revoked" in str(caught.value)
    assert "revoked" not in str(caught.value).split("token")[0]  # never the token itself
    assert len(server.requests) == 1  # not retried


def test_a_403_without_a_token_is_a_refusal_not_a_token_problem(server, client):
    server.script("/ping", Reply.json({"error": "Forbidden"}, 403))
    with pytest.raises(AccessRefused, match="refused to answer"):
        client.get_json(server.url + "/ping", service="mastodon.example")


def test_an_html_page_instead_of_json_is_refused(server, client):
    server.script("/ping", Reply.html())
    with pytest.raises(NotJson) as caught:
        client.get_json(server.url + "/ping", service="Bluesky")
    assert "web page instead of data" in str(caught.value)
    assert "HTML" in str(caught.value)


def test_a_redirect_is_not_followed(server, client):
    server.script("/ping", Reply(302, b"", {"Location": "https://portal.example/login"}))
    with pytest.raises(Refused, match=r"portal\.example"):
        client.get_json(server.url + "/ping", token="secret")
    assert len(server.requests) == 1


def test_a_4xx_names_the_platforms_own_words(server, client):
    server.script("/ping", Reply.json({"errors": [{"message": "Invalid since_id"}]}, 400))
    with pytest.raises(Refused, match="Invalid since_id"):
        client.get_json(server.url + "/ping", service="X")


def test_a_slow_answer_times_out(server, waits):
    hold = threading.Event()
    server.script("/slow", Reply(200, b"{}", {}, hold=hold))
    slow_client = Client(
        timeout=httpx.Timeout(0.1, connect=1.0), attempts=2, sleep=waits.append, clock=lambda: NOW
    )
    with slow_client, pytest.raises(Unavailable, match="did not answer in time"):
        slow_client.get_json(server.url + "/slow", service="X")
    hold.set()
    assert len(server.requests) == 2


def test_a_refused_connection_is_retried_then_reported(client, waits):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unavailable, match="Could not connect"):
        client.get_json(f"http://127.0.0.1:{port}/ping")
    assert len(waits) == client.attempts - 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1741608600", datetime(2025, 3, 10, 12, 10, tzinfo=UTC)),  # X, Bluesky: epoch
        ("30", NOW + timedelta(seconds=30)),  # IETF draft: seconds from now
        ("2025-03-10T12:05:00.019685Z", datetime(2025, 3, 10, 12, 5, 0, 19685, tzinfo=UTC)),
        ("Mon, 10 Mar 2025 12:07:00 GMT", datetime(2025, 3, 10, 12, 7, tzinfo=UTC)),
        ("soon", None),
        ("", None),
        ("-5", None),
    ],
)
def test_it_reads_every_platforms_reset_header(value, expected):
    assert parse_reset(value, NOW) == expected


def test_it_reads_bluesky_and_mastodon_rate_limit_headers():
    bluesky_headers = httpx.Headers({"ratelimit-remaining": "0", "ratelimit-reset": "1741608600"})
    assert exhausted_until(bluesky_headers, NOW) == datetime(2025, 3, 10, 12, 10, tzinfo=UTC)
    mastodon_headers = httpx.Headers(
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2025-03-10T12:05:00Z"}
    )
    assert exhausted_until(mastodon_headers, NOW) == datetime(2025, 3, 10, 12, 5, tzinfo=UTC)
    assert exhausted_until(httpx.Headers({"X-RateLimit-Remaining": "12"}), NOW) is None


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
# Digits int() refuses though str.isdigit() takes them (found by a CI run).
@example("²", "", "²")
@example("-٣", "1", "٣")
def test_odd_rate_limit_headers_never_break_the_client(remaining, reset, after):
    headers = {"x-rate-limit-remaining": remaining, "x-rate-limit-reset": reset}
    exhausted_until(headers, NOW)
    retry_after({"retry-after": after}, NOW)


# --- what each platform is asked -------------------------------------------------------


def test_x_search_keeps_retweets_and_pages_with_next_token(server, client):
    server.script(SEARCH, Reply.json("x_search_page1.json"), when={"next_token": None})
    server.script(SEARCH, Reply.json("x_search_page2.json"))
    source = x_source(server)
    pages = list(x.pages(source, client, token="t", now=NOW))
    assert [len(page.records) for page in pages] == [3, 2]
    first, second = server.asked(SEARCH)
    assert first.params["query"] == "#BanTaliban"  # no -is:retweet: reposts count
    assert first.params["max_results"] == "100"
    assert "referenced_tweets.id" in first.params["expansions"]
    assert "since_id" not in first.params
    token = recorded_json("x_search_page1.json")["meta"]["next_token"]
    assert second.params["next_token"] == token
    assert pages[0].caught_up is False
    assert pages[1].caught_up is True
    assert pages[1].newest_seen == recorded_json("x_search_page1.json")["meta"]["newest_id"]
    assert {record.kind for record in pages[1].records} == {"repost", "reply"}


def test_x_search_forgets_a_since_id_older_than_seven_days(server, client):
    server.script(SEARCH, Reply.json("x_search_empty.json"))
    newest = recorded_json("x_search_page1.json")["meta"]["newest_id"]
    source = x_source(server, newest_seen=newest)
    list(x.pages(source, client, token="t", now=NOW))
    assert server.requests[-1].params["since_id"] == newest
    list(x.pages(source, client, token="t", now=NOW + timedelta(days=8)))
    assert "since_id" not in server.requests[-1].params


def test_x_counts_skip_the_partial_first_hour(server, client):
    server.script("/2/tweets/counts/recent", Reply.json("x_counts.json"))
    hours = x.counts(x_source(server), client, token="t")
    assert hours[0] == (datetime(2025, 3, 10, 8, tzinfo=UTC), 120)
    assert len(hours) == 4
    assert server.requests[0].params == {"query": "#BanTaliban", "granularity": "hour"}


def test_x_keywords_are_searched_as_a_phrase():
    source = Source(platform=Platform.X, query='stop "the" ban', is_hashtag=False)
    assert x.search_query(source) == '"stop  the  ban"'


def test_bluesky_search_sends_the_encoded_hashtag(server, client):
    path = "/xrpc/app.bsky.feed.searchPosts"
    server.script(path, Reply.json("bluesky_search_page1.json"), when={"cursor": None})
    server.script(path, Reply.json("bluesky_search_page2.json"), when={"cursor": "2"})
    source = Source(platform=Platform.BLUESKY, query="BanTaliban", base_url=server.url)
    pages = list(bluesky.pages(source, client, backfill=timedelta(days=30), now=NOW))
    assert [len(page.records) for page in pages] == [2, 2]
    first = server.requests[0]
    assert first.params == {"q": "#BanTaliban", "sort": "latest", "limit": "100"}
    assert pages[-1].newest_seen.startswith("2025-03-10T10:40:02")


def test_mastodon_encodes_an_arabic_script_hashtag_in_the_path(server, client):
    tag = "آزادی\u200cبیان"
    server.script(
        f"/api/v1/timelines/tag/{tag}", Reply.json("mastodon_tag_fa.json"), when={"max_id": None}
    )
    server.script(f"/api/v1/timelines/tag/{tag}", Reply.json([]))
    source = Source(platform=Platform.MASTODON, query=tag, base_url=server.url)
    pages = list(mastodon.pages(source, client, backfill=timedelta(days=30), now=NOW))
    request = server.requests[0]
    assert request.raw_path == "/api/v1/timelines/tag/" + quote(tag, safe="")
    assert request.raw_path.startswith(
        "/api/v1/timelines/tag/%D8%A2%D8%B2%D8%A7%D8%AF%DB%8C%E2%80%8C"
    )
    assert request.params == {"limit": "40"}
    assert len(pages[0].records) == 1
    assert pages[0].records[0].language == "fa"


def test_mastodon_link_header_params():
    header = (
        '<https://mastodon.social/api/v1/timelines/tag/x?max_id=111>; rel="next", '
        '<https://mastodon.social/api/v1/timelines/tag/x?min_id=222>; rel="prev"'
    )
    assert mastodon.link_param(header, "next", "max_id") == "111"
    assert mastodon.link_param(header, "prev", "min_id") == "222"
    assert mastodon.link_param("", "next", "max_id") == ""
