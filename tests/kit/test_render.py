"""Share images (kit.render, kit.layouts): sizes, boxes, QR codes, directions, colours,
and bad uploads. Screenshots for review go to $HAMSEDA_SCREENSHOTS (else tmp_path)."""

import io
import itertools
import logging
import os
from pathlib import Path

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from hamseda.kit import layouts, render
from hamseda.kit.design import LAYOUTS, SIZES, Content, Design
from hamseda.kit.layouts import MIN_CONTRAST, contrast, palette
from hamseda.kit.text import ELLIPSIS, Box

URL = "https://hamseda.example.org/p/ban-taliban-accounts/?s=kit.q7Xk2"
TITLES = {
    "en": "Ask the company to suspend the Taliban's accounts",
    "fa": "از شرکت بخواهید حساب‌های طالبان را مسدود کند",
    "ps": "له شرکت وغواړئ چې د طالبانو حسابونه بند کړي",
}
ACTIONS = {"en": "Sign the petition", "fa": "دادخواست را امضا کنید", "ps": "غوښتنلیک لاسلیک کړئ"}
NAMES = {"en": "Afghan Voices", "fa": "صدای افغان", "ps": "د افغان غږ"}


def content(language="en", title=None, **changes) -> Content:
    values = {
        "language": language,
        "title": TITLES[language] if title is None else title,
        "hashtags": ("#BanTaliban",),
        "count": 41872,
        "count_is_exact": True,
        "url": URL,
        "campaign_name": NAMES[language],
        "call_to_action": ACTIONS[language],
    }
    values.update(changes)
    return Content(**values)


def encoded(image: Image.Image, kind="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def ring_logo(colour=(242, 193, 78, 255)) -> bytes:
    """A ring with a transparent hole and transparent margins."""
    logo = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((60, 10, 240, 190), fill=colour)
    draw.ellipse((110, 60, 190, 140), fill=(0, 0, 0, 0))
    return encoded(logo)


def photo(size=(1600, 1000), mode="RGB", kind="JPEG", **options) -> bytes:
    """A photo-like background: a bright gradient with some texture."""
    base = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 40)
    image = Image.merge("RGB", (base, noise, Image.new("L", size, 230)))
    if mode != "RGB":
        image = image.convert(mode)
    return encoded(image, kind, **options)


@pytest.fixture(autouse=True)
def _fresh_caches():
    render.clear_caches()
    yield
    render.clear_caches()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("HAMSEDA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def all_boxes_hold(plan) -> None:
    """Every text's ink is inside its box, every box inside the image, and nothing
    overlaps: texts, logo, QR code and button."""
    image = Box(0, 0, plan.size.width, plan.size.height)
    for block in plan.blocks.values():
        assert image.contains(block.box), block.name
        for line in block.lines:
            assert block.box.contains(line.ink), (block.name, line)
    for box in (plan.qr, plan.logo, plan.button):
        if box is not None:
            assert image.contains(box)
    # The button's label lies on the button; everything else stands apart.
    if "button" in plan.blocks:
        assert plan.button.contains(plan.blocks["button"].ink)
    solids = {
        name: block.ink for name, block in plan.blocks.items() if block.ink and name != "button"
    }
    solids.update(qr=plan.qr, logo=plan.logo, button=plan.button)
    for (a, box_a), (b, box_b) in itertools.combinations(solids.items(), 2):
        if box_a is None or box_b is None:
            continue
        apart = (
            box_a.x1 <= box_b.x0
            or box_b.x1 <= box_a.x0
            or box_a.y1 <= box_b.y0
            or box_b.y1 <= box_a.y0
        )
        assert apart, (a, box_a, b, box_b)


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
@pytest.mark.parametrize("size_name", list(SIZES))
def test_every_size_and_layout_has_its_exact_dimensions(size_name, layout_name):
    design = Design(layout=layout_name, logo=ring_logo(), background=photo())
    image = render.render(size_name, content("fa"), design)
    size = SIZES[size_name]
    assert image.size == (size.width, size.height)
    assert image.mode == "RGB"
    png = render.render_png(size_name, content("en"), design)
    assert png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png)).size == (size.width, size.height)


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
@pytest.mark.parametrize("size_name", list(SIZES))
def test_the_qr_code_decodes_to_the_petition_address(size_name, layout_name):
    design = Design(layout=layout_name, logo=ring_logo(), background=photo())
    for language in ("en", "fa"):
        image = render.render(size_name, content(language), design)
        found = [code.text for code in zxingcpp.read_barcodes(image)]
        assert found == [URL], (size_name, language)
    plan = render.layout(size_name, content("en"), design)
    # Big enough to scan from a phone screen: 180 px on the 1080-wide images.
    minimum = 180 if SIZES[size_name].width == 1080 else 160
    assert plan.qr.width >= minimum


