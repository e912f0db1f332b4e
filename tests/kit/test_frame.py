"""Profile-picture frames (kit.frame): good photos in every mode come out upright,
cropped as asked and without metadata; every bad upload is a FrameError."""

import io
import json
import logging
import os
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from hamseda.kit import frame
from hamseda.kit.design import Design
from hamseda.kit.frame import (
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    FrameError,
    frame_overlay_png,
    frame_photo,
    text_direction,
)

DESIGN = Design(colour="#1f6f5c", accent="#f2c14e")
DARI_HASHTAG = "#نه_به_طالبان"
RED, BLUE, GREEN, YELLOW = (220, 20, 20), (20, 40, 220), (20, 180, 40), (240, 220, 20)


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def quadrants(width: int = 400, height: int = 200) -> Image.Image:
    """Red, blue / green, yellow quadrants: a crop shows which part it took."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=RED)
    draw.rectangle((width // 2, 0, width - 1, height // 2 - 1), fill=BLUE)
    draw.rectangle((0, height // 2, width // 2 - 1, height - 1), fill=GREEN)
    draw.rectangle((width // 2, height // 2, width - 1, height - 1), fill=YELLOW)
    return image


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def centre(image: Image.Image):
    return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


# --- Good photos -------------------------------------------------------------------------


def test_it_frames_a_photo_as_a_square_png_of_the_asked_size():
    upload = encode(quadrants(), "JPEG", quality=92)

    for size in (1080, 400):
        image = open_png(frame_photo(upload, DESIGN, "#BanTaliban", "en", size=size))
        assert image.size == (size, size)
        assert image.mode == "RGB"


def test_it_takes_the_centred_square_without_a_crop():
    # 400×200: the centred square is x 100–300, the middle of which is where the four
    # quadrants meet; a quarter in from its top-left corner is red, from its top-right blue.
    image = open_png(frame_photo(encode(quadrants(), "PNG"), DESIGN, "", "en", size=200))

    assert near(image.getpixel((50, 60)), RED)
    assert near(image.getpixel((150, 60)), BLUE)


@pytest.mark.parametrize(
    ("crop", "colour"),
    [
        ((0.0, 0.0, 0.5), RED),  # Top-left 100×100.
        ((0.5, 0.0, 0.5), BLUE),  # x from 200: top-right.
        ((0.0, 0.5, 0.5), GREEN),  # y from 100: bottom-left.
        ((0.5, 0.5, 0.5), YELLOW),
        ((0.75, 0.5, 0.5), YELLOW),  # Touching the right and bottom edges exactly.
    ],
)
def test_it_honours_the_crop_fractions(crop, colour):
    upload = encode(quadrants(), "PNG")

    image = open_png(frame_photo(upload, DESIGN, "", "en", crop=crop, size=128))

    assert near(centre(image), colour)
    assert near(image.getpixel((30, 40)), colour)


def test_a_crop_overshooting_by_a_rounding_error_is_accepted():
    upload = encode(quadrants(), "PNG")

    image = open_png(frame_photo(upload, DESIGN, "", "en", crop=(0.7505, 0.5, 0.5), size=128))

    assert near(centre(image), YELLOW)


def test_it_turns_a_phone_photo_upright_from_its_exif_orientation():
    # Stored 400×300 with a red block in the stored top-left; orientation 6 means
    # "rotate 90° clockwise to show", which puts the block at the top right.
    stored = Image.new("RGB", (400, 300), (200, 200, 200))
    ImageDraw.Draw(stored).rectangle((0, 0, 199, 149), fill=RED)
    exif = Image.Exif()
    exif[0x0112] = 6
    upload = encode(stored, "JPEG", exif=exif, quality=95)

    image = open_png(frame_photo(upload, DESIGN, "", "en", size=256))

    # Upright it is 300×400; its centred square is y 50–350, with red at its top right.
    assert near(image.getpixel((192, 60)), RED)
    assert not near(image.getpixel((64, 60)), RED)
    assert not near(image.getpixel((192, 200)), RED)


def test_the_output_carries_no_exif_or_gps_from_the_upload():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (34.0, 31.0, 12.5), 3: "E", 4: (69.0, 10.0, 0.0)})
    upload = encode(quadrants(), "JPEG", exif=exif)
    assert Image.open(io.BytesIO(upload)).getexif().get_ifd(0x8825)  # The input has GPS.

    output = frame_photo(upload, DESIGN, "#BanTaliban", "en", size=256)

    image = open_png(output)
    assert not image.getexif()
    assert "exif" not in image.info
    assert b"eXIf" not in output
    assert b"Exif" not in output
    assert b"PhoneMaker" not in output


def test_a_50_megapixel_jpeg_is_framed_in_little_memory(tmp_path):
    """The photo is decoded at a reduced scale (JPEG draft): the process's peak memory
    grows by less than 60 MB, where decoding the whole photo grows it by over 300 MB."""
    photo = Image.new("RGB", (8660, 5774), BLUE)
    ImageDraw.Draw(photo).rectangle((0, 0, 4329, 5773), fill=RED)  # Left half red.
    path = tmp_path / "big.jpg"
    photo.save(path, "JPEG", quality=80)
    del photo
    script = """
