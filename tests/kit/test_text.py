"""Text on kit images (kit.text): coverage, bidi, shaping, wrapping and fitting."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from hamseda.kit import text
from hamseda.kit.text import ELLIPSIS, Box, Style, fit_text, place

DARI = "از شرکت بخواهید حساب‌های طالبان را مسدود کند"
PASHTO = "له شرکت وغواړئ چې د طالبانو حسابونه بند کړي"
ENGLISH = "Ask the company to suspend the Taliban's accounts"


def _inside(fitted, width, height):
    return fitted.width <= width and fitted.height <= height


def test_the_bundled_fonts_cover_every_dari_and_pashto_letter_and_both_digit_sets():
    for path in (text.REGULAR, text.BOLD):
        covered = text.covered_characters(path)
        for char in "ځډړږښګڼۍېپچژگکیabcXYZ0123456789۰۱۲۳۴۵۶۷۸۹٬…#":
            assert ord(char) in covered, char
        assert ord("😀") not in covered


def test_fonts_are_loaded_once_per_size():
    assert text.load_font(text.BOLD, 40) is text.load_font(text.BOLD, 40)
    assert text.load_font(text.BOLD, 40) is not text.load_font(text.BOLD, 41)
    assert text.load_font(text.BOLD, 40).layout_engine == ImageFont.Layout.RAQM


def test_clean_drops_what_the_font_cannot_draw_and_keeps_joiners():
    assert text.clean("Free 😀 Afghanistan 🇦🇫") == "Free Afghanistan"
    assert text.clean("حساب\u200cهای") == "حساب\u200cهای"  # The ZWNJ stays.
    assert text.clean("  two\n\tlines \x00here ") == "two lines here"
    assert text.clean("keep\u00a0together") == "keep\u00a0together"
    assert text.clean("😀😀😀") == ""


@pytest.mark.parametrize(
    ("sample", "language", "direction"),
    [
        (DARI, "fa", "rtl"),
        (PASHTO, "ps", "rtl"),
        (ENGLISH, "en", "ltr"),
        # A Dari sentence that starts with a Latin word stays right to left.
        ("Twitter باید حساب‌ها را مسدود کند", "fa", "rtl"),
        # An English phrase not yet translated, on a Dari image, reads left to right.
        ("۴۱٬۸۰۰ people have signed", "fa", "ltr"),
        # Hashtags alone take the image's direction.
        ("#BanTaliban #FreeAfghanistan", "fa", "rtl"),
        ("#BanTaliban", "en", "ltr"),
        ("از شرکت بخواهید", "en", "rtl"),
    ],
)
def test_direction_of_a_text(sample, language, direction):
    assert text.direction_of(sample, language) == direction


def test_arabic_letters_are_joined_by_the_shaping_engine():
    """Joined letters take less room than the same letters kept apart by ZWNJ (which
    forbids joining): proof that HarfBuzz shaped them."""
    style = Style(bold=True, language="fa", direction="rtl")
    joined = style.length("طالبان مسدود", 60)
    apart = style.length("\u200c".join("طالبان") + " " + "\u200c".join("مسدود"), 60)
    assert joined < apart * 0.9


def _drawn(string, direction, language):
    font = text.load_font(text.BOLD, 48)
    image = Image.new("L", (600, 80), 0)
    ImageDraw.Draw(image).text(
        (580, 60),
        string,
        font=font,
        fill=255,
        anchor="rs",
        direction=direction,
        language=language,
    )
    return image.crop(image.getbbox())


def test_a_hashtag_in_a_right_to_left_line_keeps_its_hash_in_front():
    expected = _drawn("#BanTaliban", "ltr", "en")
    # Plain bidi would flip it to "BanTaliban#"; the isolate keeps it whole.
    assert _drawn("#BanTaliban", "rtl", "fa").tobytes() != expected.tobytes()
    assert _drawn(text.bidi_form("#BanTaliban"), "rtl", "fa").tobytes() == expected.tobytes()


def test_a_short_title_is_set_large_and_a_long_one_smaller():
    short = fit_text("Free them", 900, 400, language="en", bold=True, max_size=110, min_size=30)
    long = fit_text(ENGLISH * 2, 900, 400, language="en", bold=True, max_size=110, min_size=30)
    assert short.size == 110
    assert 30 <= long.size < 110
    for fitted in (short, long):
        assert _inside(fitted, 900, 400)
        assert not fitted.truncated


@pytest.mark.parametrize("sample", [DARI, PASHTO, ENGLISH])
def test_lines_are_balanced(sample):
    fitted = fit_text(sample, 700, 600, language="fa", bold=True, max_size=90, min_size=20)
    assert len(fitted.lines) >= 2
    # No line is less than half as long as the longest (no word alone at the end).
    assert min(fitted.widths) > max(fitted.widths) / 2
    assert " ".join(fitted.lines) == text.clean(sample)


@pytest.mark.parametrize(
    ("sample", "language"),
    [
        ("word " * 400, "en"),
        ((DARI + " ") * 45, "fa"),  # About 2,000 characters.
        ((PASHTO + " ") * 45, "ps"),
        ("x" * 300, "en"),  # One 300-character word.
        ("ب" * 300, "fa"),
    ],
)
def test_text_that_cannot_fit_is_cut_with_an_ellipsis_and_never_overflows(sample, language):
    fitted = fit_text(sample, 500, 200, language=language, bold=True, max_size=80, min_size=24)
    assert fitted.lines
    assert fitted.truncated
    assert fitted.size == 24
    assert fitted.lines[-1].endswith(ELLIPSIS)
    assert _inside(fitted, 500, 200)


def test_a_long_word_is_broken_over_lines_when_there_is_room():
    fitted = fit_text("x" * 60, 300, 600, language="en", max_size=60, min_size=20)
    assert "".join(fitted.lines) == "x" * 60
    assert len(fitted.lines) > 1
    assert _inside(fitted, 300, 600)


def test_text_of_nothing_drawable_gives_no_lines():
    assert fit_text("😀 🇦🇫", 500, 200, language="en", max_size=60, min_size=20).lines == ()
    assert fit_text("", 500, 200, language="fa", max_size=60, min_size=20).lines == ()


def test_a_box_too_small_for_one_line_gets_nothing_rather_than_an_overflow():
    fitted = fit_text(ENGLISH, 40, 10, language="en", max_size=60, min_size=20)
    assert fitted.lines == ()


def test_max_lines_is_respected():
    fitted = fit_text(ENGLISH * 3, 600, 900, language="en", max_size=60, min_size=20, max_lines=1)
    assert len(fitted.lines) == 1
    assert fitted.lines[0].endswith(ELLIPSIS)


@pytest.mark.parametrize("align", ["left", "right", "center"])
def test_placed_lines_keep_their_ink_inside_the_box(align):
    box = Box(100, 50, 700, 450)
    for sample, language in ((DARI, "fa"), (PASHTO, "ps"), (ENGLISH, "en")):
        fitted = fit_text(
            sample, box.width, box.height, language=language, bold=True, max_size=120, min_size=20
        )
        block = place("title", fitted, box, align=align, valign="middle")
        assert block.lines
        for line in block.lines:
            assert box.contains(line.ink), (sample, line)


_ALPHABET = st.sampled_from(
    list("abcXYZ  019#@.,-")
    + list("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیځډړږښګڼۍې")
    + list("۰۱۲۳۴۵۶۷۸۹ \u200c\u200d\u00a0")
    + ["😀", "中", "\n", "ـ", "\u064b", "é"]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.text(alphabet=_ALPHABET, max_size=400),
    width=st.integers(min_value=20, max_value=1200),
    height=st.integers(min_value=10, max_value=700),
    language=st.sampled_from(["en", "fa", "ps"]),
    bold=st.booleans(),
    min_size=st.integers(min_value=12, max_value=40),
    extra=st.integers(min_value=0, max_value=80),
    max_lines=st.sampled_from([None, 1, 2, 3]),
)
def test_fitted_text_never_overflows_its_box(
    sample, width, height, language, bold, min_size, extra, max_lines
):
    fitted = fit_text(
        sample,
        width,
        height,
        language=language,
        bold=bold,
        max_size=min_size + extra,
        min_size=min_size,
        max_lines=max_lines,
    )
    assert fitted.width <= width
    assert fitted.height <= height
    if max_lines is not None:
        assert len(fitted.lines) <= max_lines
    if fitted.lines:
        assert min_size <= fitted.size <= min_size + extra
        box = Box(0, 0, width, height)
        block = place("t", fitted, box, align="right" if language != "en" else "left")
        for line in block.lines:
            assert box.contains(line.ink)


@pytest.mark.parametrize(("sample", "language"), [(DARI, "fa"), (PASHTO, "ps"), (ENGLISH, "en")])
def test_the_recorded_ink_is_where_the_pixels_are_drawn(sample, language):
    box = Box(40, 30, 560, 330)
    fitted = fit_text(
        sample + " #BanTaliban",
        box.width,
        box.height,
        language=language,
        bold=True,
        max_size=90,
        min_size=20,
    )
    block = place("title", fitted, box, align="right" if language != "en" else "left")
    image = Image.new("L", (600, 360), 0)
    text.draw_block(ImageDraw.Draw(image), block, fill=255)
    x0, y0, x1, y1 = image.getbbox()
    assert block.ink.contains(Box(x0, y0, x1, y1))
    assert box.contains(Box(x0, y0, x1, y1))
