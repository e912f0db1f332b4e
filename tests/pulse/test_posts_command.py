"""`hamseda posts import | fetch | rebuild`."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hamseda.campaigns.models import Campaign
from hamseda.pulse.models import Post, PostHour, PulseTotals

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def campaign(org):
    return Campaign.objects.create(
        organization=org.organization, slug="ban-taliban", hashtags="BanTaliban"
    )


def posts(*args):
    out, err = StringIO(), StringIO()
    call_command("posts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_a_summary_with_the_bad_lines(campaign):
    out, err = posts(
        "import",
        str(FIXTURES / "x_page.json"),
        str(FIXTURES / "twarc2.jsonl"),
        "--campaign",
        "ban-taliban",
    )
    assert "x_page.json (x-json): 5 posts read — 5 new, 0 updated, 0 deleted" in out
    assert "twarc2.jsonl (twarc2-jsonl): 4 posts read — 2 new, 1 updated" in out
    assert "3 bad lines" in out
    assert "  line 2: not valid JSON" in out
    assert "  line 7: An error answer of the X API" in out
    # No progress bar when stderr is not a terminal.
    assert err == ""
    assert Post.objects.filter(campaign=campaign).count() == 7


def test_import_goes_on_after_a_refused_file_and_says_so(campaign, tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body>Please log in</body></html>")
    out, err = posts("import", str(page), str(FIXTURES / "posts.csv"), "--campaign", "ban-taliban")
    assert "HTML" in err
    assert "1 of 2 files could not be imported" in err
    assert "posts.csv (csv): 5 posts read" in out


def test_import_exits_with_1_when_nothing_could_be_imported(campaign, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(CommandError, match="Nothing was imported") as refused:
        posts("import", str(empty), str(tmp_path / "missing.csv"), "--campaign", "ban-taliban")
    assert refused.value.returncode == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "text": "no author", "author_id": ""}\n')
    with pytest.raises(CommandError):
        posts("import", str(bad), "--campaign", "ban-taliban")


def test_import_refuses_an_unknown_campaign(db):
    with pytest.raises(CommandError, match="no campaign"):
        posts("import", str(FIXTURES / "x_page.json"), "--campaign", "nope")


def test_import_says_when_it_resumed(campaign, tmp_path, monkeypatch):
    path = tmp_path / "t.jsonl"
    shutil.copy(FIXTURES / "twarc2.jsonl", path)
    from hamseda.pulse import importer

    real = importer.import_file

    def killed(*args, **kwargs):
        def stop(done, total):
            raise KeyboardInterrupt

        return real(*args, **{**kwargs, "progress": stop, "batch_size": 1})

    monkeypatch.setattr("hamseda.pulse.management.commands.posts.import_file", killed)
    with pytest.raises(KeyboardInterrupt):
        posts("import", str(path), "--campaign", "ban-taliban")
    monkeypatch.setattr("hamseda.pulse.management.commands.posts.import_file", real)
    out, _ = posts("import", str(path), "--campaign", "ban-taliban")
    assert "resumed after line 1," in out
    assert "(2 posts stored then)" in out
    assert Post.objects.count() == 4


def test_rebuild_repairs_the_figures(campaign):
    posts("import", str(FIXTURES / "x_page.json"), "--campaign", "ban-taliban")
    PostHour.objects.all().delete()
    PulseTotals.objects.update(posts=0)
    out, _ = posts("rebuild", "--campaign", "ban-taliban")
    assert "rebuilt" in out
    assert PostHour.objects.filter(campaign=campaign).count() == 2
    assert PulseTotals.objects.get(campaign=campaign, platform="").posts == 5


def test_fetch_checks_its_arguments_and_hands_over(campaign, tmp_path, monkeypatch):
    calls = []

    def run_fetch(**kwargs):
        calls.append(kwargs)
        return 0

    monkeypatch.setattr("hamseda.pulse.fetch.run_fetch", run_fetch)
    token = tmp_path / "token"
    token.write_text("secret")
    posts(
        "fetch",
        "--source",
        "x",
        "--hashtag",
        "#BanTaliban",
        "--campaign",
        "ban-taliban",
        "--token-file",
        str(token),
        "--max-pages",
        "2",
    )
    (call,) = calls
    assert call["campaign"] == campaign
    assert (call["platform"], call["hashtag"], call["token"], call["max_pages"]) == (
        "x",
        "BanTaliban",
        token,
        2,
    )
    posts(
        "fetch",
        "--source",
        "mastodon",
        "--hashtag",
        "آزادی\u200cبیان",
        "--campaign",
        "ban-taliban",
        "--instance",
        "https://mastodon.social",
    )
    assert calls[1]["hashtag"] == "آزادی\u200cبیان"
    assert calls[1]["instance"] == "https://mastodon.social"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--source", "x", "--hashtag", "#🔥"], "'🔥' cannot be part of one"),
        (["--source", "x", "--hashtag", "Ban Taliban"], "spaces"),
        (["--source", "x", "--hashtag", "tag", "--max-pages", "0"], "max-pages"),
        (["--source", "bluesky", "--hashtag", "tag", "--token-file", "t"], "X only"),
        (["--source", "x", "--hashtag", "tag", "--token-file", "/no/such/file"], "no file"),
        (["--source", "bluesky", "--hashtag", "tag", "--instance", "https://m.s"], "Mastodon"),
    ],
)
def test_fetch_refuses_bad_arguments(campaign, monkeypatch, arguments, message):
    monkeypatch.setattr("hamseda.pulse.fetch.run_fetch", lambda **kwargs: pytest.fail("ran"))
    with pytest.raises(CommandError, match=message):
        posts("fetch", *arguments, "--campaign", "ban-taliban")


def test_a_failed_fetch_exits_with_its_code(campaign, monkeypatch):
    monkeypatch.setattr("hamseda.pulse.fetch.run_fetch", lambda **kwargs: 1)
    with pytest.raises(CommandError) as failed:
        posts("fetch", "--source", "bluesky", "--hashtag", "tag", "--campaign", "ban-taliban")
    assert failed.value.returncode == 1
