"""Importing files: exact counts on recorded-shape fixtures, bad lines, resume."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.campaigns.models import Campaign
from hamseda.pulse import aggregates
from hamseda.pulse.importer import ImportRefused, file_key, import_file
from hamseda.pulse.models import (
    HashtagDay,
    ImportRun,
    ImportState,
    LanguageDay,
    Post,
    PostHour,
    PulseTotals,
)

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 8, 17, 8, 0, tzinfo=UTC)
T1 = "1956296053355446272"
T4 = "1956312411141046272"
T5_FIRST = "1956317444305846272"


@pytest.fixture
def campaign(org):
    return Campaign.objects.create(
        organization=org.organization, slug="ban-taliban", hashtags="BanTaliban"
    )


def totals(campaign, platform=""):
    return PulseTotals.objects.get(campaign=campaign, platform=platform)


def kinds(campaign, platform):
    posts = Post.objects.filter(campaign=campaign, platform=platform, deleted_at__isnull=True)
    return {
        kind: posts.filter(kind=kind).count() for kind in ("original", "reply", "quote", "repost")
    }


def test_it_imports_an_x_page_and_a_twarc2_file_with_exact_counts(campaign):
    page = import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    assert (page.file_format, page.read, page.new, page.updated, page.bad_lines) == (
        "x-json",
        5,
        5,
        0,
        0,
    )
    lines = import_file(campaign, FIXTURES / "twarc2.jsonl", now=NOW)
    # T1 again (more likes: updated), T6 and T7 new, the first version of the edited
    # T5 (collapses into it, older: unchanged); lines 2, 6 and 7 are bad.
    assert lines.file_format == "twarc2-jsonl"
    assert (lines.read, lines.new, lines.updated, lines.unchanged) == (4, 2, 1, 1)
    assert lines.bad_lines == 3
    assert [line for line, _ in lines.problems] == [2, 6, 7]
    assert "not valid JSON" in lines.problems[0][1]
    assert "Unauthorized" in lines.problems[2][1]
    assert kinds(campaign, "x") == {"original": 3, "reply": 2, "quote": 1, "repost": 1}
    x = totals(campaign, "x")
    assert (x.posts, x.authors, x.deleted, x.hidden) == (7, 4, 0, 0)
    edited = Post.objects.get(campaign=campaign, platform_id=T5_FIRST)
    assert edited.text.startswith("Edited:")
    assert edited.like_count == 7
    assert edited.created_at == datetime(2025, 8, 15, 11, 30, tzinfo=UTC)
    assert edited.url.endswith("/status/1956321219179446272")
    assert Post.objects.get(campaign=campaign, platform_id=T1).like_count == 12


def test_a_second_import_of_the_same_file_changes_nothing(campaign):
    import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    again = import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    assert (again.read, again.new, again.updated, again.unchanged) == (5, 0, 0, 5)
    assert Post.objects.filter(campaign=campaign).count() == 5


def test_the_same_post_in_two_files_is_one_post(campaign, tmp_path):
    copy = tmp_path / "copy.jsonl"
    copy.write_text(json.dumps(json.loads((FIXTURES / "x_page.json").read_text())) + "\n")
    import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    second = import_file(campaign, copy, now=NOW)
    assert (second.file_format, second.new, second.unchanged) == ("twarc2-jsonl", 0, 5)
    assert totals(campaign).posts == 5


def test_it_imports_bluesky_search_then_jetstream(campaign):
    search = import_file(campaign, FIXTURES / "bluesky_search.json", now=NOW)
    assert (search.file_format, search.new) == ("bluesky-json", 5)
    stream = import_file(campaign, FIXTURES / "jetstream.jsonl", now=NOW)
    # create (new), update (newer version: updated), delete; three events ignored.
    assert stream.file_format == "bluesky-jsonl"
    assert (stream.read, stream.new, stream.updated, stream.deleted) == (3, 1, 1, 1)
    assert stream.bad_lines == 0
    assert kinds(campaign, "bluesky") == {"original": 3, "reply": 0, "quote": 2, "repost": 0}
    bluesky = totals(campaign, "bluesky")
    assert (bluesky.posts, bluesky.deleted, bluesky.authors) == (5, 1, 4)
    updated = Post.objects.get(platform_id="at://did:plc:maryam/app.bsky.feed.post/3lwgmfvhnk22b")
    assert updated.text == "Suspend their accounts now! #BanTaliban"
    # The update came through Jetstream, which knows only the DID: the handle stays.
    assert updated.author_handle == "maryam.bsky.social"
    assert updated.like_count == 5


def test_it_imports_mastodon_statuses(campaign):
    report = import_file(campaign, FIXTURES / "mastodon_statuses.json", now=NOW)
    assert (report.file_format, report.read, report.new) == ("mastodon-json", 5, 5)
    assert kinds(campaign, "mastodon") == {"original": 2, "reply": 1, "quote": 1, "repost": 1}
    assert totals(campaign, "mastodon").authors == 4


def test_it_imports_csv_with_a_deletion_and_bad_rows(campaign):
    import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    report = import_file(campaign, FIXTURES / "posts.csv", now=NOW)
    assert report.file_format == "csv"
    assert (report.read, report.new, report.deleted) == (5, 4, 1)
    assert [line for line, _ in report.problems] == [6, 7, 8]
    assert "spreadsheet" in report.problems[0][1]
    deleted = Post.objects.get(campaign=campaign, platform_id=T4)
    assert deleted.deleted_at == NOW
    assert (deleted.text, deleted.hashtags, deleted.url, deleted.author_handle) == ("", "", "", "")
    multi = Post.objects.get(platform_id="1956642083435446274")
    assert multi.text == "multi\nline text #BanTaliban"
    assert multi.kind == "repost"
    assert multi.created_at == datetime(2025, 8, 16, 4, 35, tzinfo=UTC)
    x = totals(campaign, "x")
    assert (x.posts, x.deleted) == (6, 1)
    assert totals(campaign).posts == 8


def test_a_deleted_post_stays_deleted_when_an_old_file_brings_it_back(campaign):
    import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    import_file(campaign, FIXTURES / "posts.csv", now=NOW)
    again = import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    assert (again.new, again.updated) == (0, 0)
    post = Post.objects.get(campaign=campaign, platform_id=T4)
    assert post.deleted_at is not None
    assert post.text == ""
    assert totals(campaign, "x").posts == 6


def test_csv_aliases_semicolons_and_a_byte_order_mark(campaign):
    import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    report = import_file(campaign, FIXTURES / "csv_aliases.csv", now=NOW)
    # T1 again, with more likes and reposts than the page had: updated.
    assert (report.read, report.new, report.updated, report.bad_lines) == (2, 1, 1, 0)
    post = Post.objects.get(platform_id="1956642083435446275")
    assert (post.platform, post.author_handle, post.like_count, post.repost_count) == (
        "x",
        "new_voice",
        3,
        0,
    )
    assert post.hashtags == "bantaliban زن_زندگی_آزادی"


def test_the_aggregates_follow_the_import(campaign):
    import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    hours = {
        row.hour.hour: (row.posts, row.originals, row.replies, row.quotes, row.reposts)
        for row in PostHour.objects.filter(campaign=campaign, platform="x")
    }
    assert hours == {10: (3, 1, 0, 1, 1), 11: (2, 1, 1, 0, 0)}
    import_file(campaign, FIXTURES / "posts.csv", now=NOW)
    eleven = PostHour.objects.get(
        campaign=campaign, platform="x", hour=datetime(2025, 8, 15, 11, tzinfo=UTC)
    )
    assert (eleven.posts, eleven.replies) == (1, 0)


def test_a_killed_import_resumes_after_the_last_committed_batch(campaign, tmp_path):
    path = tmp_path / "big.jsonl"
    lines = []
    for number in range(30):
        tweet_id = str(1956296053355446272 + (number + 1) * 4194304 * 1000)
        lines.append(
            json.dumps(
                {
                    "id": tweet_id,
                    "author_id": str(2000 + number % 7),
                    "text": f"post {number} #BanTaliban",
                    "created_at": "2025-08-15T10:05:00.000Z",
                    "author": {"id": str(2000 + number % 7), "username": f"user{number % 7}"},
                }
            )
        )
    lines.insert(12, "{broken")
    path.write_text("\n".join(lines) + "\n")

    class Killed(Exception):
        pass

    def kill(done, total):
        raise Killed

    with pytest.raises(Killed):
        import_file(campaign, path, now=NOW, progress=kill, batch_size=10)
    run = ImportRun.objects.get(campaign=campaign)
    assert (run.state, run.line_number, run.posts_read) == (ImportState.INTERRUPTED, 10, 10)
    assert Post.objects.filter(campaign=campaign).count() == 10
    # The aggregates already count what was committed.
    assert totals(campaign).posts == 10

    # Moved and renamed: still the same file.
    moved = tmp_path / "renamed.jsonl"
    shutil.move(path, moved)
    report = import_file(campaign, moved, now=NOW, batch_size=10)
    assert (report.resumed_after_line, report.resumed_posts) == (10, 10)
    assert (report.read, report.new, report.bad_lines) == (20, 20, 1)
    assert report.problems[0][0] == 13
    run.refresh_from_db()
    assert (run.state, run.posts_read, run.posts_new, run.bad_lines) == (
        ImportState.DONE,
        30,
        30,
        1,
    )
    assert Post.objects.filter(campaign=campaign).count() == 30
    assert totals(campaign).posts == 30
    assert totals(campaign).authors == 7

    # Done: a new import reads the whole file again, and finds nothing new.
    again = import_file(campaign, moved, now=NOW, batch_size=10)
    assert (again.resumed_after_line, again.read, again.new) == (0, 30, 0)


def test_a_killed_csv_import_resumes_too(campaign, tmp_path):
    path = tmp_path / "posts.csv"
    shutil.copy(FIXTURES / "posts.csv", path)

    class Killed(Exception):
        pass

    calls = []

    def kill_once(done, total):
        calls.append(done)
        if len(calls) == 1:
            raise Killed

    with pytest.raises(Killed):
        import_file(campaign, path, now=NOW, progress=kill_once, batch_size=2)
    assert Post.objects.filter(campaign=campaign).count() == 2
    report = import_file(campaign, path, now=NOW, progress=kill_once, batch_size=2)
    assert report.resumed_after_line == 3
    assert (report.read, report.new, report.bad_lines) == (3, 3, 3)
    assert Post.objects.filter(campaign=campaign).count() == 5
    assert not Post.objects.filter(campaign=campaign, platform_id="").exists()


def test_no_resume_starts_again(campaign, tmp_path):
    path = tmp_path / "t.jsonl"
    shutil.copy(FIXTURES / "twarc2.jsonl", path)

    def kill(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(campaign, path, now=NOW, progress=kill, batch_size=1)
    report = import_file(campaign, path, now=NOW, resume=False)
    assert (report.resumed_after_line, report.read, report.bad_lines) == (0, 4, 3)
    assert ImportRun.objects.filter(campaign=campaign, state=ImportState.DONE).count() == 1


def test_the_file_key_is_the_size_and_first_mebibyte(tmp_path):
    one, two = tmp_path / "a", tmp_path / "b"
    one.write_bytes(b"x" * 10)
    two.write_bytes(b"x" * 10)
    assert file_key(one) == file_key(two)
    two.write_bytes(b"x" * 11)
    assert file_key(one) != file_key(two)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04rest of a zip", "zip"),
        (b"<!DOCTYPE html><html><body>Log in</body></html>", "HTML"),
        (b"\x00\x01\x02binary", "binary"),
        (b'{"hello": "world"}\n', "not posts"),
        (b"name,city\nMaryam,Kabul\n", "not a format"),
    ],
)
def test_it_refuses_a_file_that_is_not_posts(campaign, tmp_path, content, message):
    path = tmp_path / "file"
    path.write_bytes(content)
    with pytest.raises(ImportRefused, match=message):
        import_file(campaign, path, now=NOW)
    assert not Post.objects.exists()


def test_it_refuses_a_missing_file_and_a_missing_campaign(campaign, tmp_path):
    with pytest.raises(ImportRefused, match="no file"):
        import_file(campaign, tmp_path / "nothing.jsonl")
    with pytest.raises(ImportRefused, match="not a file"):
        import_file(campaign, tmp_path)
    with pytest.raises(ImportRefused, match="no campaign"):
        import_file("no-such-campaign", FIXTURES / "x_page.json")


GOOD = json.dumps(
    {
        "id": "1956296053355446272",
        "author_id": "1001",
        "text": "#BanTaliban",
        "created_at": "2025-08-15T10:05:00.000Z",
        "author": {"username": "maryam_af"},
    }
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "data", "text", "author_id", "created_at", "uri", "posts", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=8,
)
GARBAGE = st.one_of(
    # Any text but line breaks (a line each) and NUL (a file full of NULs is binary;
    # one NUL is tested below).
    st.text(
        st.characters(
            codec="utf-8", exclude_characters="\x00\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
        ),
        max_size=60,
    ),
    JSON_VALUES.map(json.dumps),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(garbage=st.lists(GARBAGE, min_size=1, max_size=6))
def test_garbage_lines_never_crash_and_good_lines_are_kept(campaign, tmp_path_factory, garbage):
    path = tmp_path_factory.mktemp("garbage") / "posts.jsonl"
    # The first line is good, so the file is detected as twarc2 JSON Lines.
    path.write_text("\n".join([GOOD, *garbage, GOOD]) + "\n", encoding="utf-8")
    report = import_file(campaign, path, now=NOW)
    assert report.read >= 2
    assert Post.objects.filter(campaign=campaign, platform_id="1956296053355446272").exists()
    assert all(line is not None and 2 <= line <= len(garbage) + 1 for line, _ in report.problems)
    assert report.bad_lines <= len(garbage)


def test_a_line_with_a_nul_or_bad_utf8_is_a_bad_line(campaign, tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_bytes(GOOD.encode() + b'\n{"id": "1\x00"}\n\xff\xfe not utf-8\n')
    report = import_file(campaign, path, now=NOW)
    assert (report.read, report.bad_lines) == (1, 2)
    assert [line for line, _ in report.problems] == [2, 3]


def test_a_large_file_is_parsed_in_a_child_process_and_resumes_exactly(campaign, tmp_path):
    path = tmp_path / "t.jsonl"
    shutil.copy(FIXTURES / "twarc2.jsonl", path)

    def kill(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(campaign, path, now=NOW, parallel=True, batch_size=1, progress=kill)
    run = ImportRun.objects.get(campaign=campaign)
    assert run.posts_read == Post.objects.count() == 2
    report = import_file(campaign, path, now=NOW, parallel=True, batch_size=1)
    assert report.resumed_after_line == 1
    assert (report.read, report.new, report.bad_lines) == (2, 2, 3)
    assert [line for line, _ in report.problems] == [2, 6, 7]
    assert report.lines == 7
    assert Post.objects.count() == 4
    assert totals(campaign, "x").posts == 4


def aggregate_rows(campaign):
    return (
        sorted(
            PostHour.objects.filter(campaign=campaign).values_list(
                "platform",
                "hour",
                "posts",
                "originals",
                "replies",
                "quotes",
                "reposts",
                "authors",
                "engagement",
            )
        ),
        sorted(
            LanguageDay.objects.filter(campaign=campaign).values_list("day", "language", "posts")
        ),
        sorted(HashtagDay.objects.filter(campaign=campaign).values_list("day", "tag", "posts")),
        sorted(
            PulseTotals.objects.filter(campaign=campaign).values_list(
                "platform", "posts", "authors", "deleted", "hidden", "first_post_at", "last_post_at"
            )
        ),
    )


def test_the_tallied_aggregates_equal_a_full_recount(campaign):
    # New posts, copies, an update, an edit, deletions and other platforms, in turn:
    # after each import the figures are those a full recount gives.
    for name in (
        "twarc2.jsonl",
        "x_page.json",
        "posts.csv",
        "bluesky_search.json",
        "jetstream.jsonl",
        "mastodon_statuses.json",
        "csv_aliases.csv",
    ):
        import_file(campaign, FIXTURES / name, now=NOW, batch_size=2)
        tallied = aggregate_rows(campaign)
        aggregates.rebuild_all(campaign, now=NOW)
        assert aggregate_rows(campaign) == tallied, name


def test_a_first_import_takes_its_figures_from_the_tally(campaign, monkeypatch):
    counted = []
    recount = aggregates._count_range
    monkeypatch.setattr(
        aggregates, "_count_range", lambda *args: counted.append(args[1:]) or recount(*args)
    )
    import_file(campaign, FIXTURES / "x_page.json", now=NOW)
    # New posts only, in hours that had none: no second pass over them.
    assert counted == []
    import_file(campaign, FIXTURES / "twarc2.jsonl", now=NOW)
    # A copy and an update among them: their day is counted again.
    assert counted == [(datetime(2025, 8, 15, tzinfo=UTC), datetime(2025, 8, 16, tzinfo=UTC))]
    assert totals(campaign, "x").posts == 7
