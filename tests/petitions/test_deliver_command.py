"""`hamseda deliver PETITION --out PDF`: what it writes, and a clear error with exit code
1 for every bad input, never a half-written or overwritten file."""

import io
from pathlib import Path

import pypdf
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hamseda.petitions import services
from hamseda.petitions.delivery import MAX_REASONS_BYTES
from tests.conftest import make_org, signer
from tests.petitions.test_delivery import TITLE, make_open_petition


@pytest.fixture
def petition(db):
    petition = make_open_petition(make_org().organization)
    services.record_confirmed_signature(petition, signer(1, show_name=True, first_name="Maryam"))
    services.record_confirmed_signature(petition, signer(2, first_name="Zarmina"))
    petition.refresh_from_db()
    return petition


def deliver(*args) -> str:
    out = io.StringIO()
    call_command("deliver", *[str(arg) for arg in args], stdout=out)
    return out.getvalue()


def refused(*args, match: str) -> CommandError:
    with pytest.raises(CommandError, match=match) as caught:
        deliver(*args)
    assert caught.value.returncode == 1
    return caught.value


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".part"))


def test_it_writes_the_pdf_and_the_csv(petition, tmp_path):
    reasons = tmp_path / "reasons.txt"
    reasons.write_text("For my sisters.\n— Maryam, Sweden\n\nFor free speech.", encoding="utf-8")
    out, numbers = tmp_path / "delivery.pdf", tmp_path / "numbers.csv"

    said = deliver(petition.slug, "--out", out, "--reasons", reasons, "--csv", numbers)

    reader = pypdf.PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert TITLE in text
    assert "For my sisters." in text
    assert "Maryam" in text
    assert "Zarmina" not in text
    assert numbers.read_bytes().startswith("\ufeff".encode())
    assert "2 confirmed signatures" in said
    assert "2 reasons" in said
    assert leftovers(tmp_path) == []


def test_it_leaves_names_out_and_picks_languages(petition, tmp_path):
    out = tmp_path / "delivery.pdf"

    deliver(petition.slug, "--out", out, "--no-names", "--language", "fa", "ps")

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out).pages)
    assert "Maryam" not in text
    assert TITLE not in text


def test_it_makes_a_missing_folder(petition, tmp_path):
    out = tmp_path / "new" / "folder" / "delivery.pdf"

    deliver(petition.slug, "--out", out)

    assert out.read_bytes().startswith(b"%PDF")


def test_it_refuses_an_unknown_petition(db, tmp_path):
    refused("nope", "--out", tmp_path / "x.pdf", match="No petition 'nope'")


def test_it_refuses_a_draft(db, tmp_path):
    draft = make_open_petition(make_org().organization, open_=False)

    refused(draft.slug, "--out", tmp_path / "x.pdf", match="Only an open, closed or won")
    assert not (tmp_path / "x.pdf").exists()


def test_it_refuses_a_petition_without_confirmed_signatures(db, tmp_path):
    empty = make_open_petition(make_org().organization)

    refused(empty.slug, "--out", tmp_path / "x.pdf", match="Nothing to deliver yet")
    assert list(tmp_path.iterdir()) == []


def test_it_never_overwrites_the_pdf(petition, tmp_path):
    out = tmp_path / "delivery.pdf"
    out.write_bytes(b"precious")

    refused(petition.slug, "--out", out, match="exists; refusing to overwrite")
    assert out.read_bytes() == b"precious"


def test_it_never_overwrites_the_csv(petition, tmp_path):
    numbers = tmp_path / "numbers.csv"
    numbers.write_bytes(b"precious")

    refused(
        petition.slug, "--out", tmp_path / "d.pdf", "--csv", numbers, match="refusing to overwrite"
    )
    assert numbers.read_bytes() == b"precious"
    assert not (tmp_path / "d.pdf").exists()


def test_it_refuses_an_unwritable_place(petition, tmp_path):
    # A file where the folder should be: unwritable even for root, who ignores modes.
    (tmp_path / "taken").write_bytes(b"")

    refused(petition.slug, "--out", tmp_path / "taken" / "d.pdf", match="Cannot make the folder")


def test_it_refuses_a_missing_reasons_file(petition, tmp_path):
    refused(
        petition.slug,
        "--out",
        tmp_path / "d.pdf",
        "--reasons",
        tmp_path / "missing.txt",
        match="Cannot read .*missing.txt",
    )


def test_it_refuses_a_reasons_file_that_is_not_utf8(petition, tmp_path):
    reasons = tmp_path / "reasons.txt"
    reasons.write_bytes("Für die Freiheit".encode("latin-1"))

    refused(petition.slug, "--out", tmp_path / "d.pdf", "--reasons", reasons, match="not UTF-8")
    assert not (tmp_path / "d.pdf").exists()


def test_it_refuses_too_many_reasons(petition, tmp_path):
    reasons = tmp_path / "reasons.txt"
    reasons.write_text("\n\n".join(f"reason {n}" for n in range(201)), encoding="utf-8")

    refused(petition.slug, "--out", tmp_path / "d.pdf", "--reasons", reasons, match="more than 200")


def test_it_refuses_a_reason_too_long(petition, tmp_path):
    reasons = tmp_path / "reasons.txt"
    reasons.write_text("x" * 2001, encoding="utf-8")

    refused(petition.slug, "--out", tmp_path / "d.pdf", "--reasons", reasons, match="2001 char")


def test_it_refuses_a_huge_reasons_file_without_reading_it_all(petition, tmp_path):
    reasons = tmp_path / "reasons.txt"
    reasons.write_bytes(b"x" * (MAX_REASONS_BYTES + 10))

    refused(petition.slug, "--out", tmp_path / "d.pdf", "--reasons", reasons, match="too large")


def test_it_refuses_a_language_the_petition_lacks(db, tmp_path):
    from tests.conftest import make_petition

    petition = make_petition(make_org().organization)  # English and Dari
    services.record_confirmed_signature(petition, signer(1))

    refused(petition.slug, "--out", tmp_path / "d.pdf", "--language", "ps", match="not written")


def test_a_crash_while_writing_leaves_nothing_behind(petition, tmp_path, monkeypatch):
    from hamseda.petitions.management.commands import deliver as command

    def broken(temporary, out):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(command, "publish", broken)
    out = tmp_path / "d.pdf"

    refused(petition.slug, "--out", out, match="No space left")
    assert not out.exists()
    assert leftovers(tmp_path) == []
