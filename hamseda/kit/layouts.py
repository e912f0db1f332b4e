"""Where everything goes on a kit image, and in which colours.

Pure geometry and colour arithmetic: no image decoding (kit.render does that and
calls plan()). Boxes are computed for left-to-right images, then mirrored for Dari and
Pashto, so the logo, the QR code and the alignment of every text swap sides.

Two grids: "tall" for the square, portrait and story images (logo at the top, QR code
at the bottom end, the title in between) and "wide" for the card, X post and banner
(a text column at the start, logo and QR code in a column at the end). All lengths are
proportions of the image, tuned at 1080 pixels wide (tall) and 630 high (wide).
"""

from dataclasses import dataclass

from hamseda.kit.design import DEFAULT_LAYOUT, LAYOUTS, Content, Design, Size, is_rtl
from hamseda.kit.numbers import count_phrase
from hamseda.kit.text import Box, TextBlock, clean, fit_text, place

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
INK: RGB = (20, 22, 26)
BLACK: RGB = (0, 0, 0)
PAPER: RGB = (248, 246, 241)
MIN_CONTRAST = 4.5  # WCAG AA for text.
QR_CONTRAST = 7.0  # QR modules against white: well inside what phone scanners need.

# ---------------------------------------------------------------------------- colours


def parse_colour(value: str, default: RGB) -> RGB:
    """ "#1f6f5c" → (31, 111, 92); anything else → `default`."""
    value = (value or "").strip().lstrip("#")
    if len(value) != 6:
        return default
    try:
        return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))
    except ValueError:
        return default


def luminance(colour: RGB) -> float:
    """WCAG relative luminance."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio, 1 to 21."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def mix(a: RGB, b: RGB, amount: float) -> RGB:
    """`a` moved `amount` (0 to 1) of the way to `b`."""
    return tuple(round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def readable_on(*backgrounds: RGB) -> RGB:
    """White, ink or black: the first that reads on every one of `backgrounds`.

    On any single colour, white or black reaches at least 4.58:1 (the worst case is a
    colour of luminance 0.18); ink, softer than black, is preferred when it is enough."""
    for candidate in (WHITE, INK, BLACK):
        if all(contrast(candidate, bg) >= MIN_CONTRAST for bg in backgrounds):
            return candidate
    return max((WHITE, BLACK), key=lambda c: min(contrast(c, bg) for bg in backgrounds))


def legible(colour: RGB, *backgrounds: RGB, minimum: float = MIN_CONTRAST) -> RGB:
    """`colour`, lightened or darkened just enough to reach `minimum` contrast on every
    background: a campaign's yellow stays yellow where it can, and reads everywhere."""
    if all(contrast(colour, bg) >= minimum for bg in backgrounds):
        return colour
    target = readable_on(*backgrounds)
    for step in range(1, 21):
        candidate = mix(colour, target, step / 20)
        if all(contrast(candidate, bg) >= minimum for bg in backgrounds):
            return candidate
    return target


@dataclass(frozen=True)
class Palette:
    """The colours of one image. `surfaces` are the colours that text in the main
    area may sit on; every text colour contrasts at least 4.5:1 with each of them."""

    surfaces: tuple[RGB, ...]
    text: RGB
    kicker: RGB
    hashtag: RGB
    button: RGB
    button_text: RGB
    qr_dark: RGB
    fill: RGB  # The solid background, or the tint laid over a photo.
    fill_end: RGB | None = None  # A gradient's other end (photo layout without a photo).
    photo_tint: float = 0.0  # How much of the tint covers the photo (0 to 1).
    decoration: RGB | None = None  # The bold layout's large disc.
    band: RGB | None = None  # The minimal layout's band of campaign colour.
    band_text: RGB | None = None
    band_button: RGB | None = None
    band_button_text: RGB | None = None


def photo_tint(tint: RGB, text: RGB = WHITE) -> tuple[float, RGB]:
    """How strongly to lay `tint` over a photo so that `text` contrasts ≥ 4.5 even on
    its whitest pixel; returns the amount and that worst-case colour."""
    for step in range(40, 101):
        amount = step / 100
        worst = mix(WHITE, tint, amount)
        if contrast(text, worst) >= MIN_CONTRAST + 0.3:  # Margin for resampling.
            return amount, worst
    return 1.0, tint


