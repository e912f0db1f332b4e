"""Disposable e-mail domains: the package's list, local additions and exceptions, and
`hamseda disposable-domains`."""

import pytest
from django.core.management import CommandError, call_command

from hamseda.integrity import disposable
from hamseda.integrity.models import DisposableDomain


@pytest.fixture(autouse=True)
def _fresh_local_list():
    """The local table is cached per process (integrity.disposable): each test reads
    its own, and leaves none behind for later tests (whose rows were rolled back)."""
    disposable.forget()
    yield
    disposable.forget()


@pytest.mark.parametrize(
    "domain", ["mailinator.com", "MAILINATOR.com", "x.y.mailinator.com", "guerrillamail.com"]
)
def test_the_packaged_list_is_refused_with_subdomains(db, domain):
    assert disposable.is_disposable(domain)


@pytest.mark.parametrize("domain", ["gmail.com", "example.org", "amnesty.org", "", "not a domain"])
def test_ordinary_domains_are_accepted(db, domain):
    assert not disposable.is_disposable(domain)


def test_a_local_addition_is_refused_and_an_exception_accepted(db):
    disposable.add("burner.example", note="seen in a flood")
    assert disposable.is_disposable("burner.example")
    assert disposable.is_disposable("a.burner.example")
    disposable.add("mailinator.com", allowed=True)
    assert not disposable.is_disposable("mailinator.com")
    # The most specific entry decides.
    disposable.add("ok.burner.example", allowed=True)
    assert not disposable.is_disposable("ok.burner.example")
    assert disposable.is_disposable("bad.burner.example")


def test_the_command_updates_from_a_file(db, tmp_path, capsys):
    source = tmp_path / "domains.txt"
    source.write_text(
        "# our list\nfresh-burner.example\nAnother.Example  # comment\nnot_a domain\n"
    )
    call_command("disposable-domains", "update", "--from", str(source))
    out = capsys.readouterr()
    assert "2 domains read: 2 added" in out.out
    assert "1 lines that are not domains" in out.err
    assert disposable.is_disposable("fresh-burner.example")
    assert disposable.is_disposable("another.example")
    # Again: nothing new. With --replace, entries missing from the file go.
    source.write_text("fresh-burner.example\n")
    call_command("disposable-domains", "update", "--from", str(source), "--replace")
    assert "1 added" not in capsys.readouterr().out
    assert not disposable.is_disposable("another.example")


def test_the_command_adds_allows_lists_and_removes(db, capsys):
    call_command("disposable-domains", "add", "burner.example", "--note", "flood")
    call_command("disposable-domains", "allow", "mailinator.com")
    call_command("disposable-domains", "list")
    out = capsys.readouterr().out
    assert "burner.example\trefused" in out
    assert "mailinator.com\tallowed" in out
    call_command("disposable-domains", "remove", "mailinator.com")
    assert disposable.is_disposable("mailinator.com")
    call_command("disposable-domains", "check", "mailinator.com")
    assert "mailinator.com: refused" in capsys.readouterr().out


def test_the_command_refuses_nonsense_clearly(db, tmp_path):
    with pytest.raises(CommandError, match="Not an e-mail domain"):
        call_command("disposable-domains", "add", "no spaces allowed")
    with pytest.raises(CommandError, match="no local entry"):
        call_command("disposable-domains", "remove", "never-added.example")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("disposable-domains", "update", "--from", str(tmp_path / "missing.txt"))
    assert not DisposableDomain.objects.exists()
