"""Profile-picture frames: a supporter's photo, cropped square, under the campaign's frame.

The photo is a stranger's upload, so it is treated as hostile and private:
- it is handled in memory only, never written to disk, never logged, and no message or
  exception carries anything about it (errors are raised `from None`);
- it is identified by its first bytes against four formats (JPEG, PNG, GIF, WebP),
  opened with Pillow's own plugin for that format, and its size is checked against
  MAX_PIXELS *before* any pixel is decoded (a decompression bomb is a few kilobytes
  that claim gigapixels);
- a JPEG is decoded at a reduced scale (libjpeg's DCT scaling through `draft`), so a
  50-megapixel phone photo costs a few megabytes of memory, not 150;
- the result is a new image, so no EXIF (location, camera, time) is carried over.

Every bad upload raises FrameError with a message translated into the active language,
ready to show to the supporter.

Why not `Image.open` and its DecompressionBombWarning: Pillow only *warns* between its
limit and twice that, and turning the warning into an error needs either a global
warnings filter (which would change how every other part of the process sees large
images) or `warnings.catch_warnings()`, which is not thread-safe in a threaded server.
Choosing the plugin by the file's signature and checking the size ourselves, below
Pillow's limit, needs neither: the warning is never reached.
"""

import io
import math
import struct
import unicodedata
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext
from PIL import (
    ExifTags,
    GifImagePlugin,
    Image,
    ImageDraw,
    ImageFile,
    ImageFont,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
    features,
)

from hamseda.kit.design import Design, is_rtl
from hamseda.kit.layouts import WHITE, contrast, parse_colour
from hamseda.kit.text import load_font

FONTS_DIR = Path(__file__).parent / "fonts"
BOLD_FONT = FONTS_DIR / "Vazirmatn-Bold.ttf"

# Phone cameras make 12–50 MP photos in 2–12 MB; anything past these is refused.
MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 60_000_000
SIZE_RANGE = (64, 2048)

# The frame is drawn this many times larger, then scaled down: Pillow's circles and
# arcs have no anti-aliasing of their own.
SUPERSAMPLE = 2
# The dark text colour on a light campaign colour (#111111).
DARK_TEXT = (17, 17, 17)


class FrameError(ValueError):
    """The upload or the crop cannot be made into a framed picture; str() is the
    message for the supporter, in the language active when it was raised."""


def frame_photo(
    upload: bytes,
    design: Design,
    hashtag: str,
    language: str,
    *,
    crop: tuple[float, float, float] | None = None,
    size: int = 1080,
) -> bytes:
    """The framed profile picture, as a `size`×`size` PNG.

    `crop` is (x, y, side): the square's top-left corner as fractions of the upright
    photo's width and height, and its side as a fraction of the photo's shorter side.
    None takes the largest centred square."""
    _check_size(size)
    photo = _square_photo(upload, crop, size)
    framed = Image.new("RGBA", (size, size))
    framed.paste(photo, (0, 0))
    with Image.open(io.BytesIO(_overlay_png(design, hashtag.strip(), language, size))) as overlay:
        framed.alpha_composite(overlay.convert("RGBA"))
    return _png(framed.convert("RGB"))


def frame_overlay_png(design: Design, hashtag: str, language: str, size: int) -> bytes:
    """The frame alone, transparent where the photo shows: a page lays it over the
    supporter's photo as a live preview before anything is uploaded."""
    _check_size(size)
    return _overlay_png(design, hashtag.strip(), language, size)


def upright_size(upload: bytes) -> tuple[int, int]:
    """The photo's width and height as it is shown, after its EXIF orientation, read
    from its header only (nothing decoded), with the checks frame_photo makes: the
    size a crop given in pixels of the shown photo is converted from. Raises
    FrameError like frame_photo."""
    image = _open(upload)
    width, height = image.size
    # From the header's EXIF only: Image.getexif() of a PNG decodes the pixels to look
    # for an eXIf chunk after them.
    raw = image.info.get("exif")
    if raw:
        exif = Image.Exif()
        try:
            exif.load(raw)
            orientation = exif.get(ExifTags.Base.Orientation, 1)
        except (OSError, SyntaxError, ValueError, struct.error, IndexError, TypeError):
            orientation = 1  # ImageOps.exif_transpose ignores a damaged EXIF too.
        if orientation in (5, 6, 7, 8):  # Turned by a quarter: the sides swap.
            width, height = height, width
    return width, height


