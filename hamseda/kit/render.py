"""Share images: render(size, content, design) → a Pillow image; render_png → PNG bytes.

What goes where is kit.layouts' business, how text is set kit.text's; this module
decodes the campaign's logo and background (once per design), paints, and encodes.

Speed (bench/kit_render.py): everything that does not depend on the words is cached —
fonts per size (kit.text), decoded logo and photo per design fingerprint, the painted
background per design, size and direction, QR codes per address and size — so an image
costs its text, one copy of the background and the PNG encoding.
"""

import functools
import io
import logging
import threading
import warnings
import weakref
import zlib
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from hamseda.kit.design import SIZES, Content, Design, is_rtl
from hamseda.kit.layouts import WHITE, Plan, contrast, parse_colour, plan, readable_on
from hamseda.kit.qr import qr_image
from hamseda.kit.text import Box, draw_block

logger = logging.getLogger(__name__)

# Uploads beyond these are treated as absent: a logo needs no more than a few
# megapixels, and a photo is cut to at most 1920 pixels a side. Pillow's own
# decompression-bomb check (about 89 megapixels) is stricter still for anything bigger.
MAX_LOGO_PIXELS = 16_000_000
MAX_PHOTO_PIXELS = 50_000_000
# What we keep of a decoded upload: enough for the largest image, not the original.
LOGO_WORKING_SIDE = 800  # The longer side.
PHOTO_WORKING_SIDE = 1920  # The shorter side.

# PNG: zlib level 1 with the run-length strategy. After PNG's row filters, flat colour
# is runs of zero bytes, which RLE finds without zlib's costly match search. Measured on
# the Dari square (CPU ms / KiB): bold 21 / 86 against the default level 6's 28 / 78,
# photo 76 / 1,390 against 473 / 1,271; level 9 or optimize=True cost 3 to 12 times
# more for 2 to 15% less. Encoding is the largest part of an image's cost, and a
# share image is downloaded a few times, so speed wins over the last few kilobytes.
PNG_OPTIONS = {"compress_level": 1, "compress_type": zlib.Z_RLE}


class _LRU:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, make):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()  # Outside the lock: two threads may both make it, harmlessly.
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def clear(self):
        with self.lock:
            self.items.clear()


@dataclass(frozen=True)
class Assets:
    """A design's decoded uploads: the logo (RGBA, trimmed of transparent margins) and
    the photo (RGB; decoded for the photo layout only), or None when absent or
    unusable."""

    logo: Image.Image | None
    photo: Image.Image | None

    @property
    def logo_aspect(self) -> float | None:
        return self.logo.width / self.logo.height if self.logo else None


_assets = _LRU(8)
_bases = _LRU(12)  # Painted backgrounds: 6 sizes × 2 directions of one design ≈ 50 MB.
_fingerprints: "weakref.WeakKeyDictionary[Design, str]" = weakref.WeakKeyDictionary()
_fingerprints_lock = threading.Lock()


def clear_caches() -> None:
    """Forget every decoded and painted image (tests, and the benchmark's cold runs)."""
    _assets.clear()
    _bases.clear()
    _qr.cache_clear()
    _rounded_mask.cache_clear()
    with _fingerprints_lock:
        _fingerprints.clear()


def fingerprint(design: Design) -> str:
    """design.fingerprint(), computed once per Design object: it hashes the logo and
    photo bytes, which costs milliseconds for a large photo."""
    with _fingerprints_lock:
        known = _fingerprints.get(design)
    if known is None:
        known = design.fingerprint()
        with _fingerprints_lock:
            _fingerprints[design] = known
    return known


def assets(design: Design) -> Assets:
    return _assets.get(fingerprint(design), lambda: _decode(design))


def _decode(design: Design) -> Assets:
    """Decode the uploads a design uses (the photo only for the photo layout)."""
    logo = _open(design.logo, "logo", MAX_LOGO_PIXELS, _as_logo)
    photo = None
    if design.layout == "photo":
        backdrop = parse_colour(design.colour, WHITE)
        photo = _open(
            design.background,
            "background",
            MAX_PHOTO_PIXELS,
            lambda image: _as_photo(image, backdrop),
            draft=PHOTO_WORKING_SIDE,
        )
    return Assets(logo=logo, photo=photo)


def _open(data, what: str, max_pixels: int, prepare, draft: int = 0) -> Image.Image | None:
    """Decode an uploaded image, upright (EXIF orientation applied), then `prepare` it;
    None, with a log line naming only the kind of file and the reason, when it is
    missing, not an image, damaged, too large, or in a mode that cannot be converted."""
    if not data:
        return None
    try:
        with warnings.catch_warnings():
            # Pillow warns on images past its bomb limit; here that is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > max_pixels:
                logger.warning("kit: %s ignored: %dx%d is too large", what, *image.size)
                return None
            if draft:
                # A JPEG decodes at 1/2, 1/4 or 1/8 scale if that still covers `draft`.
                image.draft("RGB", (draft, draft))
            image.load()
            return prepare(ImageOps.exif_transpose(image))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as error:
        logger.warning("kit: %s ignored: not a usable image (%s)", what, type(error).__name__)
        return None


