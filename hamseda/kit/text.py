"""Text on kit images: fonts, shaping, word wrapping and fitting a text into a box.

Shaping is HarfBuzz and FriBiDi through Pillow's raqm layout, so Arabic-script letters
join, and Latin words, digits and hashtags inside a Dari or Pashto sentence come out in
the right order. Each line is shaped as a whole, in the direction of its text.

We ship one family, Vazirmatn (Latin, Arabic script with every Dari and Pashto letter,
Latin and Eastern digits). Characters it lacks (emoji, Cyrillic, CJK, …) are dropped
before shaping rather than drawn as blank gaps: a fallback font would mean splitting
lines into runs per font, and we bundle no other font (Debian's Noto is not shipped).
A title with nothing drawable left is replaced by the campaign's name (kit.layouts).

Fitting a text into a box is fit_text() (see its numbered steps); place() puts the
fitted lines in the box and records where their ink is, which tests check.
"""

import functools
import re
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parent / "fonts"
REGULAR = str(FONTS / "Vazirmatn-Regular.ttf")
BOLD = str(FONTS / "Vazirmatn-Bold.ttf")
ELLIPSIS = "…"

# Words are measured once at this size; widths at other sizes are proportional (raqm
# advances are unhinted, so the estimate is exact to a fraction of a pixel).
REFERENCE_SIZE = 100

# Bidi controls and joiners carry no glyph but matter: keep them even though the
# font's character map does not list them all.
_INVISIBLE_KEPT = frozenset("\u200c\u200d\u200e\u200f\u061c\u2066\u2067\u2068\u2069")
_FSI, _PDI = "\u2068", "\u2069"
# Split words on spaces, but not on no-break spaces, which the author put there to
# keep two words together.
_SPACES = re.compile(r"[ \t\n\r\f\v\u1680\u2000-\u200a\u2028\u2029\u205f\u3000]+")
# A hashtag or handle: isolated for the bidi algorithm, so "#BanTaliban" inside a Dari
# sentence keeps its "#" in front instead of being flipped to "BanTaliban#".
_TAG = re.compile(r"[#@][\w\u200c\u200d]+")
# Arabic-script letters (not digits: ۴۱ is a number, in either direction).
_ARABIC = re.compile(
    r"[\u0620-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]"
)