# --- The photo -------------------------------------------------------------------------


def _check_size(size: int) -> None:
    if not isinstance(size, int) or not SIZE_RANGE[0] <= size <= SIZE_RANGE[1]:
        raise FrameError(
            gettext("The picture size must be between %(low)s and %(high)s pixels.")
            % {"low": SIZE_RANGE[0], "high": SIZE_RANGE[1]}
        )


def _square_photo(upload: bytes, crop: tuple[float, float, float] | None, size: int):
    """The upright, opaque RGB square of the photo that `crop` chooses, at size×size."""
    image = _open(upload)
    side_fraction = _check_crop(crop)
    try:
        if image.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 scale when the chosen square stays at least
            # `size` pixels: the memory and time of a 50 MP photo drop 4–64 times.
            scale = size / (side_fraction * min(image.size))
            if scale < 1:
                image.draft(
                    "RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale))
                )
        stream = image.fp  # Pillow lets go of it once the pixels are loaded.
        stream.ran_out = False  # Reading the header may touch the end; decoding may not.
        image.load()
        if stream.ran_out:
            raise FrameError(_damaged())
        image = ImageOps.exif_transpose(image)
        image = _opaque_rgb(image)
        box = _crop_box(image.size, crop)
        return image.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    except FrameError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError):
        # A truncated or corrupt file fails only when its pixels are decoded.
        raise FrameError(_damaged()) from None
    except Image.DecompressionBombError:
        raise FrameError(_too_many_pixels()) from None
    except MemoryError:
        raise FrameError(_too_many_pixels()) from None


# The formats accepted, by the bytes they start with, and Pillow's plugin for each.
_SIGNATURES = (
    (b"\xff\xd8\xff", JpegImagePlugin.JpegImageFile),
    (b"\x89PNG\r\n\x1a\n", PngImagePlugin.PngImageFile),
    (b"GIF87a", GifImagePlugin.GifImageFile),
    (b"GIF89a", GifImagePlugin.GifImageFile),
    (b"RIFF", WebPImagePlugin.WebPImageFile),
)


