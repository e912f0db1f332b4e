"""What a kit image is made of: its size, the campaign's design and the petition's words.

These plain values are the contract between the places that know the campaign and
petition (kit.content builds them from models) and the renderers (kit.render for
images, kit.posters for PDFs, kit.frame for profile pictures), which know no models.
"""

import hashlib
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int
    label: object  # A lazy translated string: what the size is for.


# Every size a supporter can download; the names appear in URLs and file names.
SIZES: dict[str, Size] = {
    size.name: size
    for size in (
        Size("card", 1200, 630, _("Link card (Open Graph)")),
        Size("square", 1080, 1080, _("Square post")),
        Size("portrait", 1080, 1350, _("Portrait post")),
        Size("story", 1080, 1920, _("Story")),
        Size("x", 1600, 900, _("X (Twitter) post")),
        Size("banner", 1500, 500, _("Banner")),
    )
}

# The layouts an organiser chooses from, per campaign.
LAYOUTS: dict[str, object] = {
    "bold": _("Bold: the campaign colour, large title"),
    "photo": _("Photo: the background image, darkened, with the text over it"),
    "minimal": _("Minimal: light background, a band of the campaign colour"),
}
DEFAULT_LAYOUT = "bold"


@dataclass(frozen=True)
class Design:
    """A campaign's look. Colours are "#rrggbb"; logo and background are the bytes of
    an image file (PNG or JPEG; a logo may be transparent), or None."""

    colour: str = "#1f6f5c"
    accent: str = "#f2c14e"
    layout: str = DEFAULT_LAYOUT
    logo: bytes | None = field(default=None, repr=False)
    background: bytes | None = field(default=None, repr=False)
    # Show numbers in Eastern Arabic-Indic digits (۴۱٬۸۷۲) on Dari and Pashto images.
    eastern_digits: bool = False

    def fingerprint(self) -> str:
        """A short hash of everything that changes how an image looks, for cache keys."""
        digest = hashlib.blake2b(digest_size=8)
        for part in (self.colour, self.accent, self.layout, str(self.eastern_digits)):
            digest.update(part.encode() + b"\x1f")
        for blob in (self.logo, self.background):
            digest.update(hashlib.blake2b(blob or b"", digest_size=16).digest())
        return digest.hexdigest()


@dataclass(frozen=True)
class Content:
    """The words on one image, in one language (en, fa or ps).

    `count` is already rounded for display (kit.numbers.display_count) so that an image
    stays valid, and cached, for minutes; `count_is_exact` says whether it was rounded,
    which changes the phrase ("41,800 people" or "More than 41,800 people").
    `url` is what the QR code opens: the petition's address with its source code.
    """

    language: str
    title: str
    hashtags: tuple[str, ...]
    count: int
    count_is_exact: bool
    url: str
    campaign_name: str = ""
    call_to_action: str = ""  # e.g. "Sign the petition", in `language`.

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=8)
        for part in (
            self.language,
            self.title,
            " ".join(self.hashtags),
            str(self.count),
            str(self.count_is_exact),
            self.url,
            self.campaign_name,
            self.call_to_action,
        ):
            digest.update(part.encode() + b"\x1f")
        return digest.hexdigest()


RTL_LANGUAGES = frozenset({"fa", "ps"})


def is_rtl(language: str) -> bool:
    return language in RTL_LANGUAGES