import io, json, resource, sys, django
django.setup()
from PIL import Image
from hamseda.kit.design import Design
from hamseda.kit.frame import frame_overlay_png, frame_photo
data = open(sys.argv[1], "rb").read()
# The frame is drawn once and cached; draw it first, so only the photo is measured.
frame_overlay_png(Design(), "#BanTaliban", "en", 1080)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
png = frame_photo(data, Design(), "#BanTaliban", "en", crop=(0.25, 0.0, 1.0))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
image = Image.open(io.BytesIO(png))
print(json.dumps({"grown_kb": after - before, "size": image.size,
                  "left": image.getpixel((300, 400)), "right": image.getpixel((780, 400))}))
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).parents[2],
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["size"] == [1080, 1080]
    # The crop is x 25–91 % of the width: its left part red, its right part blue.
    assert near(report["left"], RED)
    assert near(report["right"], BLUE)
    assert report["grown_kb"] < 60 * 1024, f"framing grew the process by {report['grown_kb']} kB"


def test_the_first_frame_of_an_animated_gif_is_used():
    frames = [Image.new("RGB", (120, 120), RED), Image.new("RGB", (120, 120), BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)

    image = open_png(frame_photo(buffer.getvalue(), DESIGN, "", "en", size=128))

    assert near(centre(image), RED)


def test_a_cmyk_jpeg_keeps_its_colours():
    upload = encode(Image.new("RGB", (200, 200), BLUE).convert("CMYK"), "JPEG", quality=95)

    image = open_png(frame_photo(upload, DESIGN, "", "en", size=128))

    assert near(centre(image), BLUE)


def test_transparency_is_laid_on_white():
    photo = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(photo).rectangle((0, 0, 99, 199), fill=(*RED, 255))

    image = open_png(frame_photo(encode(photo, "PNG"), DESIGN, "", "en", size=200))

    assert near(image.getpixel((50, 60)), RED)
    assert near(image.getpixel((150, 60)), (255, 255, 255))


def test_a_palette_image_with_a_transparent_colour_is_laid_on_white():
    photo = Image.new("P", (100, 100), 0)
    photo.putpalette([0, 0, 0, *RED] + [0] * (256 * 3 - 6))
    ImageDraw.Draw(photo).rectangle((0, 0, 49, 99), fill=1)

    upload = encode(photo, "PNG", transparency=0)
    image = open_png(frame_photo(upload, DESIGN, "", "en", size=100))

    assert near(image.getpixel((25, 40)), RED)
    assert near(image.getpixel((75, 40)), (255, 255, 255))


def test_a_16_bit_greyscale_png_is_scaled_not_clipped():
    upload = encode(Image.new("I;16", (100, 100), 32768), "PNG")

    image = open_png(frame_photo(upload, DESIGN, "", "en", size=100))

    assert near(centre(image), (128, 128, 128), tolerance=3)


def test_a_16_bit_colour_png_is_framed():
    # Pillow reads 48-bit RGB as 8-bit RGB; build one by hand, mid-grey.
    width = height = 32
    rows = b"".join(b"\x00" + b"\x80\x00" * 3 * width for _ in range(height))
    upload = png_bytes(width, height, bit_depth=16, colour_type=2, raw=rows)

    image = open_png(frame_photo(upload, DESIGN, "", "en", size=64))

    assert near(centre(image), (128, 128, 128), tolerance=3)


@pytest.mark.parametrize("mode", ["L", "LA", "1", "RGBA"])
def test_other_modes_are_framed(mode):
    upload = encode(Image.new("RGB", (90, 90), (90, 90, 90)).convert(mode), "PNG")

    assert open_png(frame_photo(upload, DESIGN, "", "en", size=64)).size == (64, 64)


def test_a_webp_photo_is_framed():
    upload = encode(Image.new("RGB", (100, 100), BLUE), "WEBP", quality=95)

    assert near(centre(open_png(frame_photo(upload, DESIGN, "", "en", size=64))), BLUE)


# --- Bad input ---------------------------------------------------------------------------


def png_bytes(width, height, *, bit_depth=8, colour_type=2, raw=b"") -> bytes:
    """A PNG file written chunk by chunk: it can claim any size without its pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw or b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims width×height."""
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("P", (16, 16)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "WEBP"))
    assert data[12:16] == b"VP8 "
    data[26:30] = struct.pack("<HH", width, height)
    return bytes(data)