@pytest.mark.parametrize("language", ["en", "fa", "ps"])
@pytest.mark.parametrize("size_name", list(SIZES))
def test_long_titles_stay_inside_their_box_and_the_image(size_name, language):
    design = Design(logo=ring_logo())
    long_title = " ".join([TITLES[language]] * 45)  # About 2,000 characters.
    for title in (TITLES[language], long_title, "W" * 300, TITLES[language] + " " + "😀" * 5):
        plan = render.layout(size_name, content(language, title=title), design)
        assert plan.blocks["title"].lines
        all_boxes_hold(plan)
    assert plan.blocks["title"].fitted.truncated is False
    truncated = render.layout(size_name, content(language, title=long_title), design)
    assert truncated.blocks["title"].lines[-1].text.endswith(ELLIPSIS)


@pytest.mark.parametrize("layout_name", list(LAYOUTS))
def test_every_layout_keeps_its_elements_apart(layout_name):
    design = Design(layout=layout_name, logo=ring_logo(), background=photo())
    for size_name, language in itertools.product(SIZES, ("en", "fa", "ps")):
        all_boxes_hold(render.layout(size_name, content(language), design))


@pytest.mark.parametrize("size_name", list(SIZES))
def test_right_to_left_images_are_mirrored(size_name):
    design = Design(logo=ring_logo())
    english = render.layout(size_name, content("en"), design)
    dari = render.layout(size_name, content("fa"), design)
    width = SIZES[size_name].width
    assert not english.rtl
    assert dari.rtl
    assert english.qr == dari.qr.mirrored(width)
    assert english.logo == dari.logo.mirrored(width)
    assert english.qr.x0 > width / 2 > dari.qr.x1
    title = dari.blocks["title"]
    # Right-aligned: every line ends at the box's right edge (its ink within a few px).
    for line in title.lines:
        assert line.anchor == "rs"
        assert title.box.x1 - line.ink.x1 < 12
    for line in english.blocks["title"].lines:
        assert line.anchor == "ls"
    assert dari.blocks["title"].fitted.style.direction == "rtl"


def test_eastern_digits_appear_on_dari_and_pashto_images_only_when_chosen():
    eastern = Design(eastern_digits=True)
    latin = Design(eastern_digits=False)

    def count(language, design):
        plan = render.layout("square", content(language), design)
        return " ".join(line.text for line in plan.blocks["count"].lines)

    assert "۴۱٬۸۷۲" in count("fa", eastern)
    assert "۴۱٬۸۷۲" in count("ps", eastern)
    assert "41,872" in count("en", eastern)
    assert "41,872" in count("fa", latin)


def test_empty_hashtags_leave_no_hashtag_block():
    for hashtags in ((), ("",), ("#",), ("  ",)):
        plan = render.layout("square", content("en", hashtags=hashtags), Design())
        assert "hashtags" not in plan.blocks
        all_boxes_hold(plan)
    plan = render.layout("square", content("fa", hashtags=("#BanTaliban", "#طالبان")), Design())
    assert plan.blocks["hashtags"].lines


def test_a_title_of_only_emoji_falls_back_to_the_campaign_name():
    plan = render.layout("card", content("en", title="😀🙏🇦🇫"), Design())
    assert [line.text for line in plan.blocks["title"].lines] == ["Afghan Voices"]
    render.render_png("card", content("en", title="😀🙏🇦🇫", campaign_name=""), Design())


def test_mixed_scripts_in_one_title_render():
    title = "Ask X: از شرکت بخواهید #BanTaliban ۴۱٬۸۷۲ — 41,872 حساب‌ها"
    for language in ("en", "fa", "ps"):
        plan = render.layout("portrait", content(language, title=title), Design())
        all_boxes_hold(plan)
        render.render("portrait", content(language, title=title), Design())


