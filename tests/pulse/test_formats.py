"""Parsers of the platforms' documented formats, and format detection."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hamseda.pulse.formats import FormatError, bluesky, csv_rows, mastodon, x
from hamseda.pulse.formats.detect import UnknownFormat, detect_format

FIXTURES = Path(__file__).parent / "fixtures"
ZWNJ = "\u200c"


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def lines(name):
    return [
        json.loads(line)
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()
        if line.startswith("{") and line.endswith("}")
    ]


# --- X -----------------------------------------------------------------------------


def test_an_x_page_gives_its_tweets_with_handles_kinds_and_hashtags():
    records = x.parse_page(load("x_page.json"))
    assert [record.kind for record in records] == [
        "original",
        "repost",
        "quote",
        "reply",
        "original",
    ]
    first, retweet, quote, reply, _ = records
    assert (first.platform, first.platform_id, first.author_id, first.author_handle) == (
        "x",
        "1956296053355446272",
        "1001",
        "maryam_af",
    )
    assert first.url == "https://x.com/maryam_af/status/1956296053355446272"
    assert first.hashtags == ["bantaliban", "afghanistan"]
    assert (first.like_count, first.repost_count, first.reply_count, first.quote_count) == (
        10,
        4,
        2,
        1,
    )
    assert first.created_at == datetime(2025, 8, 15, 10, 5, tzinfo=UTC)
    # A retweet's metrics are the original's: none of its own.
    assert (retweet.like_count, retweet.repost_count) == (0, 0)
    assert quote.language == "fa"
    assert quote.hashtags == [f"آزادی{ZWNJ}بیان", "bantaliban"]
    assert reply.language == "ps"


def test_an_edited_tweet_is_keyed_by_its_first_version():
    edited = x.parse_page(load("x_page.json"))[-1]
    assert edited.platform_id == "1956317444305846272"
    assert edited.created_at == datetime(2025, 8, 15, 11, 30, tzinfo=UTC)
    assert edited.edited_at == datetime(2025, 8, 15, 11, 45, tzinfo=UTC)
    assert edited.url == "https://x.com/press_se/status/1956321219179446272"


def test_twarc2_lines_give_pages_and_flattened_tweets():
    page, old_version, flat, error = lines("twarc2.jsonl")
    records = x.parse_line(page)
    assert len(records) == 2
    assert records[1].language == ""  # "qht": hashtags only
    assert x.parse_line(old_version)[0].edited_at is None
    (tweet,) = x.parse_line(flat)
    assert (tweet.author_handle, tweet.kind) == ("london_demo", "reply")
    assert tweet.hashtags == ["bantaliban", "londonprotest"]
    with pytest.raises(FormatError, match="Unauthorized"):
        x.parse_line(error)


def test_a_bad_tweet_in_a_page_is_described_and_the_rest_kept():
    page = load("x_page.json")
    del page["data"][1]["author_id"]
    with pytest.raises(FormatError, match="author_id"):
        x.parse_page(page)
    problems = []
    assert len(x.parse_page(page, problems)) == 4
    assert "1956299828229046272" in problems[0]


def test_a_tweet_without_entities_gets_its_hashtags_from_the_text():
    tweet = {
        "id": "1",
        "author_id": "2",
        "text": "Hi #BanTaliban",
        "created_at": "2025-01-01T00:00:00Z",
    }
    assert x.parse_tweet(tweet, "").hashtags == ["bantaliban"]
    assert x.parse_tweet(tweet, "").url == "https://x.com/i/web/status/1"


def test_an_empty_x_page_has_no_tweets():
    assert x.parse_page({"meta": {"result_count": 0}}) == []


# --- Bluesky -----------------------------------------------------------------------


def test_a_bluesky_search_page_gives_its_posts():
    records = bluesky.parse_search_page(load("bluesky_search.json"))
    assert [record.kind for record in records] == [
        "original",
        "reply",
        "quote",
        "quote",
        "original",
    ]
    first, reply, quote, _, listing = records
    assert first.platform_id == "at://did:plc:maryam/app.bsky.feed.post/3lwgmfvhnk22b"
    assert first.url == "https://bsky.app/profile/maryam.bsky.social/post/3lwgmfvhnk22b"
    assert (first.like_count, first.repost_count, first.reply_count, first.quote_count) == (
        5,
        2,
        1,
        2,
    )
    assert first.hashtags == ["bantaliban"]
    # No facets: hashtags from the text.
    assert reply.hashtags == [f"آزادی{ZWNJ}بیان", "bantaliban"]
    assert reply.language == "fa"
    # "handle.invalid": the DID stands in.
    assert quote.author_handle == "did:plc:sara"
    assert listing.language == "en"
    assert listing.hashtags == ["bantaliban", "afghanistan"]


def test_jetstream_events_give_creates_updates_and_deletes():
    create, update, delete, identity, like, account = lines("jetstream.jsonl")
    created = bluesky.parse_jetstream_event(create)
    assert (created.author_id, created.author_handle, created.kind) == (
        "did:plc:zahra",
        "did:plc:zahra",
        "original",
    )
    assert created.url == "https://bsky.app/profile/did:plc:zahra/post/3lwgt4hw7k22b"
    updated = bluesky.parse_jetstream_event(update)
    assert updated.edited_at == datetime(2025, 8, 15, 12, 20, tzinfo=UTC)
    deleted = bluesky.parse_jetstream_event(delete)
    assert deleted.deleted
    # The record key is a TID: it tells when the deleted post was made.
    assert deleted.created_at == datetime(2025, 8, 15, 10, 30, tzinfo=UTC)
    assert bluesky.parse_jetstream_event(identity) is None
    assert bluesky.parse_jetstream_event(like) is None
    assert bluesky.parse_jetstream_event(account) is None


def test_a_bluesky_uri_that_is_not_a_post_is_refused():
    view = load("bluesky_search.json")["posts"][0]
    view["uri"] = "at://did:plc:maryam/app.bsky.feed.like/3lwgmfvhnk22b"
    with pytest.raises(FormatError, match="not the uri of a Bluesky post"):
        bluesky.parse_post_view(view)


# --- Mastodon ----------------------------------------------------------------------


def test_mastodon_statuses_give_posts_with_plain_text():
    records = mastodon.parse_statuses(load("mastodon_statuses.json"))
    assert [record.kind for record in records] == [
        "original",
        "reply",
        "repost",
        "quote",
        "original",
    ]
    first, reply, boost, quote, edited = records
    assert first.text == 'Stop them & act #BanTaliban\nnow\n\nSecond "paragraph"'
    assert (first.author_id, first.author_handle) == (
        "maryam@mastodon.social",
        "@maryam@mastodon.social",
    )
    assert first.platform_id == "https://mastodon.social/users/maryam/statuses/114990000000000001"
    assert (first.like_count, first.repost_count, first.reply_count) == (3, 1, 1)
    assert reply.author_handle == "@ahmad@kabul.social"
    assert reply.hashtags == ["bantaliban"]
    assert boost.platform_id.endswith("/activity")
    assert boost.author_handle == "@sara@mastodon.social"
    assert boost.text == first.text
    assert boost.url == "https://mastodon.social/@maryam/114990000000000001"
    assert quote.hashtags == ["bantaliban", f"آزادی{ZWNJ}بیان"]
    assert edited.edited_at == datetime(2025, 8, 15, 12, 20, tzinfo=UTC)


def test_mastodon_html_is_made_plain_without_running_anything():
    assert mastodon.html_to_text("<p>a<script>alert(1)</script> &lt;b&gt;</p>") == "a <b>"


# --- CSV ---------------------------------------------------------------------------


def test_csv_rows_by_the_documented_header():
    header = "platform,id,created_at,author_id,author,text,lang,kind,like_count,repost_count"
    columns = csv_rows.read_header([*header.split(","), "reply_count", "quote_count", "url"])
    row = ["bluesky", "at://did:plc:n/app.bsky.feed.post/3lwj2nc47k22b", "2025-08-16T09:30:00Z"]
    row += ["", "@nadia.bsky.social", "Hi #BanTaliban", "EN", "reply", "1,200", "x", "", "", ""]
    record = csv_rows.parse_row(columns, row)
    assert (record.author_id, record.author_handle, record.language) == (
        "did:plc:n",
        "nadia.bsky.social",
        "en",
    )
    assert (record.like_count, record.repost_count) == (1200, 0)
    assert record.url == "https://bsky.app/profile/nadia.bsky.social/post/3lwj2nc47k22b"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["x", "", "2025-08-16T09:00:00Z", "1", "a"], "no id"),
        (["x", "12", "", "1", "a"], "no time"),
        (["", "12", "2025-08-16T09:00:00Z", "1", "a"], "platform"),
        (["myspace", "12", "2025-08-16T09:00:00Z", "1", "a"], "Unknown platform"),
        (["x", "1.2E+18", "2025-08-16T09:00:00Z", "1", "a"], "spreadsheet"),
        (["bluesky", "3lwj2", "2025-08-16T09:00:00Z", "1", "a"], "at://"),
        (["mastodon", "77", "2025-08-16T09:00:00Z", "1", "a"], "uri"),
        (["x", "12", "2025-08-16T09:00:00Z", "", ""], "no author"),
        (["x", "12", "soon", "1", "a"], "ISO 8601"),
    ],
)
def test_a_bad_csv_row_says_why(row, message):
    columns = csv_rows.read_header(["platform", "id", "created_at", "author_id", "author"])
    with pytest.raises(FormatError, match=message):
        csv_rows.parse_row(columns, row)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-08-16T09:00:00Z", datetime(2025, 8, 16, 9, tzinfo=UTC)),
        ("2025-08-16 09:00:00", datetime(2025, 8, 16, 9, tzinfo=UTC)),
        ("2025-08-16T13:30:00+04:30", datetime(2025, 8, 16, 9, tzinfo=UTC)),
        ("Sat Aug 16 09:00:00 +0000 2025", datetime(2025, 8, 16, 9, tzinfo=UTC)),
        ("1755334800", datetime(2025, 8, 16, 9, tzinfo=UTC)),
        ("1755334800000", datetime(2025, 8, 16, 9, tzinfo=UTC)),
    ],
)
def test_csv_times(value, expected):
    assert csv_rows.parse_csv_time(value) == expected


def test_a_csv_header_without_an_id_is_refused():
    with pytest.raises(FormatError, match="no id column"):
        csv_rows.read_header(["name", "created_at"])


# --- detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x_page.json", "x-json"),
        ("twarc2.jsonl", "twarc2-jsonl"),
        ("bluesky_search.json", "bluesky-json"),
        ("jetstream.jsonl", "bluesky-jsonl"),
        ("mastodon_statuses.json", "mastodon-json"),
        ("posts.csv", "csv"),
        ("csv_aliases.csv", "csv"),
    ],
)
def test_it_detects_each_fixture(name, expected):
    assert detect_format(FIXTURES / name) == expected


def test_it_detects_json_lines_of_each_platform(tmp_path):
    statuses = load("mastodon_statuses.json")
    path = tmp_path / "statuses.jsonl"
    path.write_text("\n".join(json.dumps(status) for status in statuses))
    assert detect_format(path) == "mastodon-jsonl"
    views = load("bluesky_search.json")["posts"]
    path.write_text("\n".join(json.dumps(view) for view in views))
    assert detect_format(path) == "bluesky-jsonl"
    path.write_text(json.dumps(views))
    assert detect_format(path) == "bluesky-json"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"PK\x03\x04\x14\x00", "zip"),
        (gzip.compress(b'{"data": []}'), "gzip"),
        ("id,created_at\n".encode("utf-16"), "UTF-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"  <html><head><title>Sign in</title></head></html>", "HTML"),
        (b'{"some": "thing"}\n{"other": 1}\n', "not posts"),
        (b"[1, 2, 3]", "not posts"),
        (b'{"data": [1, 2', "not valid JSON"),
        (b"just some words\nand more\n", "not a format"),
        ("nom,ville\nMaryam,Kaboul\n".encode("cp1252") + b"\xe9\xe9\n", "not a format"),
        (b"id,created_at\n1,\xe9\xe9\xe9 bad\n", "not UTF-8"),
    ],
)
def test_it_refuses_what_it_does_not_know(tmp_path, content, message):
    path = tmp_path / "file"
    path.write_bytes(content)
    with pytest.raises(UnknownFormat, match=message):
        detect_format(path)


def test_it_refuses_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(UnknownFormat, match="no file"):
        detect_format(tmp_path / "missing")
    with pytest.raises(UnknownFormat, match="folder"):
        detect_format(tmp_path)


def test_digits_that_int_refuses_are_not_numbers():
    from hamseda.pulse.formats import count
    from hamseda.pulse.records import ascii_digits

    assert ascii_digits("1234")
    assert not ascii_digits("²")
    assert not ascii_digits("١٢٣")
    assert not ascii_digits("")
    assert count("²") == 0
    assert count("17") == 17