@functools.lru_cache(maxsize=256)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The font at `path` in `size` pixels, loaded once per process.

    Shared between threads: under the GIL, Pillow calls FreeType with the GIL held, so
    one face is never used by two threads at once."""
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)


def font_path(bold: bool) -> str:
    return BOLD if bold else REGULAR


@functools.lru_cache(maxsize=8)
def covered_characters(path: str) -> frozenset[int]:
    """The code points the font at `path` has a glyph for (its 'cmap' table)."""
    data = Path(path).read_bytes()
    tables = {}
    for index in range(struct.unpack_from(">H", data, 4)[0]):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
        tables[tag] = offset
    cmap = tables[b"cmap"]
    points: set[int] = set()
    for index in range(struct.unpack_from(">H", data, cmap + 2)[0]):
        _platform, _encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * index)
        points |= _read_subtable(data, cmap + offset)
    return frozenset(points)


def _read_subtable(data: bytes, at: int) -> set[int]:
    """Code points of one cmap subtable: formats 4 (BMP) and 12 (all planes)."""
    kind = struct.unpack_from(">H", data, at)[0]
    points: set[int] = set()
    if kind == 4:
        segments = struct.unpack_from(">H", data, at + 6)[0] // 2
        ends = struct.unpack_from(f">{segments}H", data, at + 14)
        starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
        deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 4 * segments)
        ranges_at = at + 16 + 6 * segments
        offsets = struct.unpack_from(f">{segments}H", data, ranges_at)
        for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
            for point in range(start, end + 1):
                if point == 0xFFFF:
                    continue
                if offsets[i] == 0:
                    glyph = (point + deltas[i]) & 0xFFFF
                else:
                    where = ranges_at + 2 * i + offsets[i] + 2 * (point - start)
                    glyph = struct.unpack_from(">H", data, where)[0]
                    glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
                if glyph:
                    points.add(point)
    elif kind == 12:
        groups = struct.unpack_from(">I", data, at + 12)[0]
        for i in range(groups):
            start, end, _glyph = struct.unpack_from(">III", data, at + 16 + 12 * i)
            points.update(range(start, end + 1))
    return points


def clean(text: str, path: str = REGULAR) -> str:
    """`text` ready to shape: NFC, one space between words, no control characters and
    no characters the font cannot draw (see the module docstring)."""
    covered = covered_characters(path)
    kept = []
    for char in unicodedata.normalize("NFC", text or ""):
        if char in _INVISIBLE_KEPT:
            kept.append(char)
        elif _SPACES.fullmatch(char):
            kept.append(" ")
        elif ord(char) in covered and unicodedata.category(char)[0] != "C":
            kept.append(char)
    return _SPACES.sub(" ", "".join(kept)).strip()


def direction_of(text: str, language: str) -> str:
    """ "rtl" or "ltr": the language's own direction if the text has a letter of that
    direction, else the other one if it has such letters (an English phrase not yet
    translated on a Dari image reads left to right), else the language's direction.
    Hashtags do not count: they are isolated (see _TAG)."""
    classes = {unicodedata.bidirectional(char) for char in _TAG.sub("", text)}
    rtl_language = language in ("fa", "ps")
    has_rtl = bool(classes & {"R", "AL"})
    has_ltr = "L" in classes
    if rtl_language:
        return "rtl" if has_rtl or not has_ltr else "ltr"
    return "ltr" if has_ltr or not has_rtl else "rtl"


def bidi_form(text: str) -> str:
    """The string handed to raqm: each hashtag wrapped in first-strong isolates."""
    return _TAG.sub(lambda match: f"{_FSI}{match.group(0)}{_PDI}", text)


@dataclass(frozen=True)
class Style:
    """How one text block is set: weight, language and the direction of its text."""

    bold: bool
    language: str
    direction: str

    @classmethod
    def for_text(cls, text: str, language: str, *, bold: bool) -> "Style":
        return cls(bold=bold, language=language, direction=direction_of(text, language))

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        return load_font(font_path(self.bold), size)

    def length(self, text: str, size: int) -> float:
        """The advance width of `text` shaped as one line."""
        return self.font(size).getlength(
            bidi_form(text), direction=self.direction, language=self.language
        )

    def ink(self, text: str, size: int, anchor: str) -> tuple[int, int, int, int]:
        """The ink box of `text` drawn at (0, 0) with `anchor`."""
        return self.font(size).getbbox(
            bidi_form(text), direction=self.direction, language=self.language, anchor=anchor
        )


@functools.lru_cache(maxsize=8192)
def _reference_width(style: Style, word: str) -> float:
    return style.length(word, REFERENCE_SIZE)


@functools.lru_cache(maxsize=16)
def _reference_extent(style: Style, arabic: bool) -> tuple[float, float]:
    """Ink above and below the baseline, as fractions of the size, of the tallest and
    deepest letters of the script (used to estimate a block's height)."""
    sample = "آأإلاٌكگځښږډۍېيپچ" if arabic else "ÁÉÍÅbdfhklgjpqy|"
    direction = "rtl" if arabic else "ltr"
    font = style.font(REFERENCE_SIZE)
    _x0, top, _x1, bottom = font.getbbox(sample, direction=direction, anchor="ls")
    return -top / REFERENCE_SIZE, bottom / REFERENCE_SIZE


@dataclass(frozen=True)
class FittedText:
    """Lines of a text set at one size; `above`/`below` are the ink above the first
    baseline and below the last one, `pitch` the distance between baselines."""

    lines: tuple[str, ...]
    size: int
    style: Style
    pitch: int
    above: int
    below: int
    widths: tuple[int, ...]
    truncated: bool

    @property
    def height(self) -> int:
        if not self.lines:
            return 0
        return self.above + self.pitch * (len(self.lines) - 1) + self.below

    @property
    def width(self) -> int:
        return max(self.widths, default=0)

    @property
    def font(self) -> ImageFont.FreeTypeFont:
        return self.style.font(self.size)


def line_spacing(text: str) -> float:
    """Baseline-to-baseline distance in sizes: Arabic script needs room for its dots
    and marks above and below; Latin sets tighter."""
    return 1.45 if _ARABIC.search(text) else 1.16


def fit_text(
    text: str,
    width: int,
    height: int,
    *,
    language: str,
    bold: bool = False,
    max_size: int,
    min_size: int,
    max_lines: int | None = None,
    balance: bool = True,
) -> FittedText:
    """Set `text` in the largest size that fits a box of `width` × `height` pixels.

    1. Clean the text (clean()): one space between words, no characters the font lacks.
    2. Split it into words and measure each word once, at the reference size; widths
       at any size are proportional, so trying a size costs no shaping.
    3. Binary-search the largest size in [min_size, max_size] at which the words,
       wrapped greedily, make at most `max_lines` lines no wider than `width`, whose
       estimated height is within `height`.
       With `balance`, wrap again at the narrowest width that gives as many lines.
    4. Shape each line of that size as a whole and take its real ink box: if a line is
       wider or the block taller than the box (an estimate off by a pixel), try one
       size smaller.
    5. If not even min_size fits, set the text in min_size: words wider than the box
       are broken, the lines that fit are kept, and the last one ends with "…" (words,
       then letters, are removed until it fits). Nothing ever leaves the box.
    """
    width, height = max(1, int(width)), max(1, int(height))
    text = clean(text, font_path(bold))
    style = Style.for_text(text, language, bold=bold)
    spacing = line_spacing(text)
    if not text or min_size > max_size:
        return FittedText((), min_size, style, min_size, 0, 0, (), truncated=False)
    # Bound the work for absurd input: more characters than the box could hold at
    # the minimum size (a letter is wider than a fifth of the size) cannot fit.
    capacity = (width * 5 // min_size + 1) * (height // min_size + 1)
    words = text[:capacity].split(" ")
    if len(text) > capacity:
        return _truncate(words, width, height, min_size, style, spacing, max_lines, cut=True)
    arabic = bool(_ARABIC.search(text))
    above, below = _reference_extent(style, arabic)

    def lines_at(size: int, limit: float) -> tuple[str, ...] | None:
        """Step 3: the greedy wrap at `size` within `limit`, if its height fits."""
        scale = size / REFERENCE_SIZE
        space = _reference_width(style, " ") * scale
        widths = [_reference_width(style, word) * scale * 1.01 for word in words]
        lines = _wrap(words, widths, space, limit, max_lines)
        if lines is None:
            return None
        block = size * (above + below) + round(size * spacing) * (len(lines) - 1)
        return lines if block <= height else None

    low, high, best = min_size, max_size, None
    while low <= high:
        size = (low + high) // 2
        if lines_at(size, width) is None:
            high = size - 1
        else:
            best, low = size, size + 1
    size = best
    while size is not None and size >= min_size:
        lines = lines_at(size, width)
        if lines is not None:
            if balance:
                lines = _balance(lines, lambda limit, size=size: lines_at(size, limit), width)
            fitted = _measure(lines, size, style, spacing, truncated=False)
            if fitted.width <= width and fitted.height <= height:
                return fitted
        size -= 1
    return _truncate(words, width, height, min_size, style, spacing, max_lines)


def _balance(lines, lines_at, width) -> tuple[str, ...]:
    """The same number of lines, wrapped at the narrowest width that keeps it: lines
    of even length, and no last word left alone on its line (CSS's text-wrap: balance)."""
    if len(lines) < 2:
        return lines
    low, high = 1, width
    while low < high:
        middle = (low + high) // 2
        tried = lines_at(middle)
        if tried is not None and len(tried) <= len(lines):
            high = middle
        else:
            low = middle + 1
    return lines_at(low) or lines


def _wrap(words, widths, space, width, max_lines) -> tuple[str, ...] | None:
    """Greedy wrap by estimated widths; None when a word is wider than the line or
    there would be more than max_lines lines."""
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word, word_width in zip(words, widths, strict=True):
        if word_width > width:
            return None
        if current and used + space + word_width <= width:
            current.append(word)
            used += space + word_width
            continue
        if current:
            lines.append(" ".join(current))
            if max_lines is not None and len(lines) >= max_lines:
                return None
        current, used = [word], word_width
    if current:
        lines.append(" ".join(current))
    return tuple(lines)


def _measure(lines, size, style, spacing, *, truncated) -> FittedText:
    """Shape every line at `size` and record its real width and the block's ink."""
    anchor = "rs" if style.direction == "rtl" else "ls"
    boxes = [style.ink(line, size, anchor) for line in lines]
    widths = tuple(
        max(x1 - x0, round(style.length(line, size)))
        for line, (x0, _y0, x1, _y1) in zip(lines, boxes, strict=True)
    )
    return FittedText(
        lines=tuple(lines),
        size=size,
        style=style,
        pitch=round(size * spacing),
        above=max(0, -boxes[0][1]),
        below=max(0, boxes[-1][3]),
        widths=widths,
        truncated=truncated,
    )


def _truncate(words, width, height, size, style, spacing, max_lines, cut=False) -> FittedText:
    """Step 5 of fit_text: the minimum size, as many lines as fit, then "…"."""
    pitch = round(size * spacing)
    above, below = _reference_extent(style, bool(_ARABIC.search(" ".join(words))))
    room = max(1, int((height - size * (above + below)) // pitch) + 1)
    if max_lines is not None:
        room = min(room, max_lines)

    def fits(line: str) -> bool:
        # A tenth of the size to spare for ink that overhangs the advance (checked
        # for real by _measure below).
        return style.length(line, size) <= width - size / 10

    lines: list[str] = []
    current = ""
    truncated = cut  # The text was already cut to what the box could ever hold.
    for word in words:
        for piece in [word] if fits(word) else _break_word(word, fits):
            candidate = f"{current} {piece}" if current else piece
            if fits(candidate) or not current:
                current = candidate
                continue
            lines.append(current)
            current = piece
            if len(lines) == room:
                break
        if len(lines) == room:
            truncated = True
            break
    else:
        lines.append(current)
    while True:
        if truncated:
            lines[-1] = _with_ellipsis(lines[-1], fits)
        fitted = _measure(lines, size, style, spacing, truncated=truncated)
        if (fitted.height <= height and fitted.width <= width) or len(lines) == 1:
            break
        # The real ink is taller than the estimate: give up the last line.
        lines, truncated = lines[:-1], True
    if fitted.width > width or fitted.height > height:
        # Not even one line of the minimum size fits this box: draw nothing.
        return FittedText((), size, style, pitch, 0, 0, (), truncated=True)
    return fitted


def _break_word(word: str, fits) -> list[str]:
    """A word wider than the line, in pieces that fit, broken between characters
    (never before a combining mark or a joiner); each break is found by bisection."""
    pieces = []
    while word:
        low, high = 1, len(word)
        while low < high:
            middle = (low + high + 1) // 2
            if fits(word[:middle]):
                low = middle
            else:
                high = middle - 1
        cut = low
        while 1 < cut < len(word) and _attached(word[cut]):
            cut -= 1
        pieces.append(word[:cut])
        word = word[cut:]
    return pieces


def _attached(char: str) -> bool:
    return bool(unicodedata.combining(char)) or char in _INVISIBLE_KEPT


def _with_ellipsis(line: str, fits) -> str:
    """`line` ending in "…", shortened by words, then letters, until it fits."""
    words = line.split(" ")
    while len(words) > 1 and not fits(" ".join(words) + ELLIPSIS):
        words.pop()
    line = " ".join(words)
    while line and not fits(line + ELLIPSIS):
        line = line[:-1]
        while line and _attached(line[-1]):
            line = line[:-1]
    return line.rstrip() + ELLIPSIS


@dataclass(frozen=True)
class Box:
    """A rectangle in image pixels: x0, y0 inclusive, x1, y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def contains(self, other: "Box") -> bool:
        return (
            self.x0 <= other.x0
            and self.y0 <= other.y0
            and other.x1 <= self.x1
            and other.y1 <= self.y1
        )

    def mirrored(self, image_width: int) -> "Box":
        return Box(image_width - self.x1, self.y0, image_width - self.x0, self.y1)


@dataclass(frozen=True)
class PlacedLine:
    text: str
    x: int  # Where the anchor is: the start of the line, or its end for right-aligned.
    baseline: int
    anchor: str  # Pillow's text anchor: "ls", "ms" or "rs".
    ink: Box  # Where its pixels are.


@dataclass(frozen=True)
class TextBlock:
    """A text set in its box: what render draws and what tests check."""

    name: str
    box: Box
    fitted: FittedText
    lines: tuple[PlacedLine, ...]
    colour: tuple[int, int, int]

    @property
    def ink(self) -> Box | None:
        if not self.lines:
            return None
        return Box(
            min(line.ink.x0 for line in self.lines),
            min(line.ink.y0 for line in self.lines),
            max(line.ink.x1 for line in self.lines),
            max(line.ink.y1 for line in self.lines),
        )


def place(
    name: str,
    fitted: FittedText,
    box: Box,
    *,
    align: str,
    valign: str = "top",
    top: int | None = None,
    colour: tuple[int, int, int] = (0, 0, 0),
) -> TextBlock:
    """Position fitted lines in `box`: aligned "left", "right" or "center", the block at
    the box's "top", "middle" or "bottom" (or with its ink's top at `top`, kept inside
    the box). Lines are nudged back inside the box when a glyph's ink overhangs its
    advance (a swash, a final ی)."""
    anchor = {"left": "ls", "right": "rs", "center": "ms"}[align]
    x = {"left": box.x0, "right": box.x1, "center": (box.x0 + box.x1) // 2}[align]
    spare = box.height - fitted.height
    if top is None:
        top = box.y0 + {"top": 0, "middle": spare // 2, "bottom": spare}[valign]
    top = max(box.y0, min(top, box.y1 - fitted.height))
    placed = []
    for index, line in enumerate(fitted.lines):
        baseline = top + fitted.above + index * fitted.pitch
        x0, y0, x1, y1 = fitted.style.ink(line, fitted.size, anchor)
        shift = max(0, box.x0 - (x + x0)) - max(0, (x + x1) - box.x1)
        ink = Box(x + x0 + shift, baseline + y0, x + x1 + shift, baseline + y1)
        placed.append(PlacedLine(line, x + shift, baseline, anchor, ink))
    return TextBlock(name, box, fitted, tuple(placed), colour)


def draw_block(draw: ImageDraw.ImageDraw, block: TextBlock, fill=None) -> None:
    """Draw a placed block's lines, each shaped as a whole."""
    style = block.fitted.style
    for line in block.lines:
        draw.text(
            (line.x, line.baseline),
            bidi_form(line.text),
            font=block.fitted.font,
            fill=fill or block.colour,
            anchor=line.anchor,
            direction=style.direction,
            language=style.language,
        )