def truncated_jpeg() -> bytes:
    photo = Image.effect_noise((600, 400), 80).convert("RGB")
    data = encode(photo, "JPEG", quality=90)
    return data[: len(data) // 2]


BAD_UPLOADS = {
    "empty": b"",
    "text": "Hello, I am not a photo. سلام".encode(),
    "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
    "html": b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
    "bmp": None,  # Filled in below: a real image, but not an accepted format.
    "png signature only": b"\x89PNG\r\n\x1a\n",
    "png with a broken header": b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00",
    "zero-sized png": None,
    "truncated jpeg": None,
    "jpeg bomb (900 megapixels)": None,
    "png bomb (400 megapixels)": None,
    "png over the limit (70 megapixels)": None,
    "png in Pillow's warning range (100 megapixels)": None,
    "gif bomb (4 gigapixels)": None,
    "webp bomb (268 megapixels)": None,
    "over the byte limit": None,
}


def bad_upload(name: str) -> bytes:
    makers = {
        "bmp": lambda: encode(Image.new("RGB", (10, 10)), "BMP"),
        "zero-sized png": lambda: png_bytes(0, 0),
        "truncated jpeg": truncated_jpeg,
        "jpeg bomb (900 megapixels)": lambda: jpeg_claiming(30000, 30000),
        "png bomb (400 megapixels)": lambda: png_bytes(20000, 20000),
        "png over the limit (70 megapixels)": lambda: png_bytes(10000, 7000),
        "png in Pillow's warning range (100 megapixels)": lambda: png_bytes(10000, 10000),
        "gif bomb (4 gigapixels)": lambda: gif_claiming(65535, 65535),
        "webp bomb (268 megapixels)": lambda: webp_claiming(16383, 16383),
        "over the byte limit": lambda: b"\xff\xd8\xff\xe0" + b"\x00" * MAX_UPLOAD_BYTES,
    }
    return makers[name]() if name in makers else BAD_UPLOADS[name]


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_with_a_frame_error(name, caplog):
    upload = bad_upload(name)

    # Any warning (Pillow's DecompressionBombWarning included) fails the test: the
    # bombs must be refused before Pillow would warn.
    # At INFO, the level the settings log at (Pillow's plugins log chunk names at DEBUG).
    with warnings.catch_warnings(), caplog.at_level(logging.INFO):
        warnings.simplefilter("error")
        with pytest.raises(FrameError) as refusal:
            frame_photo(upload, DESIGN, "#BanTaliban", "en", size=256)

    assert str(refusal.value)  # A message for the supporter.
    # No Pillow error rides along into error reports.
    assert refusal.value.__cause__ is None
    assert refusal.value.__context__ is None or refusal.value.__suppress_context__
    assert caplog.records == []  # Nothing about the upload is logged.


def test_the_pixel_limit_lies_below_pillows_own():
    # So Pillow's DecompressionBombWarning is never what decides.
    assert MAX_PIXELS < Image.MAX_IMAGE_PIXELS


def test_the_bomb_refusals_say_the_photo_is_too_large():
    for name in (
        "jpeg bomb (900 megapixels)",
        "png bomb (400 megapixels)",
        "webp bomb (268 megapixels)",
    ):
        with pytest.raises(FrameError, match="megapixels"):
            frame_photo(bad_upload(name), DESIGN, "", "en")


def test_a_refusal_is_in_the_active_language():
    from django.utils import translation

    with translation.override("fa"), pytest.raises(FrameError) as refusal:
        frame_photo(b"", DESIGN, "", "fa")

    with translation.override("fa"):
        from django.utils.translation import gettext

        assert str(refusal.value) == gettext("The file is empty. Choose a photo to upload.")


@pytest.mark.parametrize(
    "crop",
    [
        (float("nan"), 0.0, 0.5),
        (0.0, float("inf"), 0.5),
        (0.0, 0.0, 0.0),
        (-0.1, 0.0, 0.5),
        (0.0, 0.0, 1.5),
        (1.2, 0.0, 0.5),
        (0.9, 0.0, 0.5),  # Starts inside but runs 60 px past the right edge.
        (0.0, 0.6, 0.5),  # Runs 20 px past the bottom.
        ("a", 0.0, 0.5),
        (0.0, 0.5),
        3,  # Not even a sequence.
    ],
)
def test_a_crop_outside_the_photo_is_refused(crop):
    with pytest.raises(FrameError):
        frame_photo(encode(quadrants(), "PNG"), DESIGN, "", "en", crop=crop)


@pytest.mark.parametrize("size", [0, 10, 5000, 1080.5, "1080"])
def test_an_unusable_size_is_refused(size):
    with pytest.raises(FrameError):
        frame_photo(encode(quadrants(), "PNG"), DESIGN, "", "en", size=size)


def test_a_logo_that_is_not_an_image_leaves_the_frame_without_a_logo():
    design = Design(logo=b"<svg/>")

    image = open_png(frame_overlay_png(design, "#BanTaliban", "en", 256))

    assert image.size == (256, 256)


# --- The frame ---------------------------------------------------------------------------


def test_the_overlay_is_transparent_in_the_middle_and_coloured_at_the_bottom():
    overlay = open_png(frame_overlay_png(DESIGN, "#BanTaliban", "en", 512))

    assert overlay.mode == "RGBA"
    assert overlay.getpixel((256, 256))[3] == 0
    # Just inside the bottom edge: the crescent, opaque, in the campaign colour, or
    # the hashtag written on it in white.
    bottom = overlay.getpixel((150, 440))
    assert bottom[3] == 255
    assert near(bottom, (31, 111, 92), tolerance=8)
    assert overlay.getpixel((5, 5))[3] == 0  # Outside the circle, the photo shows.


def badge_box(overlay: Image.Image):
    """The bounding box of the logo badge: the opaque white of the overlay."""
    white = Image.eval(overlay.convert("RGB"), lambda v: 255 if v >= 250 else 0).convert("L")
    white = Image.eval(white, lambda v: 255 if v == 255 else 0)
    opaque = overlay.getchannel("A").point(lambda a: 255 if a == 255 else 0)
    mask = Image.new("L", overlay.size, 0)
    mask.paste(white, mask=opaque)
    return mask.getbbox()


def test_a_transparent_logo_sits_on_a_white_badge_at_the_reading_end():
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))  # Transparent but a red square.
    ImageDraw.Draw(logo).rectangle((110, 110, 189, 189), fill=(*RED, 255))
    design = Design(colour="#1f6f5c", logo=encode(logo, "PNG"))

    for language, on_the_right in (("en", True), ("fa", False)):
        overlay = open_png(frame_overlay_png(design, "", language, 512))
        left, top, right, bottom = badge_box(overlay)
        x, y = (left + right) // 2, (top + bottom) // 2
        assert (x > 256) is on_the_right
        assert y < 200
        # The logo's red in the middle; around it white, not the black that a
        # transparent PNG turns into when its alpha is dropped.
        assert near(overlay.getpixel((x, y)), RED)
        assert near(overlay.getpixel((x - 35, y)), (255, 255, 255), tolerance=5)


