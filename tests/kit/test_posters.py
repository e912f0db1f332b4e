"""Posters (kit.posters): one page per language, the right paper, real text, a QR code
that scans back to the petition, bundled fonts, and no network."""

import io
import os
import re
import subprocess
import unicodedata
from pathlib import Path

import pypdf
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from hamseda.kit import posters
from hamseda.kit.design import Content, Design
from hamseda.kit.posters import LocalOnlyFetcher, PosterError, poster_pdf, posters_pdf

URL = "https://hamseda.example.org/p/ban-taliban-accounts/?s=qr"
ENGLISH_TITLE = "Ask the company to suspend the Taliban's accounts"
DARI_TITLE = "از شرکت بخواهید حساب‌های طالبان را مسدود کند"
PASHTO_TITLE = "له شرکت وغواړئ چې د طالبانو حسابونه بند کړي"


def content(language="en", title=ENGLISH_TITLE, **changes) -> Content:
    values = {
        "language": language,
        "title": title,
        "hashtags": ("#BanTaliban",),
        "count": 41800,
        "count_is_exact": False,
        "url": URL,
        "campaign_name": "Free Afghanistan coalition",
        "call_to_action": "",
    }
    return Content(**{**values, **changes})


def logo_png() -> bytes:
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((20, 20, 280, 280), fill=(242, 193, 78, 255))
    draw.ellipse((90, 90, 210, 210), fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    return buffer.getvalue()


DESIGN = Design(colour="#1f6f5c", accent="#f2c14e", logo=logo_png())
ENGLISH = content()
DARI = content("fa", DARI_TITLE, campaign_name="ائتلاف افغانستان آزاد")
PASHTO = content("ps", PASHTO_TITLE, campaign_name="")


@pytest.fixture(scope="module")
def a4_dari() -> bytes:
    return poster_pdf(DARI, DESIGN, "A4")


@pytest.fixture(scope="module")
def a4_english() -> bytes:
    return poster_pdf(ENGLISH, DESIGN, "A4")


def pages(pdf: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def page_size(page) -> tuple[float, float]:
    return float(page.mediabox.width), float(page.mediabox.height)


def words(text: str) -> set[str]:
    """Words compared across extraction: NFKC folds Arabic presentation forms back to
    letters, and the zero-width non-joiner (حساب‌های) and bidi marks are dropped,
    since PDF text extraction does not keep them."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub("[\u200c\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    return set(text.split())


def rasterise(pdf: bytes, folder: Path, name: str, dpi: int = 100) -> list[Image.Image]:
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(folder / name)], check=True)
    return [Image.open(p) for p in sorted(folder.glob(f"{name}-*.png"))]


# --- Pages and paper ---------------------------------------------------------------------


def test_a_poster_is_one_a4_page(a4_english):
    (page,) = pages(a4_english)

    width, height = page_size(page)
    assert width == pytest.approx(595, abs=1)
    assert height == pytest.approx(842, abs=1)


def test_an_a3_poster_is_one_a3_page():
    (page,) = pages(poster_pdf(DARI, DESIGN, "A3"))

    width, height = page_size(page)
    assert width == pytest.approx(842, abs=1)
    assert height == pytest.approx(1191, abs=1)


def test_several_languages_make_one_page_each_in_order():
    pdf = posters_pdf([ENGLISH, DARI, PASHTO], DESIGN, "A3")

    found = pages(pdf)
    assert len(found) == 3
    assert all(page_size(p) == pytest.approx((842, 1191), abs=1) for p in found)
    assert words(ENGLISH_TITLE) <= words(found[0].extract_text())
    assert words(DARI_TITLE) <= words(found[1].extract_text())
    assert words(PASHTO_TITLE) <= words(found[2].extract_text())


@pytest.mark.parametrize(
    "title",
    [
        "Suspend " + "A" * 300,  # One word wider than the page.
        " ".join([DARI_TITLE] * 30),  # 1,300 characters of Dari.
        "Stop " * 1500,  # 7,500 characters.
    ],
    ids=["long word", "long dari", "absurd"],
)
def test_a_very_long_title_still_makes_one_page(title):
    language = "fa" if "طالبان" in title else "en"

    assert len(pages(poster_pdf(content(language, title), DESIGN, "A4"))) == 1


def test_a_long_title_is_set_smaller_than_a_short_one():
    short = posters._poster_context(ENGLISH, DESIGN, posters.PAPERS["A4"], None)
    long = posters._poster_context(
        content(title=" ".join([ENGLISH_TITLE] * 4)), DESIGN, posters.PAPERS["A4"], None
    )

    assert long["title_pt"] < short["title_pt"] <= posters.TITLE_MAX_PT


def test_the_whole_long_title_is_printed_when_it_fits_at_the_smallest_size():
    title = " ".join([DARI_TITLE] * 8)

    (page,) = pages(poster_pdf(content("fa", title), DESIGN, "A4"))

    assert words(title) <= words(page.extract_text())


def test_an_unknown_paper_or_no_language_is_refused():
    with pytest.raises(PosterError):
        poster_pdf(ENGLISH, DESIGN, "Letter")
    with pytest.raises(PosterError):
        posters_pdf([], DESIGN, "A4")


# --- Text --------------------------------------------------------------------------------


def test_the_english_text_is_extractable(a4_english):
    (page,) = pages(a4_english)
    text = page.extract_text()

    assert words(ENGLISH_TITLE) <= words(text)
    assert "#BanTaliban" in text
    assert "More than 41,800 people have signed" in " ".join(text.split())
    assert "Sign the petition" in " ".join(text.split())
    assert "hamseda.example.org/p/ban-taliban-accounts/?s=qr" in text


def test_the_dari_text_is_extractable_as_letters_not_shapes(a4_dari):
    """pypdf gives the Dari words back in logical order; NFKC would also fold
    presentation forms, had the extraction produced them. The title's words, the
    Latin hashtag, the digits and the campaign name are all found."""
    (page,) = pages(a4_dari)
    text = page.extract_text()

    assert words(DARI_TITLE) <= words(text)
    assert words("ائتلاف افغانستان آزاد") <= words(text)
    assert "#BanTaliban" in text
    assert "41,800" in text


def test_eastern_digits_are_printed_when_the_campaign_asks():
    pdf = poster_pdf(DARI, Design(eastern_digits=True), "A4")

    text = unicodedata.normalize("NFKC", pages(pdf)[0].extract_text())
    # Inside a Dari sentence the extractor gives the number in visual order, reversed.
    assert any(form in text for form in ("۴۱٬۸۰۰", "۴۱,۸۰۰", "۰۰۸٬۱۴", "۰۰۸,۱۴"))
    assert "41,800" not in text


def test_the_pashto_title_is_extractable():
    (page,) = pages(poster_pdf(PASHTO, DESIGN, "A4"))

    assert words(PASHTO_TITLE) <= words(page.extract_text())


def test_the_pdf_declares_its_language(a4_dari, a4_english):
    for pdf, language in ((a4_dari, "fa"), (a4_english, "en")):
        root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
        assert root["/Lang"] == language


def test_the_bundled_fonts_are_embedded(a4_dari):
    reader = pypdf.PdfReader(io.BytesIO(a4_dari))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for font in reader.pages[0]["/Resources"]["/Font"].values()
    }

    assert fonts
    assert all("Vazirmatn" in name for name in fonts), fonts


def test_a_latin_hashtag_is_laid_out_left_to_right_on_a_dari_poster():
    context = posters._poster_context(DARI, DESIGN, posters.PAPERS["A4"], None)

    assert context["direction"] == "rtl"
    assert context["hashtags"] == [("#BanTaliban", "ltr")]
    html = poster_html(DARI)
    assert '<html lang="fa" dir="rtl">' in html
    assert '<span class="hashtag" dir="ltr">#BanTaliban</span>' in html


def poster_html(poster_content: Content) -> str:
    from django.template.loader import render_to_string
    from django.utils import translation

    context = posters._poster_context(poster_content, DESIGN, posters.PAPERS["A4"], None)
    with translation.override(poster_content.language):
        return render_to_string("kit/poster.html", context)


def test_the_title_is_escaped():
    html = poster_html(content(title="<img src='http://evil.example/x.png'> & more"))

    assert "<img src='http" not in html
    assert "&lt;img" in html


# --- The QR code -------------------------------------------------------------------------


def test_the_qr_code_scans_back_to_the_petition_and_is_big(tmp_path, a4_english, a4_dari):
    for pdf, name, qr_on_the_left in ((a4_english, "en", True), (a4_dari, "fa", False)):
        (image,) = rasterise(pdf, tmp_path, name)

        codes = zxingcpp.read_barcodes(image)
        assert [code.text for code in codes] == [URL]
        position = codes[0].position
        xs = [position.top_left.x, position.top_right.x, position.bottom_left.x]
        # The symbol alone (without its quiet zone) spans over 38 % of the page's width,
        # so the printed code with its margin is about half of it.
        assert (max(xs) - min(xs)) / image.width > 0.38
        # Mirrored in right to left: the words come first, on the right.
        assert (max(xs) < image.width / 2) is qr_on_the_left


def test_the_a4_dari_poster_is_saved_for_review(tmp_path, a4_dari):
    """Saves the Dari A4 poster as a PNG, for a person to look at."""
    folder = Path(os.environ.get("HAMSEDA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    (image,) = rasterise(a4_dari, folder, "kit-poster-a4-fa", dpi=72)

    assert image.width == pytest.approx(595, abs=1)
    assert image.height == pytest.approx(842, abs=1)


# --- Nothing from the network ------------------------------------------------------------


def test_rendering_fetches_only_embedded_data_and_the_bundled_fonts(monkeypatch):
    fetched = []
    original = LocalOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(LocalOnlyFetcher, "fetch", spy)

    poster_pdf(DARI, DESIGN, "A4")

    fonts = posters.FONTS_DIR.as_uri()
    assert fetched
    assert all(url.startswith("data:") or url.startswith(fonts + "/") for url in fetched)
    assert any(url.endswith("Vazirmatn-Bold.ttf") for url in fetched)
    assert any(url.startswith("data:image/png") for url in fetched)  # The logo.


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/logo.png",
        "https://fonts.example.com/font.ttf",
        "ftp://example.org/x",
        "file:///etc/passwd",
        posters.FONTS_DIR.as_uri() + "/../posters.py",
        posters.FONTS_DIR.as_uri() + "/Vazirmatn-OFL.txt",
    ],
)
def test_the_fetcher_refuses_anything_else(url):
    fetcher = LocalOnlyFetcher()

    with pytest.raises(ValueError, match="embedded"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_a_bundled_font():
    response = LocalOnlyFetcher().fetch(posters.BOLD_FONT.as_uri())

    assert response.read()[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO")


def test_a_logo_that_is_not_an_image_is_left_out():
    pdf = poster_pdf(ENGLISH, Design(logo=b"<svg onload='alert(1)'/>"), "A4")

    assert len(pages(pdf)) == 1