def palette(design: Design, layout_name: str, *, has_photo: bool) -> Palette:
    """The colours of `layout_name` for the campaign's colour and accent: every text
    colour is computed for at least 4.5:1 contrast with what lies behind it."""
    colour = parse_colour(design.colour, (31, 111, 92))
    accent = parse_colour(design.accent, (242, 193, 78))
    qr_dark = legible(mix(colour, INK, 0.35), WHITE, minimum=QR_CONTRAST)
    if layout_name == "minimal":
        band_button = accent if contrast(accent, colour) >= 1.6 else readable_on(colour)
        return Palette(
            surfaces=(PAPER,),
            text=INK,
            kicker=legible(mix(INK, PAPER, 0.3), PAPER),
            hashtag=legible(colour, PAPER),
            button=colour,
            button_text=readable_on(colour),
            qr_dark=qr_dark,
            fill=PAPER,
            band=colour,
            band_text=readable_on(colour),
            band_button=band_button,
            band_button_text=readable_on(band_button),
        )
    if layout_name == "photo" and has_photo:
        tint = mix(colour, BLACK, 0.6)
        amount, worst = photo_tint(tint)
        return Palette(
            surfaces=(worst,),
            text=WHITE,
            kicker=legible(mix(WHITE, worst, 0.15), worst),
            hashtag=legible(accent, worst),
            button=accent,
            button_text=readable_on(accent),
            qr_dark=qr_dark,
            fill=tint,
            photo_tint=amount,
        )
    # Shapes and gradients move the colour away from the text colour, so they only
    # ever add contrast.
    away = BLACK if readable_on(colour) == WHITE else WHITE
    if layout_name == "photo":
        # No photo uploaded (or it could not be read): a gradient of the campaign
        # colour, so the layout still differs from "bold".
        fill_end = mix(colour, away, 0.4)
        surfaces = (colour, fill_end)
        decoration = None
    else:
        decoration = mix(colour, away, 0.08)
        surfaces = (colour, decoration)
        fill_end = None
    text = readable_on(*surfaces)
    return Palette(
        surfaces=surfaces,
        text=text,
        kicker=legible(mix(text, colour, 0.2), *surfaces),
        hashtag=legible(accent, *surfaces),
        button=accent,
        button_text=readable_on(accent),
        qr_dark=qr_dark,
        fill=colour,
        fill_end=fill_end,
        decoration=decoration,
    )


# ---------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Plan:
    """Everything render() draws, where, and in which colours; tests read it too."""

    size: Size
    layout: str  # The layout used: design.layout, or the default for an unknown one.
    rtl: bool
    palette: Palette
    blocks: dict[str, TextBlock]  # kicker, title, hashtags, count, button (if any).
    qr: Box
    logo: Box | None  # Where the logo goes (its aspect kept), or None.
    button: Box | None  # The call-to-action pill.
    band: Box | None  # The minimal layout's band.
    decoration: tuple[int, int, int] | None  # The bold disc: centre x, centre y, radius.
    shade: str  # Where a photo is darkened most: "bottom" or "start".
    # Which blocks sit on the band (and take its colours).
    on_band: frozenset[str] = frozenset()


