"""`hamseda kit build PETITION --out ZIP [--languages …]`."""

import io
import zipfile

import pytest

from hamseda import cli
from hamseda.kit.design import SIZES

pytestmark = pytest.mark.django_db


def run(*argv) -> int:
    """The command as the `hamseda` script runs it; its exit code."""
    try:
        cli.main(list(argv))
    except SystemExit as exit_:
        return exit_.code or 0
    return 0


def test_it_writes_the_kit(petition, tmp_path, capsys):
    out = tmp_path / "kit.zip"
    assert run("kit", "build", petition.slug, "--out", str(out)) == 0
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert f"{petition.slug}-kit/README.txt" in names
    assert f"{petition.slug}-kit/fa/story-1080x1920.png" in names
    assert len(names) == 1 + 2 * (len(SIZES) + 2)  # README, then en and fa.
    assert str(out) in capsys.readouterr().out


def test_it_makes_the_languages_asked_for(petition, tmp_path, capsys):
    out = tmp_path / "kit.zip"
    assert run("kit", "build", petition.slug, "--out", str(out), "--languages", "fa,ps") == 0
    with zipfile.ZipFile(out) as archive:
        folders = {name.split("/")[1] for name in archive.namelist() if name.count("/") == 2}
    assert folders == {"fa", "ps"}
    # No Pashto text: said on stderr, and the ps/ images use the main language.
    assert "no text in 'ps'" in capsys.readouterr().err


def test_it_refuses_to_overwrite_a_file(petition, tmp_path, capsys):
    out = tmp_path / "kit.zip"
    out.write_bytes(b"precious")
    assert run("kit", "build", petition.slug, "--out", str(out)) == 1
    assert out.read_bytes() == b"precious"
    assert "exists already" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-petition", "--out", "{dir}/kit.zip"], "No petition 'no-such-petition'"),
        (["{slug}", "--out", "{dir}/kit.zip", "--languages", "en,xx"], "Unknown language 'xx'"),
        (["{slug}", "--out", "{dir}/kit.zip", "--languages", ","], "names no language"),
        (["{slug}", "--out", "{dir}/missing/kit.zip"], "does not exist"),
    ],
)
def test_bad_input_is_a_clear_error_and_exit_code_1(petition, tmp_path, capsys, argv, message):
    argv = [a.format(dir=tmp_path, slug=petition.slug) for a in argv]
    assert run("kit", "build", *argv) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "kit.zip").exists()


def test_it_builds_the_kit_of_an_unpublished_petition(org, tmp_path):
    """Organisers may prepare the kit before the petition opens (the web kit is
    public petitions only)."""
    from tests.conftest import make_petition

    draft = make_petition(org.organization, "draft-one", open_=False)
    out = tmp_path / "kit.zip"
    assert run("kit", "build", draft.slug, "--out", str(out)) == 0
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        assert "draft-one-kit/en/card-1200x630.png" in archive.namelist()
