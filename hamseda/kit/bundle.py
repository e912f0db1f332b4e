"""A petition's kit files, each cached by content (kit.imagecache), and the zip of all.

The web (`/p/<slug>/kit.zip`, and each image and poster URL) and the command
(`hamseda kit build`) both go through here, so they make the same files under the
same names.
"""

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hamseda.kit.content import content_for, design_for, design_key, languages_of
from hamseda.kit.design import SIZES, Content
from hamseda.kit.imagecache import CachedFile, cached_file
from hamseda.links import absolute_url

# The papers of the printable posters, as in URLs (poster-a4.pdf) and as kit.posters
# names them.
PAPERS = {"a4": "A4", "a3": "A3"}
# What a supporter does with each size, for the kit's README and page.
USES = {
    "card": gettext_lazy(
        "The picture a link shows when it is shared (Facebook, LinkedIn, WhatsApp, "
        "Telegram, Signal)."
    ),
    "square": gettext_lazy("A post on Instagram, Facebook or Mastodon."),
    "portrait": gettext_lazy("A post on Instagram, where tall pictures take more of the screen."),
    "story": gettext_lazy("A story on Instagram, Facebook or WhatsApp, or a TikTok."),
    "x": gettext_lazy("A post on X (Twitter) or Bluesky."),
    "banner": gettext_lazy("The header of your X (Twitter) profile, or a banner on a website."),
}


def image_content(petition, language: str) -> Content:
    """The words of a kit image: its QR code opens the petition, tagged as scanned."""
    return content_for(petition, language, channel="qr")


def petition_image(petition, size: str, language: str) -> CachedFile:
    """One share image of `petition` in `language` (falling back as content_for does)."""
    from hamseda.kit.render import render_png

    content = image_content(petition, language)
    campaign = petition.campaign
    return cached_file(
        "image",
        size,
        content.fingerprint(),
        design_key(campaign),
        lambda: render_png(size, content, design_for(campaign)),
    )


def petition_poster(petition, paper: str, language: str) -> CachedFile:
    """The printable poster of `petition`, paper "a4" or "a3", as a one-page PDF."""
    from hamseda.kit.posters import poster_pdf

    content = content_for(petition, language, channel="poster")
    campaign = petition.campaign
    return cached_file(
        "poster",
        paper,
        content.fingerprint(),
        design_key(campaign),
        lambda: poster_pdf(content, design_for(campaign), PAPERS[paper]),
        content_type="application/pdf",
    )


def image_filename(petition, size: str, language: str) -> str:
    spec = SIZES[size]
    return f"{petition.slug}-{size}-{spec.width}x{spec.height}-{language}.png"


def poster_filename(petition, paper: str, language: str) -> str:
    return f"{petition.slug}-poster-{paper}-{language}.pdf"


@dataclass(frozen=True)
class Entry:
    name: str  # The path inside the zip.
    file: CachedFile


def _folder(petition) -> str:
    return f"{petition.slug}-kit"


def kit_entries(petition, languages: list[str]) -> list[Entry]:
    """Every file of the kit: each size, then each poster, per language."""
    folder = _folder(petition)
    entries = []
    for language in languages:
        for size, spec in SIZES.items():
            name = f"{folder}/{language}/{size}-{spec.width}x{spec.height}.png"
            entries.append(Entry(name, petition_image(petition, size, language)))
        for paper in PAPERS:
            name = f"{folder}/{language}/poster-{paper}.pdf"
            entries.append(Entry(name, petition_poster(petition, paper, language)))
    return entries


def readme(petition, languages: list[str], now: datetime) -> str:
    """README.txt: what each file is for, in each language of the kit."""
    sections = []
    for language in languages:
        content = content_for(petition, language)
        with translation.override(content.language):
            kit_url = absolute_url(reverse("kit:petition_kit", args=[petition.slug]))
            lines = [
                content.title,
                "=" * min(60, max(8, len(content.title))),
                "",
                _("The share kit of this petition, made on %(day)s (UTC).")
                % {"day": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M")},
                _(
                    "The images show the count at that time. For images with today's "
                    "count, download them again from %(url)s"
                )
                % {"url": kit_url},
                _("The QR code on each image and poster opens the petition: %(url)s")
                % {"url": absolute_url(petition.get_absolute_url())},
                "",
                _("Files in the folder %(folder)s:") % {"folder": f"{language}/"},
            ]
            for size, spec in SIZES.items():
                lines.append(f"- {size}-{spec.width}x{spec.height}.png: {spec.label}.")
                lines.append(f"  {USES[size]}")
            lines.append(
                "- poster-a4.pdf, poster-a3.pdf: "
                + _("Posters to print for a protest (A4 or A3): hold them up, or put them up.")
            )
            lines.append(
                "  "
                + _(
                    "Print them at actual size, without scaling; the big QR code opens "
                    "the petition."
                )
            )
        sections.append("\n".join(lines))
    return ("\n\n\n".join(sections) + "\n").replace("\n", "\r\n")


def write_zip(
    petition, out: BinaryIO, languages: list[str] | None = None, *, now: datetime | None = None
) -> list[str]:
    """Write the kit of `petition` as a zip into `out`; return the names written.

    PNG and PDF are already compressed, so they are stored as they are (building a
    zip of cached files then costs little more than copying them); the README is
    deflated."""
    now = now or timezone.now()
    languages = languages or languages_of(petition)
    stamp = now.astimezone(UTC).timetuple()[:6]
    names = []
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(f"{_folder(petition)}/README.txt", date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, readme(petition, languages, now).encode("utf-8"))
        names.append(info.filename)
        for entry in kit_entries(petition, languages):
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, entry.file.data)
            names.append(entry.name)
    return names


def zip_bytes(petition, languages: list[str] | None = None, *, now=None) -> bytes:
    buffer = io.BytesIO()
    write_zip(petition, buffer, languages, now=now)
    return buffer.getvalue()