def plan(
    size: Size, content: Content, design: Design, *, logo_aspect: float | None, has_photo: bool
) -> Plan:
    """Lay out one image. `logo_aspect` is the logo's width / height (None: no logo)."""
    layout_name = design.layout if design.layout in LAYOUTS else DEFAULT_LAYOUT
    colours = palette(design, layout_name, has_photo=has_photo)
    rtl = is_rtl(content.language)
    tall = size.height >= size.width * 0.95
    grid = (_tall if tall else _wide)(size, logo_aspect, layout_name)

    def mirror(box: Box | None) -> Box | None:
        return box.mirrored(size.width) if (box is not None and rtl) else box

    start = "right" if rtl else "left"
    language = content.language
    texts = _texts(content, design)
    on_band = frozenset({"count", "button"}) if (layout_name == "minimal" and tall) else frozenset()
    blocks: dict[str, TextBlock] = {}

    def colour_of(name: str, default: RGB) -> RGB:
        return colours.band_text if name in on_band and colours.band_text else default

    def fit(key: str, width: int, height: int, sizes, *, bold=True, max_lines=None):
        low, high = sizes
        return fit_text(
            texts[key],
            width,
            height,
            language=language,
            bold=bold,
            max_size=high,
            min_size=low,
            max_lines=max_lines,
        )

    # The kicker: the campaign's name, small, at the top.
    kicker_box = mirror(grid["kicker"])
    if texts["kicker"] and kicker_box is not None:
        fitted = fit(
            "kicker",
            kicker_box.width,
            kicker_box.height,
            grid["kicker_sizes"],
            bold=False,
            max_lines=1,
        )
        blocks["kicker"] = place(
            "kicker", fitted, kicker_box, align=start, valign="middle", colour=colours.kicker
        )

    # Title and hashtags share the body: hashtags take what they need, the title the
    # rest; the pair is then set a little above the body's middle (optical centre).
    body = mirror(grid["body"])
    tag_sizes = grid["hashtag_sizes"]
    tags = fit("hashtags", body.width, grid["hashtag_room"], tag_sizes, max_lines=2)
    # The space between title and hashtags grows with the title (0.6 of its size:
    # more than between its lines, so the hashtags read as a separate element).
    largest = grid["title_sizes"][1]
    gap = max(grid["gap"], round(largest * 0.6)) if tags.lines else 0
    title_room = Box(body.x0, body.y0, body.x1, body.y1 - tags.height - gap)
    title = fit("title", title_room.width, title_room.height, grid["title_sizes"])
    if tags.lines and title.lines and tags.size > 0.8 * title.size:
        # A long title had to shrink: hashtags never outshine it.
        smaller = (tag_sizes[0], max(tag_sizes[0], round(0.8 * title.size)))
        tags = fit("hashtags", body.width, grid["hashtag_room"], smaller, max_lines=2)
    gap = max(grid["gap"], round(title.size * 0.6)) if tags.lines else 0
    group = title.height + gap + tags.height
    top = body.y0 + max(0, round((body.height - group) * grid["optical"]))
    blocks["title"] = place("title", title, title_room, align=start, top=top, colour=colours.text)
    if tags.lines:
        tags_box = Box(body.x0, top + title.height + gap, body.x1, body.y1)
        blocks["hashtags"] = place("hashtags", tags, tags_box, align=start, colour=colours.hashtag)

    # The count phrase and the call to action, at the bottom of the text column.
    count_box = mirror(grid["count"])
    count = fit(
        "count",
        count_box.width,
        count_box.height,
        grid["count_sizes"],
        max_lines=grid["count_lines"],
    )
    blocks["count"] = place(
        "count",
        count,
        count_box,
        align=start,
        valign="bottom",
        colour=colour_of("count", colours.text),
    )

    button = None
    if texts["button"]:
        room = mirror(grid["button"])
        pad = round(room.height * 0.55)
        label_sizes = (round(room.height * 0.3), round(room.height * 0.42))
        label = fit(
            "button", room.width - 2 * pad, round(room.height * 0.7), label_sizes, max_lines=1
        )
        if label.lines:
            width = label.width + 2 * pad
            x0 = room.x1 - width if rtl else room.x0
            button = Box(x0, room.y0, x0 + width, room.y1)
            inner = Box(button.x0 + pad, button.y0, button.x1 - pad, button.y1)
            on = "button" in on_band
            blocks["button"] = place(
                "button",
                label,
                inner,
                align="center",
                valign="middle",
                colour=colours.band_button_text if on else colours.button_text,
            )

    return Plan(
        size=size,
        layout=layout_name,
        rtl=rtl,
        palette=colours,
        blocks=blocks,
        qr=mirror(grid["qr"]),
        logo=mirror(grid["logo"]),
        button=button,
        band=mirror(grid["band"]) if layout_name == "minimal" else None,
        decoration=_disc(size, rtl) if colours.decoration else None,
        shade="bottom" if tall else "start",
        on_band=on_band,
    )


def _texts(content: Content, design: Design) -> dict[str, str]:
    hashtags = " ".join(tag.strip() for tag in content.hashtags if tag.strip().strip("#"))
    # A title of nothing the font can draw (only emoji, say): the campaign's name.
    title = content.title if clean(content.title) else content.campaign_name
    return {
        "kicker": content.campaign_name.strip(),
        "title": title.strip(),
        "hashtags": hashtags,
        "count": count_phrase(
            content.count, content.count_is_exact, content.language, design.eastern_digits
        ),
        "button": content.call_to_action.strip(),
    }