def _as_logo(image: Image.Image) -> Image.Image | None:
    """RGBA, trimmed of transparent margins (so the visible logo lines up with the
    text), at most LOGO_WORKING_SIDE a side."""
    image = image.convert("RGBA")
    bbox = image.getchannel("A").getbbox()
    if bbox is None:
        return None  # Wholly transparent: nothing to show.
    image = image.crop(bbox)
    image.thumbnail((LOGO_WORKING_SIDE, LOGO_WORKING_SIDE), Image.Resampling.LANCZOS)
    return image


def _as_photo(image: Image.Image, backdrop) -> Image.Image:
    """RGB (transparent parts show the campaign colour), its shorter side cut to
    PHOTO_WORKING_SIDE: enough to cover a story image (1080×1920) without enlarging."""
    if image.mode != "RGB":
        if "A" in image.getbands() or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, backdrop), rgba)
        image = image.convert("RGB")
    scale = PHOTO_WORKING_SIDE / min(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return image


def layout(size_name: str, content: Content, design: Design) -> Plan:
    """Where every element of the image goes (the boxes and lines render draws)."""
    decoded = assets(design)
    return plan(
        SIZES[size_name],
        content,
        design,
        logo_aspect=decoded.logo_aspect,
        has_photo=decoded.photo is not None,
    )


def render(size_name: str, content: Content, design: Design) -> Image.Image:
    """The share image of `size_name` (a key of kit.design.SIZES), an RGB image."""
    layout_plan = layout(size_name, content, design)
    key = (fingerprint(design), size_name, is_rtl(content.language))
    image = _bases.get(key, lambda: _paint_base(layout_plan, assets(design))).copy()
    colours = layout_plan.palette
    draw = ImageDraw.Draw(image)

    box = layout_plan.qr
    code = _qr(content.url, box.width, colours.qr_dark)
    image.paste(code, (box.x0, box.y0), _rounded_mask(box.width, box.height, box.width // 16))

    if layout_plan.button is not None:
        on_band = "button" in layout_plan.on_band
        fill = colours.band_button if on_band else colours.button
        _rounded(image, layout_plan.button, fill, radius=layout_plan.button.height // 2)
    for block in layout_plan.blocks.values():
        draw_block(draw, block)
    return image


def render_png(size_name: str, content: Content, design: Design) -> bytes:
    """render() encoded as PNG (see PNG_OPTIONS for the compression chosen)."""
    buffer = io.BytesIO()
    render(size_name, content, design).save(buffer, "PNG", **PNG_OPTIONS)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- painting


def _paint_base(layout_plan: Plan, decoded: Assets) -> Image.Image:
    """Everything that depends on the design, size and direction only: the background
    (colour, gradient or darkened photo), the decoration or band, and the logo."""
    size, colours = layout_plan.size, layout_plan.palette
    dimensions = (size.width, size.height)
    if layout_plan.layout == "photo" and decoded.photo is not None:
        image = _darkened_photo(decoded.photo, dimensions, colours.fill, colours.photo_tint)
        image = _shade(image, layout_plan)
    elif colours.fill_end is not None:
        image = _gradient(dimensions, colours.fill, colours.fill_end)
    else:
        image = Image.new("RGB", dimensions, colours.fill)
    draw = ImageDraw.Draw(image)
    if layout_plan.decoration and colours.decoration:
        x, y, radius = layout_plan.decoration
        _disc(image, x, y, radius, colours.decoration)
    if layout_plan.band is not None and colours.band:
        draw.rectangle(_corners(layout_plan.band), fill=colours.band)
    if layout_plan.logo is not None and decoded.logo is not None:
        on_band = layout_plan.band is not None and layout_plan.band.contains(layout_plan.logo)
        behind = colours.band if on_band and colours.band else colours.surfaces[0]
        _paste_logo(image, decoded.logo, layout_plan.logo, behind, layout_plan.rtl)
    return image


def _darkened_photo(photo, dimensions, tint, amount) -> Image.Image:
    """The photo cut to fill the image (centred, a little above the middle, where faces
    and horizons tend to be) and covered by the tint: strong enough that white text
    keeps 4.5:1 contrast even on the photo's whitest pixel (layouts.photo_tint)."""
    w, h = dimensions
    scale = max(w / photo.width, h / photo.height)
    crop_w, crop_h = w / scale, h / scale
    left = (photo.width - crop_w) * 0.5
    top = (photo.height - crop_h) * 0.42
    fitted = photo.resize(
        dimensions,
        Image.Resampling.LANCZOS,
        box=(left, top, left + crop_w, top + crop_h),
        reducing_gap=2.0,
    )
    return Image.blend(fitted, Image.new("RGB", dimensions, tint), amount)


def _shade(image: Image.Image, layout_plan: Plan) -> Image.Image:
    """Darken further where the text sits (the bottom, or the text column's side), as
    designers do, so the photo shows most where there is no text."""
    w, h = image.size
    if layout_plan.shade == "bottom":
        ramp = Image.linear_gradient("L").resize((w, h))  # Black at the top, white below.
    else:
        ramp = Image.linear_gradient("L").rotate(90, expand=True).resize((w, h))
        if not layout_plan.rtl:
            ramp = ImageOps.mirror(ramp)
    ramp = ramp.point(lambda v: round(v * 0.45))
    return Image.composite(Image.new("RGB", (w, h), (0, 0, 0)), image, ramp)


def _gradient(dimensions, top, bottom) -> Image.Image:
    w, h = dimensions
    ramp = Image.linear_gradient("L").resize((w, h))
    return Image.composite(
        Image.new("RGB", dimensions, bottom), Image.new("RGB", dimensions, top), ramp
    )


def _disc(image, x, y, radius, colour) -> None:
    """A smooth (anti-aliased) disc, drawn at 4× and reduced."""
    box = _clamp(Box(x - radius, y - radius, x + radius, y + radius), image.size)
    if box.width <= 0 or box.height <= 0:
        return
    scale = 4
    mask = Image.new("L", (box.width * scale, box.height * scale), 0)
    ImageDraw.Draw(mask).ellipse(
        (
            (x - radius - box.x0) * scale,
            (y - radius - box.y0) * scale,
            (x + radius - box.x0) * scale,
            (y + radius - box.y0) * scale,
        ),
        fill=255,
    )
    mask = mask.reduce(scale)
    image.paste(Image.new("RGB", mask.size, colour), (box.x0, box.y0), mask)


def _paste_logo(image, logo, room: Box, behind, rtl) -> None:
    """The logo scaled to fit `room` (its transparency kept), at the room's top start.
    A transparent logo that would not stand out from the background (a dark logo on a
    dark colour) gets a rounded plate of white or ink behind it."""
    scale = min(room.width / logo.width, room.height / logo.height)
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    fitted = logo.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    x = room.x1 - size[0] if rtl else room.x0
    y = room.y0
    alpha = fitted.getchannel("A")
    if alpha.getextrema()[0] < 255:
        ink = _visible_colour(fitted)
        if ink is not None and contrast(ink, behind) < 2.0:
            pad = max(4, round(size[1] * 0.14))
            plate = Box(x - pad, y - pad, x + size[0] + pad, y + size[1] + pad)
            plate = _clamp(plate, image.size)
            _rounded(image, plate, readable_on(ink), radius=pad * 2)
    image.paste(fitted, (x, y), alpha)


def _visible_colour(logo: Image.Image):
    """The average colour of a logo's pixels, weighted by their opacity."""
    small = logo.resize((32, max(1, round(32 * logo.height / logo.width))))
    alpha = small.getchannel("A")
    weight = ImageStat.Stat(alpha).sum[0]
    if not weight:
        return None
    # multiply() gives colour × alpha / 255 per pixel; summed, over the summed alpha.
    return tuple(
        round(
            255 * ImageStat.Stat(ImageChops.multiply(small.getchannel(band), alpha)).sum[0] / weight
        )
        for band in "RGB"
    )


def _rounded(image, box: Box, fill, radius: int) -> None:
    mask = _rounded_mask(box.width, box.height, radius)
    image.paste(Image.new("RGB", mask.size, fill), (box.x0, box.y0), mask)


@functools.lru_cache(maxsize=64)
def _rounded_mask(width: int, height: int, radius: int) -> Image.Image:
    """An anti-aliased rounded-rectangle mask (drawn at 4× and reduced)."""
    scale = 4
    mask = Image.new("L", (width * scale, height * scale), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        (0, 0, width * scale - 1, height * scale - 1), radius=radius * scale, fill=255
    )
    return mask.reduce(scale)


@functools.lru_cache(maxsize=64)
def _qr(url: str, side: int, dark) -> Image.Image:
    """The QR code of `url` on white, `side` pixels square, modules in `dark`."""
    code = qr_image(url, side, dark="#{:02x}{:02x}{:02x}".format(*dark), light="#ffffff")
    if code.size != (side, side):
        # An address too long for whole-pixel modules at this size: scale it to fit.
        code = code.resize((side, side), Image.Resampling.NEAREST)
    return code


def _corners(box: Box) -> tuple[int, int, int, int]:
    """Pillow's inclusive rectangle corners for a box."""
    return (box.x0, box.y0, box.x1 - 1, box.y1 - 1)


def _clamp(box: Box, size) -> Box:
    return Box(max(0, box.x0), max(0, box.y0), min(size[0], box.x1), min(size[1], box.y1))
