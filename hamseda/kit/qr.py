"""QR codes (segno) for kit images and posters."""

import io

import segno
from PIL import Image


def qr_image(url: str, size: int, *, dark: str = "#000000", light: str = "#ffffff") -> Image.Image:
    """A square RGB image of `size` pixels with the QR code of `url` and its quiet zone.

    Error correction M (15%) survives a printed poster's creases and a logo-free
    centre; the modules are scaled by whole pixels, then the image is padded to `size`
    so every module stays sharp for scanners."""
    code = segno.make(url, error="m", micro=False)
    modules = code.symbol_size(scale=1, border=4)[0]
    scale = max(1, size // modules)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4, dark=dark, light=light)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB")
    if image.width != size:
        canvas = Image.new("RGB", (size, size), light)
        offset = (size - image.width) // 2
        canvas.paste(image, (offset, offset))
        image = canvas
    return image


def qr_svg(url: str, *, dark: str = "#000000") -> str:
    """The QR code of `url` as an SVG document (for PDFs: sharp at any print size)."""
    code = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=10, border=4, dark=dark, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