def _disc(size: Size, rtl: bool) -> tuple[int, int, int]:
    """The bold layout's decoration: a large disc, mostly off the top end corner."""
    radius = round(max(size.width, size.height) * 0.42)
    x = round(size.width * 1.02)
    return (size.width - x if rtl else x, round(-size.height * 0.08), radius)


def _tall(size: Size, logo_aspect: float | None, layout_name: str) -> dict:
    """Square, portrait and story: header, body, footer."""
    w, h = size.width, size.height
    u = w / 1080

    def px(value: float) -> int:
        return round(value * u)

    margin = px(80)
    story = h / w > 1.6
    # Stories: the apps draw their own bars over the top and bottom; keep out of them.
    top = max(margin, round(h * 0.115)) if story else margin
    bottom = h - (max(margin, round(h * 0.15)) if story else margin)
    header = px(96)
    logo = None
    kicker_x0 = margin
    if logo_aspect:
        width = min(round(header * logo_aspect), round(w * 0.42))
        logo = Box(margin, top, margin + width, top + header)
        kicker_x0 = logo.x1 + px(28)
    kicker = (
        Box(kicker_x0, top, w - margin, top + header) if w - margin - kicker_x0 > px(160) else None
    )
    qr_side = px(232)
    qr = Box(w - margin - qr_side, bottom - qr_side, w - margin, bottom)
    column = qr.x0 - px(48)
    button = Box(margin, bottom - px(84), column, bottom)
    count = Box(margin, qr.y0, column, button.y0 - px(24))
    band = None
    if layout_name == "minimal":
        band = Box(0, qr.y0 - round(margin * 0.8), w, h)
    body_bottom = (band.y0 if band else qr.y0) - px(56)
    body = Box(margin, top + header + px(56), w - margin, body_bottom)
    return {
        "logo": logo,
        "kicker": kicker,
        "kicker_sizes": (px(24), px(34)),
        "body": body,
        "title_sizes": (px(34), px(124 if story else 112)),
        "hashtag_sizes": (px(26), px(46)),
        "hashtag_room": px(150),
        "gap": px(36),
        "optical": 0.4 if story else 0.35,
        "count": count,
        "count_sizes": (px(26), px(50)),
        "count_lines": 2,
        "button": button,
        "qr": qr,
        "band": band,
    }


def _wide(size: Size, logo_aspect: float | None, layout_name: str) -> dict:
    """Card, X post and banner: a text column, and a column for logo and QR code."""
    w, h = size.width, size.height
    u = h / 630

    def px(value: float) -> int:
        return round(value * u)

    banner = w / h >= 2.5
    my = max(px(52), round(h * 0.11)) if banner else px(52)
    mx = max(my, round(w * 0.045))
    qr_side = min(round(h * 0.35), round(w * 0.2))
    qr = Box(w - mx - qr_side, h - my - qr_side, w - mx, h - my)
    logo = None
    if logo_aspect:
        height = min(px(110), qr.y0 - my - px(24))
        width = min(round(height * logo_aspect), qr_side)
        height = round(width / logo_aspect)
        logo = Box(w - mx - width, my, w - mx, my + height)
    # A banner's profile picture covers its bottom start corner: keep text clear of it.
    x0 = round(w * 0.17) if banner else mx
    column = qr.x0 - round(w * 0.05)
    kicker = Box(x0, my, column, my + px(44))
    button = Box(x0, h - my - px(62), column, h - my)
    count = Box(x0, button.y0 - px(14) - px(46), column, button.y0 - px(14))
    body = Box(x0, kicker.y1 + px(20), column, count.y0 - px(26))
    band = None
    if layout_name == "minimal":
        band = Box(qr.x0 - round(mx * 0.8), 0, w, h)
    return {
        "logo": logo,
        "kicker": kicker,
        "kicker_sizes": (px(18), px(26)),
        "body": body,
        "title_sizes": (px(26), px(74)),
        "hashtag_sizes": (px(20), px(32)),
        "hashtag_room": px(56),
        "gap": px(24),
        "optical": 0.3,
        "count": count,
        "count_sizes": (px(20), px(32)),
        "count_lines": 1,
        "button": button,
        "qr": qr,
        "band": band,
    }
