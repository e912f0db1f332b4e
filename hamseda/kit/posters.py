"""Printable posters (placards) for a protest: PDF in A4 or A3 portrait, one language a page.

A poster is an HTML template (kit/poster.html with kit/poster.css) rendered by WeasyPrint.
Pango shapes Dari and Pashto with the bundled Vazirmatn fonts, the text stays real text
in the PDF (searchable, copyable, readable by screen readers), and the QR code is a
vector that scans sharply at any print size.

Fitting: HTML has no "shrink to fit", so the title's font size is computed here. Pillow
measures each word with the same font and the same shaping engine (HarfBuzz through
raqm), the words are laid out greedily as Pango would break them at spaces, and the
largest size whose lines fit the title's box wins. The boxes also clip (CSS), so a poster
is one page even if the estimate were ever wrong.

WeasyPrint fetches nothing from the network: its URL fetcher only serves `data:` URLs
and the bundled font files (PRIVACY.md rule 6: no third parties; and a title can never
smuggle in a request, since the template escapes it anyway).
"""

import base64
import io
import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image, ImageFile, ImageFont, UnidentifiedImageError
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from hamseda.kit.design import Content, Design, is_rtl
from hamseda.kit.frame import readable_on, text_direction
from hamseda.kit.numbers import count_phrase
from hamseda.kit.qr import qr_svg

# Importing WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES to True for the whole
# process (weasyprint/images.py), so that a broken image on a web page still prints.
# Posters embed only images made here; everywhere else a truncated upload must be
# refused, so Pillow's default is put back. (kit.frame does not rely on it either.)
ImageFile.LOAD_TRUNCATED_IMAGES = False

FONTS_DIR = (Path(__file__).parent / "fonts").resolve()
REGULAR_FONT = FONTS_DIR / "Vazirmatn-Regular.ttf"
BOLD_FONT = FONTS_DIR / "Vazirmatn-Bold.ttf"

MM_PER_PT = 25.4 / 72


@dataclass(frozen=True)
class Paper:
    name: str
    width_mm: float
    height_mm: float

    @property
    def scale(self) -> float:
        """Every length on the poster is designed for A4 and multiplied by this."""
        return self.width_mm / 210


PAPERS: dict[str, Paper] = {
    "A4": Paper("A4", 210, 297),
    "A3": Paper("A3", 297, 420),
}

# The title's box on an A4 poster, in millimetres (kit/poster.css places it), and the
# range of its font size in points. Other papers scale all of these.
TITLE_BOX_MM = (182.0, 112.0)
TITLE_LINE_HEIGHT = 1.12
TITLE_MAX_PT = 100.0
TITLE_MIN_PT = 16.0
HASHTAG_BOX_MM = 182.0
HASHTAG_MAX_PT = 48.0
# The column beside the QR code, for the count and the call to action.
WORDS_WIDTH_MM = 74.0
COUNT_MAX_PT = 26.0
CTA_MAX_PT = 32.0
# Pango and Pillow use the same font and shaper, but rounding and kerning at different
# sizes differ a little; this margin keeps a line computed to fit from wrapping in PDF.
FIT_MARGIN = 0.96


class PosterError(ValueError):
    """A poster cannot be made with these arguments (for instance an unknown paper)."""


def poster_pdf(content: Content, design: Design, paper: str) -> bytes:
    """One poster in `content.language`, as a one-page PDF on `paper` ("A4" or "A3")."""
    return posters_pdf([content], design, paper)


def posters_pdf(contents: list[Content], design: Design, paper: str) -> bytes:
    """Several posters in one PDF, one page each, in the order given: for a bilingual
    protest, print the English and the Dari page from one file."""
    if paper not in PAPERS:
        raise PosterError(f"Unknown paper {paper!r}; choose one of {', '.join(PAPERS)}.")
    if not contents:
        raise PosterError("A poster needs at least one language.")
    sheet = PAPERS[paper]
    logo_uri = _logo_data_uri(design.logo)
    fetcher = LocalOnlyFetcher()
    documents = [_render(content, design, sheet, logo_uri, fetcher) for content in contents]
    pages = [document.pages[0] for document in documents]
    return documents[0].copy(pages).write_pdf()