def _open(upload: bytes) -> ImageFile.ImageFile:
    """The upload opened lazily (header read, no pixel decoded), once it is known to be
    one of the accepted formats and not too large."""
    if not upload:
        raise FrameError(gettext("The file is empty. Choose a photo to upload."))
    if len(upload) > MAX_UPLOAD_BYTES:
        raise FrameError(
            gettext("The photo is larger than %(megabytes)s MB. Choose a smaller photo.")
            % {"megabytes": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    plugin = next((cls for prefix, cls in _SIGNATURES if upload.startswith(prefix)), None)
    if plugin is WebPImagePlugin.WebPImageFile:
        # The WebP decoder allocates its whole canvas as it opens, so its size is read
        # from the header first.
        canvas = _webp_canvas_size(upload) if features.check("webp") else None
        if canvas is None:
            plugin = None
        elif canvas[0] * canvas[1] > MAX_PIXELS:
            raise FrameError(_too_many_pixels())
    if plugin is None:
        raise FrameError(_not_an_image())
    try:
        image = plugin(_WatchedBytes(upload))
    except (SyntaxError, OSError, ValueError, EOFError, struct.error, IndexError, TypeError):
        raise FrameError(_not_an_image()) from None
    except UnidentifiedImageError:
        raise FrameError(_not_an_image()) from None
    except Image.DecompressionBombError:
        raise FrameError(_too_many_pixels()) from None
    width, height = image.size
    if width < 1 or height < 1:
        raise FrameError(_not_an_image())
    if width * height > MAX_PIXELS:
        raise FrameError(_too_many_pixels())
    return image


class _WatchedBytes(io.BytesIO):
    """The upload, noting whether a decoder asked for more bytes than there are.

    Pillow refuses a truncated file only while ImageFile.LOAD_TRUNCATED_IMAGES is False,
    and that is one flag for the whole process, which WeasyPrint sets to True when it
    is imported. A decoder that runs out of data reads an empty block, whatever the
    flag: that is what marks a truncated photo here."""

    ran_out = False

    def read(self, size=-1, /):
        data = super().read(size)
        if size != 0 and not data:
            self.ran_out = True
        return data


def _webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a WebP file's first chunk header (the same fields Pillow
    reads before it creates the decoder), or None if the header is not understood."""
    if data[8:12] != b"WEBP" or len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _check_crop(crop) -> float:
    """The crop's side fraction, after checking that the crop is three finite numbers
    in range; where it lies in the photo is checked by _crop_box."""
    if crop is None:
        return 1.0
    try:
        x, y, side = (float(value) for value in crop)
    except (TypeError, ValueError):
        raise FrameError(_bad_crop()) from None
    if not all(math.isfinite(value) for value in (x, y, side)):
        raise FrameError(_bad_crop())
    if not (0 <= x <= 1 and 0 <= y <= 1 and 0 < side <= 1):
        raise FrameError(_bad_crop())
    return side


# A crop made in a browser may overshoot the photo's edge by a rounding error.
CROP_TOLERANCE = 0.01


def _crop_box(
    image_size: tuple[int, int], crop: tuple[float, float, float] | None
) -> tuple[float, float, float, float]:
    """The square (left, top, right, bottom) in pixels of the upright photo."""
    width, height = image_size
    shorter = min(width, height)
    if crop is None:
        left, top = (width - shorter) / 2, (height - shorter) / 2
        return (left, top, left + shorter, top + shorter)
    x, y, side = (float(value) for value in crop)
    side_px = max(1.0, side * shorter)
    left, top = x * width, y * height
    overshoot = max(left + side_px - width, top + side_px - height)
    if overshoot > CROP_TOLERANCE * shorter:
        raise FrameError(_bad_crop())
    left = min(left, width - side_px)
    top = min(top, height - side_px)
    return (left, top, left + side_px, top + side_px)


def _opaque_rgb(image: Image.Image) -> Image.Image:
    """Any decoded mode as opaque RGB: 16-bit greyscale scaled (not clipped) to 8 bits,
    palettes and CMYK converted, transparency laid on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        background.alpha_composite(image)
        image = background
    return image.convert("RGB") if image.mode != "RGB" else image


def _not_an_image() -> str:
    return gettext("This file is not a photo we can read. Choose a JPEG, PNG, WebP or GIF image.")


def _damaged() -> str:
    return gettext("The photo seems damaged or incomplete. Try again, or choose another photo.")


def _too_many_pixels() -> str:
    return gettext(
        "The photo has too many pixels (more than %(megapixels)s megapixels). "
        "Choose a smaller photo."
    ) % {"megapixels": MAX_PIXELS // 1_000_000}


def _bad_crop() -> str:
    return gettext("The chosen square does not fit inside the photo. Choose it again.")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Level 3: for photos as small as the default 6, in a third of the time.
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


# --- The frame -------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _overlay_png(design: Design, hashtag: str, language: str, size: int) -> bytes:
    """The frame, drawn once per campaign design, hashtag, language and size, and kept
    as a PNG: about 100 kB rather than the 4.7 MB of a 1080 px RGBA image."""
    return _png(_overlay(design, hashtag, language, size))


def _overlay(design: Design, hashtag: str, language: str, size: int) -> Image.Image:
    """The frame as a transparent RGBA image: a fine ring of the campaign colour on the
    circle that social networks crop a profile picture to, a crescent of it along the
    bottom with the hashtag written around it, and the logo on a white badge in the
    upper corner where reading ends."""
    big = size * SUPERSAMPLE
    centre = big / 2
    outer = big / 2 - SUPERSAMPLE  # Inside the crop circle by a pixel.
    band = round(big * 0.13)  # Thickness at the bottom.
    line = max(2, round(big * 0.016))  # The ring.
    colour = parse_colour(design.colour, (31, 111, 92))
    on_colour = parse_colour(readable_on(design.colour), WHITE)

    # The crescent is the crop circle minus a larger circle shifted up, chosen so that
    # the two cross at the sides: the crescent is `band` thick at the bottom and thins
    # smoothly to nothing at the sides, where the ring goes on alone.
    shift = band * (2 * outer - band) / (2 * (outer - band))
    inner = outer + shift - band
    crescent = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(crescent)
    circle = (centre - outer, centre - outer, centre + outer, centre + outer)
    draw.ellipse(circle, fill=255)
    draw.ellipse(
        (centre - inner, centre - shift - inner, centre + inner, centre - shift + inner), fill=0
    )
    draw.ellipse(circle, outline=255, width=line)
    overlay = Image.new("RGBA", (big, big), (*colour, 0))
    overlay.putalpha(crescent)

    tag = _hashtag(hashtag)
    if tag:
        # Within 35° of the bottom the crescent is still over 4/5 of `band` thick, so
        # the text (about half of `band` high, centred) stays on it.
        middle = outer - band / 2
        text = _text_strip(tag, language, band, on_colour, max_length=math.radians(70) * middle)
        bent, corner = _bend(text, big, outer - band, outer)
        overlay.alpha_composite(bent, corner)

    if design.logo:
        badge = _logo_badge(design.logo, round(big * 0.2), colour)
        if badge is not None:
            # Upper right for a left-to-right language, upper left for Dari and Pashto:
            # the corner where reading ends, away from the face in most photos' centre.
            distance = outer - badge.width / 2 - line * 2
            offset = distance * math.sqrt(0.5)
            x = centre - offset if is_rtl(language) else centre + offset
            y = centre - offset
            overlay.alpha_composite(
                badge, (round(x - badge.width / 2), round(y - badge.height / 2))
            )

    return overlay.resize((size, size), Image.Resampling.LANCZOS)


def _text_strip(
    text: str, language: str, band: int, colour: tuple[int, int, int], *, max_length: float
) -> Image.Image:
    """The hashtag shaped by raqm (HarfBuzz, FriBiDi) on a transparent strip `band`
    pixels high, as long as the text: smaller when it would be longer than max_length,
    down to a readable minimum, and then cut short with an ellipsis."""
    direction = text_direction(text, is_rtl(language))
    smallest = max(8, math.ceil(band * 0.25))
    font_size = max(smallest, round(band * 0.52))

    def measure(size: int, words: str) -> tuple[ImageFont.FreeTypeFont, float]:
        font = load_font(str(BOLD_FONT), size)
        return font, font.getlength(words, direction=direction, language=language)

    font, length = measure(font_size, text)
    if length > max_length:
        font_size = max(smallest, int(font_size * max_length / length))
        font, length = measure(font_size, text)
    while length > max_length and len(text) > 2:
        text = text[: max(1, int(len(text) * max_length / length) - 1)] + "…"
        font, length = measure(font_size, text)
    pad = round(band * 0.1)
    strip = Image.new("RGBA", (math.ceil(length) + 2 * pad, band), (*colour, 0))
    ImageDraw.Draw(strip).text(
        (strip.width / 2, band / 2),
        text,
        font=font,
        fill=(*colour, 255),
        anchor="mm",
        direction=direction,
        language=language,
    )
    return strip


def _bend(
    strip: Image.Image, canvas: int, inner: float, outer: float
) -> tuple[Image.Image, tuple[int, int]]:
    """The strip bent around the bottom of a circle centred on a canvas×canvas image,
    between radii inner and outer, reading left to right with its top towards the centre;
    returned as the region of the canvas it covers and that region's top-left corner.

    Pillow's MESH transform fills small squares of the result, each from the
    quadrilateral of the strip its corners come from: the inverse of the polar mapping
    is computed at the corners and is close to linear inside a square this small."""
    centre = canvas / 2
    middle = (inner + outer) / 2
    span = strip.width / middle
    start = math.pi / 2 + span / 2  # The strip's left end, at the bottom-left.
    radial = strip.height / (outer - inner)

    def source(x: float, y: float) -> tuple[float, float]:
        angle = math.atan2(y - centre, x - centre)
        if angle < -math.pi / 2:  # Keep the angles continuous across the left side.
            angle += 2 * math.pi
        return (start - angle) * middle, (math.hypot(x - centre, y - centre) - inner) * radial

    # Only the region under the arc is transformed, so the result stays small.
    cell = 8
    top = max(0, int(centre + inner * math.cos(min(span / 2, math.pi / 2))) - cell)
    reach = outer * math.sin(min(span / 2, math.pi / 2)) + cell
    left = max(0, int(centre - reach))
    right = min(canvas, int(centre + reach) + cell)
    mesh = []
    for y0 in range(top, canvas, cell):
        for x0 in range(left, right, cell):
            cx, cy = x0 + cell / 2 - centre, y0 + cell / 2 - centre
            if not inner - cell <= math.hypot(cx, cy) <= outer + cell:
                continue
            corners = (
                source(x0, y0),
                source(x0, y0 + cell),
                source(x0 + cell, y0 + cell),
                source(x0 + cell, y0),
            )
            box = (x0 - left, y0 - top, x0 - left + cell, y0 - top + cell)
            mesh.append((box, tuple(v for c in corners for v in c)))
    bent = strip.transform(
        (right - left, canvas - top), Image.Transform.MESH, mesh, resample=Image.Resampling.BICUBIC
    )
    return bent, (left, top)


def _logo_badge(logo: bytes, diameter: int, colour: tuple[int, int, int]) -> Image.Image | None:
    """The logo, kept whole and centred on a white disc with a ring of the campaign
    colour, or None if the logo cannot be read (the frame is then made without it)."""
    try:
        with Image.open(io.BytesIO(logo), formats=("PNG", "JPEG", "WEBP", "GIF")) as source:
            source.draft("RGB", (diameter, diameter))
            picture = source.convert("RGBA")
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
    inside = round(diameter * 0.62)  # A square inside the disc, with a margin.
    picture.thumbnail((inside, inside), Image.Resampling.LANCZOS)
    badge = Image.new("RGBA", (diameter, diameter), (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    draw.ellipse(
        (0, 0, diameter - 1, diameter - 1),
        fill=(255, 255, 255, 255),
        outline=(*colour, 255),
        width=max(2, diameter // 28),
    )
    badge.alpha_composite(
        picture, ((diameter - picture.width) // 2, (diameter - picture.height) // 2)
    )
    return badge


def _hashtag(tag: str) -> str:
    tag = tag.strip().lstrip("#").strip()
    return "#" + tag if tag else ""


# --- Shared with posters.py --------------------------------------------------------------


def text_direction(text: str, rtl_default: bool = False) -> str:
    """ "rtl" or "ltr" from the first letter with a strong direction (HTML's dir=auto),
    or from `rtl_default` if there is none (only digits and punctuation).

    A Latin hashtag on a Dari picture must stay "#BanTaliban": laid out right to left
    it would read "BanTaliban#"; an English phrase not yet translated into Dari would
    have its number and full stop moved to the wrong end."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "rtl" if rtl_default else "ltr"


def readable_on(colour: str) -> str:
    """ "#ffffff" or "#111111", whichever contrasts more with `colour` (WCAG)."""
    background = parse_colour(colour, (31, 111, 92))
    if contrast(WHITE, background) >= contrast(DARK_TEXT, background):
        return "#ffffff"
    return "#111111"