def test_the_hashtag_is_written_on_the_frame():
    plain = open_png(frame_overlay_png(DESIGN, "", "en", 512))
    tagged = open_png(frame_overlay_png(DESIGN, "#BanTaliban", "en", 512))

    assert plain.getchannel("A").getbbox() == tagged.getchannel("A").getbbox()
    text = [
        p
        for p in tagged.crop((150, 420, 362, 500)).get_flattened_data()
        if near(p, (255, 255, 255))
    ]
    assert len(text) > 500  # White letters on the crescent.
    assert not [
        p for p in plain.crop((150, 420, 362, 500)).get_flattened_data() if near(p, (255, 255, 255))
    ]


def test_a_dari_hashtag_is_shaped_right_to_left():
    """The strip is what Pillow's raqm layout draws right to left (joined letters,
    "#" at the right), and differs from the unshaped basic layout."""
    band = 200
    strip = frame._text_strip(DARI_HASHTAG, "fa", band, (255, 255, 255), max_length=10_000)

    def drawn(layout, **options):
        font = ImageFont.truetype(str(frame.BOLD_FONT), round(band * 0.52), layout_engine=layout)
        image = Image.new("RGBA", strip.size, (255, 255, 255, 0))
        ImageDraw.Draw(image).text(
            (strip.width / 2, band / 2),
            DARI_HASHTAG,
            font=font,
            fill="white",
            anchor="mm",
            **options,
        )
        return image

    shaped = drawn(ImageFont.Layout.RAQM, direction="rtl", language="fa")
    assert strip.tobytes() == shaped.tobytes()
    assert strip.tobytes() != drawn(ImageFont.Layout.BASIC).tobytes()
    # The "#" is drawn last in logical order but first in reading order: at the right.
    hash_only = Image.new("L", (band, band))
    font = ImageFont.truetype(str(frame.BOLD_FONT), round(band * 0.52))
    ImageDraw.Draw(hash_only).text((0, 0), "#", font=font, fill=255)
    hash_width = hash_only.getbbox()[2] - hash_only.getbbox()[0]
    ink = strip.getchannel("A").getbbox()
    right_end = strip.getchannel("A").crop((ink[2] - hash_width, 0, ink[2], band))
    assert right_end.getbbox() is not None
    assert frame_photo(encode(quadrants(), "PNG"), DESIGN, DARI_HASHTAG, "fa", size=256)