def _render(content: Content, design: Design, sheet: Paper, logo_uri: str | None, fetcher):
    """The WeasyPrint document of one poster, which has exactly one page.

    Every box has a fixed height and clips, and the title's size is computed to fit,
    so a second page should never happen; if the measurement were ever off, the text
    is made smaller and the poster rendered again, and in the end only its first page
    is kept (a placard is one sheet)."""
    shrink = 1.0
    for _attempt in range(3):
        # One FontConfiguration per document: WeasyPrint keeps the fonts it loaded there.
        fonts = FontConfiguration()
        context = _poster_context(content, design, sheet, logo_uri, shrink=shrink)
        with translation.override(content.language):
            html = render_to_string("kit/poster.html", context)
            css = render_to_string("kit/poster.css", context)
        stylesheet = CSS(string=css, font_config=fonts, url_fetcher=fetcher)
        document = HTML(string=html, url_fetcher=fetcher, base_url=FONTS_DIR.as_uri() + "/")
        rendered = document.render(stylesheets=[stylesheet], font_config=fonts)
        if len(rendered.pages) == 1:
            break
        shrink *= 0.8
    return rendered


class LocalOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher, restricted to `data:` URLs and the bundled fonts.

    Anything else (http, https, ftp, any other file) is refused before a socket or a
    file is opened; WeasyPrint then leaves that resource out and logs the refusal.
    `refused` lists the URLs refused, for tests."""

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols=("data", "file"), **kwargs)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if path.parent == FONTS_DIR and path.suffix == ".ttf" and path.is_file():
                return URLFetcherResponse(
                    url, path.read_bytes(), headers={"Content-Type": "font/ttf"}
                )
        self.refused.append(url)
        raise ValueError(f"Documents made here only use embedded resources, not {url}")


def _poster_context(
    content: Content, design: Design, sheet: Paper, logo_uri: str | None, *, shrink: float = 1.0
) -> dict:
    language = content.language
    rtl = is_rtl(language)
    scale = sheet.scale
    title_pt = fit_font_size(
        content.title,
        BOLD_FONT,
        box_mm=(TITLE_BOX_MM[0] * scale, TITLE_BOX_MM[1] * scale),
        max_pt=TITLE_MAX_PT * scale,
        min_pt=TITLE_MIN_PT * scale,
        line_height=TITLE_LINE_HEIGHT,
        language=language,
    )
    hashtags = [_hashtag(tag) for tag in content.hashtags if tag.strip("# ")]
    hashtag_pt = _one_line_size(
        hashtags, HASHTAG_BOX_MM * scale, HASHTAG_MAX_PT * scale, 12 * scale, language
    )
    with translation.override(language):
        call_to_action = content.call_to_action or gettext("Sign the petition")
        scan = gettext("Scan the code with your phone's camera to sign.")
        phrase = count_phrase(
            content.count, content.count_is_exact, language, design.eastern_digits
        )
    words_box = WORDS_WIDTH_MM * scale
    count_pt = fit_font_size(
        phrase,
        BOLD_FONT,
        box_mm=(words_box, 42 * scale),
        max_pt=COUNT_MAX_PT * scale,
        min_pt=9 * scale,
        line_height=1.25,
        language=language,
    )
    cta_pt = fit_font_size(
        call_to_action,
        BOLD_FONT,
        box_mm=(words_box, 30 * scale),
        max_pt=CTA_MAX_PT * scale,
        min_pt=9 * scale,
        line_height=1.2,
        language=language,
    )
    return {
        "content": content,
        "language": language,
        "direction": "rtl" if rtl else "ltr",
        "paper": sheet,
        "scale": scale,
        "mm": round(scale, 5),
        "title_pt": round(title_pt * shrink, 2),
        "title_direction": text_direction(content.title, rtl),
        "title_line_height": TITLE_LINE_HEIGHT,
        "hashtags": [(tag, text_direction(tag)) for tag in hashtags],
        "hashtag_pt": round(hashtag_pt, 2),
        "count_phrase": phrase,
        "count_direction": text_direction(phrase, rtl),
        "count_pt": round(count_pt * shrink, 2),
        "cta_pt": round(cta_pt * shrink, 2),
        "call_to_action": call_to_action,
        "call_to_action_direction": text_direction(call_to_action, rtl),
        "scan": scan,
        "scan_direction": text_direction(scan, rtl),
        "campaign_name": content.campaign_name,
        "campaign_name_direction": text_direction(content.campaign_name, rtl),
        # Paragraphs keep the page's side even when their own text runs the other way
        # (an English call to action on a Dari poster, before it is translated).
        "align": "right" if rtl else "left",
        "colour": _safe_colour(design.colour, "#1f6f5c"),
        "accent": _safe_colour(design.accent, "#f2c14e"),
        "on_colour": readable_on(design.colour),
        "logo_uri": logo_uri,
        "qr_uri": _svg_data_uri(qr_svg(content.url)),
        "url_shown": _short_url(content.url),
        "regular_font_url": REGULAR_FONT.as_uri(),
        "bold_font_url": BOLD_FONT.as_uri(),
    }


def fit_font_size(
    text: str,
    font_path: Path,
    *,
    box_mm: tuple[float, float],
    max_pt: float,
    min_pt: float,
    line_height: float,
    language: str,
) -> float:
    """The largest font size in points (between min_pt and max_pt, in half points)
    at which `text`, wrapped at spaces, fits a box of box_mm (width, height).

    At min_pt the text may still not fit (an absurdly long title): the template's box
    then clips it, and the poster stays one page."""
    width_pt = box_mm[0] / MM_PER_PT * FIT_MARGIN
    height_pt = box_mm[1] / MM_PER_PT
    words = text.split()
    if not words:
        return max_pt
    # Widths at a 100 pt reference size; the width of shaped text scales linearly.
    widths = [_text_width(word, font_path, language) for word in words]
    space = _text_width(" ", font_path, language)
    size = max_pt
    while size > min_pt:
        if _lines_needed(widths, space, size, width_pt) * line_height * size <= height_pt:
            return size
        size -= 0.5
    return min_pt


def _one_line_size(
    items: list[str], width_mm: float, max_pt: float, min_pt: float, language: str
) -> float:
    """The font size at which `items` fit on one line, each set apart by a space and
    half an em (kit/poster.css: .hashtag + .hashtag), between min_pt and max_pt."""
    if not items:
        return max_pt
    width_at_100 = sum(_text_width(item, BOLD_FONT, language) for item in items)
    width_at_100 += (len(items) - 1) * (_text_width(" ", BOLD_FONT, language) + 50)
    fitting = width_mm / MM_PER_PT * FIT_MARGIN / width_at_100 * 100
    return max(min_pt, min(max_pt, math.floor(fitting * 2) / 2))


def _lines_needed(widths: list[float], space: float, size: float, line_pt: float) -> int:
    """How many lines greedy wrapping at spaces takes; a word wider than a line is
    broken anywhere (CSS overflow-wrap: anywhere) and takes as many lines as it needs."""
    scale = size / 100
    lines, used = 1, 0.0
    for width in widths:
        width *= scale
        if used == 0:
            if width > line_pt:
                extra = math.ceil(width / line_pt)
                lines += extra - 1
                used = width - (extra - 1) * line_pt
            else:
                used = width
        elif used + space * scale + width <= line_pt:
            used += space * scale + width
        else:
            lines += 1
            used = 0
            if width > line_pt:
                extra = math.ceil(width / line_pt)
                lines += extra - 1
                used = width - (extra - 1) * line_pt
            else:
                used = width
    return lines


@lru_cache(maxsize=4096)
def _text_width(text: str, font_path: Path, language: str) -> float:
    """Width in points of `text` at 100 pt, shaped by raqm as Pango would shape it."""
    font = _font(font_path)
    direction = "rtl" if text_direction(text) == "rtl" else "ltr"
    return font.getlength(text, direction=direction, language=_raqm_language(language))


_fonts = threading.local()


def _font(font_path: Path) -> ImageFont.FreeTypeFont:
    """The font at 100 pt, one per thread: a FreeType face must not be used by two
    threads at once."""
    cache = _fonts.__dict__.setdefault("by_path", {})
    if font_path not in cache:
        cache[font_path] = ImageFont.truetype(
            str(font_path), 100, layout_engine=ImageFont.Layout.RAQM
        )
    return cache[font_path]


def _raqm_language(language: str) -> str:
    # Pashto and Dari are written with the Persian conventions Vazirmatn knows as "fa".
    return {"fa": "fa", "ps": "ps"}.get(language, "en")


def _hashtag(tag: str) -> str:
    return "#" + tag.strip().lstrip("#")


def _short_url(url: str) -> str:
    """The URL as printed under the QR code: without the scheme, for people to type."""
    for prefix in ("https://", "http://"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    return url


def _safe_colour(value: str, fallback: str) -> str:
    """The colour if it is "#rrggbb", else the fallback: it goes into CSS."""
    if len(value) == 7 and value[0] == "#":
        try:
            int(value[1:], 16)
        except ValueError:
            return fallback
        return value.lower()
    return fallback


def _svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _logo_data_uri(logo: bytes | None) -> str | None:
    """The campaign logo as a PNG data: URI, at most 1000 px wide (sharp at 300 dpi on
    an A3 header) and stripped of metadata; None if there is no logo or it is not an
    image Pillow can read (the poster is then made without it)."""
    if not logo:
        return None
    try:
        with Image.open(io.BytesIO(logo), formats=("PNG", "JPEG", "WEBP", "GIF")) as image:
            image.thumbnail((1000, 1000))
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA")
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
