"""The kit as one zip: every size and both posters in every language, and a README."""

import io
import zipfile
from datetime import UTC, datetime

import pytest
from PIL import Image
from pypdf import PdfReader

from hamseda.kit import bundle
from hamseda.kit.design import SIZES
from tests.browser.pages import make_story_petition
from tests.conftest import make_petition

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)


def expected_names(slug: str, languages: list[str]) -> set[str]:
    names = {f"{slug}-kit/README.txt"}
    for language in languages:
        for name, spec in SIZES.items():
            names.add(f"{slug}-kit/{language}/{name}-{spec.width}x{spec.height}.png")
        for paper in ("a4", "a3"):
            names.add(f"{slug}-kit/{language}/poster-{paper}.pdf")
    return names


def check_contents(archive: zipfile.ZipFile, slug: str, languages: list[str]) -> None:
    assert set(archive.namelist()) == expected_names(slug, languages)
    assert archive.testzip() is None
    for name in archive.namelist():
        data = archive.read(name)
        if name.endswith(".png"):
            size = name.rsplit("/", 1)[1].split("-")[0]
            with Image.open(io.BytesIO(data)) as image:
                assert image.format == "PNG"
                assert image.size == (SIZES[size].width, SIZES[size].height), name
        elif name.endswith(".pdf"):
            reader = PdfReader(io.BytesIO(data))
            assert len(reader.pages) == 1, name
            width = round(float(reader.pages[0].mediabox.width))
            assert width == (595 if name.endswith("a4.pdf") else 842), name
            assert reader.pages[0].extract_text().strip(), name


def test_the_zip_holds_every_size_and_poster_in_every_language(db):
    from tests.conftest import make_org

    petition = make_story_petition(make_org().organization)  # English, Dari and Pashto.
    data = bundle.zip_bytes(petition, now=NOW)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        check_contents(archive, petition.slug, ["en", "fa", "ps"])
        info = archive.getinfo(f"{petition.slug}-kit/en/card-1200x630.png")
        assert info.date_time == (2026, 3, 8, 9, 30, 0)
        # Images and PDFs are compressed already: stored as they are.
        assert info.compress_type == zipfile.ZIP_STORED


def test_the_readme_says_what_each_file_is_for(petition):
    data = bundle.zip_bytes(petition, now=NOW)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        readme = archive.read(f"{petition.slug}-kit/README.txt").decode("utf-8")
    assert "2026-03-08 09:30" in readme
    assert "Suspend the accounts" in readme
    assert "حساب‌ها را مسدود کنید" in readme  # The Dari section's title.
    for name, spec in SIZES.items():
        assert f"{name}-{spec.width}x{spec.height}.png: {spec.label}" in readme
    assert "poster-a4.pdf" in readme
    assert "QR code" in readme
    assert f"/p/{petition.slug}/kit/" in readme
    assert "\r\n" in readme  # Readable in Windows' Notepad too.


def test_the_web_zip_is_the_kit_of_the_petitions_languages(client, petition):
    response = client.get(f"/p/{petition.slug}/kit.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{petition.slug}-kit.zip"'
    assert response["Content-Length"] == str(len(response.content))
    assert response["Cache-Control"] == "public, max-age=300"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        check_contents(archive, petition.slug, ["en", "fa"])  # It has no Pashto text.
    head = client.head(f"/p/{petition.slug}/kit.zip")
    assert head.status_code == 200
    assert head.content == b""


def test_the_zip_is_made_of_the_same_files_as_the_image_addresses(client, petition):
    card = client.get(f"/fa/p/{petition.slug}/kit/card.png").content
    poster = client.get(f"/p/{petition.slug}/poster-a3.pdf").content
    with zipfile.ZipFile(io.BytesIO(bundle.zip_bytes(petition))) as archive:
        assert archive.read(f"{petition.slug}-kit/fa/card-1200x630.png") == card
        assert archive.read(f"{petition.slug}-kit/en/poster-a3.pdf") == poster


def test_a_petition_without_campaign_still_has_a_kit(org):
    petition = make_petition(org.organization, "alone")
    petition.campaign = None
    petition.save()
    with zipfile.ZipFile(io.BytesIO(bundle.zip_bytes(petition))) as archive:
        check_contents(archive, "alone", ["en", "fa"])