def test_the_logo_keeps_its_transparency():
    design = Design(colour="#1f6f5c", logo=ring_logo())
    plan = render.layout("square", content("en"), design)
    image = render.render("square", content("en"), design)
    logo = plan.logo
    # The ring's hole, in the middle of the logo, shows the background colour.
    middle = ((logo.x0 + logo.x1) // 2, (logo.y0 + logo.y1) // 2)
    assert image.getpixel(middle) == (31, 111, 92)
    # And the ring itself is drawn, in its own colour.
    ring = (logo.x0 + logo.width // 10, (logo.y0 + logo.y1) // 2)
    assert contrast(image.getpixel(ring), (242, 193, 78)) < 1.1
    # Transparent margins are trimmed: the ring fills the logo's height.
    assert abs(logo.width - logo.height) <= 2


def test_a_dark_transparent_logo_on_a_dark_colour_gets_a_plate():
    design = Design(colour="#102030", logo=ring_logo(colour=(20, 30, 40, 255)))
    plan = render.layout("square", content("en"), design)
    image = render.render("square", content("en"), design)
    middle = ((plan.logo.x0 + plan.logo.x1) // 2, (plan.logo.y0 + plan.logo.y1) // 2)
    assert contrast(image.getpixel(middle), (16, 32, 48)) > 4


@pytest.mark.parametrize(
    "data",
    [
        b"not an image at all",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,  # A PNG signature and nothing else.
        photo()[:2000],  # A truncated JPEG.
        encoded(Image.new("1", (10000, 6000))),  # 60 megapixels: too large.
        encoded(Image.new("1", (12000, 12000))),  # Past Pillow's bomb limit.
    ],
    ids=["text", "png-signature", "truncated-jpeg", "huge", "bomb"],
)
def test_unusable_uploads_are_treated_as_absent(data, caplog):
    design = Design(layout="photo", logo=data, background=data)
    with caplog.at_level(logging.WARNING, logger="hamseda.kit.render"):
        image = render.render("square", content("fa"), design)
    assert image.size == (1080, 1080)
    decoded = render.assets(design)
    assert decoded.logo is None
    assert decoded.photo is None
    assert render.layout("square", content("fa"), design).logo is None
    messages = [record.getMessage() for record in caplog.records]
    assert any("logo ignored" in m for m in messages)
    assert any("background ignored" in m for m in messages)
    assert all(len(m) < 200 for m in messages)  # A reason, never the data.


@pytest.mark.parametrize(
    "data",
    [
        photo(mode="CMYK"),
        photo(mode="P", kind="PNG"),
        photo(mode="L", kind="PNG"),
        photo(mode="RGBA", kind="PNG"),
        photo(mode="LA", kind="PNG"),
        photo(kind="GIF"),
        photo(kind="WEBP"),
    ],
    ids=["cmyk-jpeg", "palette-png", "grey-png", "rgba-png", "la-png", "gif", "webp"],
)
def test_backgrounds_in_any_mode_are_used(data):
    design = Design(layout="photo", background=data)
    assert render.assets(design).photo.mode == "RGB"
    assert render.layout("story", content("en"), design).palette.photo_tint > 0
    render.render("story", content("en"), design)


def test_a_background_is_turned_upright_by_its_exif_orientation():
    image = Image.new("RGB", (800, 400), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # "Rotate 90° clockwise to display."
    design = Design(layout="photo", background=encoded(image, "JPEG", exif=exif))
    assert render.assets(design).photo.size == (400, 800)


def test_uploads_are_decoded_once_per_design():
    background = photo()  # Its texture is random: the same bytes for both designs.
    design = Design(logo=ring_logo(), background=background)
    same = Design(logo=ring_logo(), background=bytes(background))
    assert render.assets(design) is render.assets(same)
    first = render.render("card", content("en"), design)
    second = render.render("card", content("en"), design)
    assert first.tobytes() == second.tobytes()


def test_the_photo_is_darkened_enough_for_white_text_even_where_it_is_white():
    white = encoded(Image.new("RGB", (1200, 1200), "white"), "PNG")
    design = Design(layout="photo", background=white, colour="#f2f2f2")
    for size_name in SIZES:
        image = render.render(size_name, content("en", title="", campaign_name=""), design)
        # The top corner of the start side is where the photo is darkened least.
        for point in ((2, 2), (image.width - 3, 2)):
            assert contrast((255, 255, 255), image.getpixel(point)) >= MIN_CONTRAST


colours = st.tuples(*[st.integers(0, 255)] * 3).map(lambda c: "#{:02x}{:02x}{:02x}".format(*c))


@settings(max_examples=150, deadline=None)
@given(
    colour=colours,
    accent=colours,
    layout_name=st.sampled_from(list(LAYOUTS)),
    has_photo=st.booleans(),
)
def test_every_text_colour_contrasts_with_what_it_sits_on(colour, accent, layout_name, has_photo):
    design = Design(colour=colour, accent=accent, layout=layout_name)
    colours_ = palette(design, layout_name, has_photo=has_photo)
    for text_colour in (colours_.text, colours_.kicker, colours_.hashtag):
        for surface in colours_.surfaces:
            assert contrast(text_colour, surface) >= MIN_CONTRAST
    assert contrast(colours_.button_text, colours_.button) >= MIN_CONTRAST
    if colours_.band is not None:
        assert contrast(colours_.band_text, colours_.band) >= MIN_CONTRAST
        assert contrast(colours_.band_button_text, colours_.band_button) >= MIN_CONTRAST
    assert contrast(colours_.qr_dark, (255, 255, 255)) >= layouts.QR_CONTRAST


def test_a_bad_colour_or_layout_falls_back_to_the_defaults():
    design = Design(colour="red", accent="#12", layout="fancy")
    plan = render.layout("square", content("en"), design)
    assert plan.layout == "bold"
    render.render("square", content("en"), design)


def test_screenshots_of_the_dari_square_and_the_english_card(screenshots):
    design = Design(logo=ring_logo(), background=photo(), eastern_digits=True)
    for layout_name in LAYOUTS:
        styled = Design(**{**design.__dict__, "layout": layout_name})
        (screenshots / f"kit-square-fa-{layout_name}.png").write_bytes(
            render.render_png("square", content("fa", count=41800, count_is_exact=False), styled)
        )
        (screenshots / f"kit-card-en-{layout_name}.png").write_bytes(
            render.render_png("card", content("en"), styled)
        )
    (screenshots / "kit-story-ps-bold.png").write_bytes(
        render.render_png("story", content("ps"), design)
    )
    assert len(list(screenshots.glob("kit-*.png"))) == 7