def test_a_latin_hashtag_keeps_its_direction_on_a_dari_frame():
    assert text_direction("#BanTaliban", True) == "ltr"
    assert text_direction(DARI_HASHTAG) == "rtl"
    assert text_direction("#2024", True) == "rtl"


def test_a_very_long_hashtag_still_fits_on_the_crescent():
    long_tag = "#" + "VeryLongHashtag" * 8

    overlay = open_png(frame_overlay_png(DESIGN, long_tag, "en", 512))

    # Nothing of the text strays above the crescent's ends (about the middle height).
    white = [
        (x, y)
        for y in range(0, 300)
        for x in range(512)
        if overlay.getpixel((x, y))[3] > 0 and near(overlay.getpixel((x, y)), (255, 255, 255))
    ]
    assert white == []


def test_a_framed_picture_is_saved_for_review(tmp_path):
    """Saves the Dari frame on a photo-like picture, for a person to look at."""
    photo = Image.new("RGB", (1600, 1200))
    draw = ImageDraw.Draw(photo)
    for y in range(1200):
        draw.line((0, y, 1600, y), fill=(120 + y // 12, 160 + y // 20, 200))
    draw.ellipse((650, 250, 950, 600), fill=(200, 160, 130))
    draw.rectangle((560, 600, 1040, 1200), fill=(60, 60, 90))
    logo = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((20, 20, 280, 280), fill=(242, 193, 78, 255))
    design = Design(colour="#1f6f5c", logo=encode(logo, "PNG"))

    png = frame_photo(encode(photo, "JPEG"), design, "#BanTaliban", "fa")

    folder = Path(os.environ.get("HAMSEDA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kit-frame-fa.png").write_bytes(png)
    (folder / "kit-frame-ps-dari-tag.png").write_bytes(
        frame_photo(encode(photo, "JPEG"), design, DARI_HASHTAG, "ps")
    )
    assert open_png(png).size == (1080, 1080)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("JPEG", {"quality": 90}), ("JPEG", {"progressive": True}), ("PNG", {}), ("GIF", {})],
)
def test_a_truncated_photo_is_refused_even_when_pillow_is_told_to_load_it(fmt, params, monkeypatch):
    """WeasyPrint sets ImageFile.LOAD_TRUNCATED_IMAGES for the whole process when it is
    imported; the frame must refuse a truncated photo all the same."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    whole = encode(Image.effect_noise((600, 400), 80).convert("RGB"), fmt, **params)
    assert frame_photo(whole, DESIGN, "", "en", size=128)

    for cut in (0.5, 0.95):
        with pytest.raises(FrameError, match="damaged"):
            frame_photo(whole[: int(len(whole) * cut)], DESIGN, "", "en", size=128)


def test_bytes_after_the_end_of_a_jpeg_are_ignored():
    # Some phones append their own data after the image's end marker.
    upload = encode(quadrants(), "JPEG") + b"SEFT trailer" * 100

    image = open_png(frame_photo(upload, DESIGN, "", "en", crop=(0.0, 0.0, 0.5), size=128))
    assert near(centre(image), RED)


def test_importing_weasyprint_leaves_truncated_images_refused():
    from PIL import ImageFile

    import hamseda.kit.posters  # noqa: F401 - imports weasyprint.

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_the_upright_size_follows_the_exif_orientation():
    from hamseda.kit.frame import upright_size

    stored = Image.new("RGB", (400, 300))
    turned = Image.Exif()
    turned[0x0112] = 6
    mirrored = Image.Exif()
    mirrored[0x0112] = 2

    assert upright_size(encode(stored, "JPEG", exif=turned)) == (300, 400)
    assert upright_size(encode(stored, "JPEG", exif=mirrored)) == (400, 300)
    assert upright_size(encode(stored, "PNG")) == (400, 300)
    with pytest.raises(FrameError):
        upright_size(bad_upload("png bomb (400 megapixels)"))
