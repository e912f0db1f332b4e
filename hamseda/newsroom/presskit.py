"""A campaign's press kit: one zip for journalists, in the reader's language.

Inside `<campaign>-press-kit/`:
- `fact-sheet.pdf`: one page with the campaign's name and hashtags, its petitions'
  confirmed signature counts and top countries, its days of action with their cities
  and attendee counts, the number of press releases, and whom to contact;
- `facts.txt`: the same facts as plain text, and `README.txt`: what each file is;
- `logos/`: the campaign's logo and its coalition partners' logos;
- `images/`: the pictures of the campaign's public releases (never of a draft or an
  embargoed one).

The numbers are live: the facts are read at every download. Only the PDF, whose
rendering is the costly part, is cached, by a hash of the facts it shows, so a new
count makes a new PDF and a stale one is never served. The PDF is rendered by
WeasyPrint as the kit's posters are (kit.posters): the bundled Vazirmatn shapes Dari
and Pashto, and the URL fetcher loads nothing from the network.
"""

import hashlib
import io
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from hamseda.actions.models import DayOfAction, Event, PublicationState
from hamseda.campaigns.models import Campaign
from hamseda.links import absolute_url
from hamseda.newsroom import services
from hamseda.petitions.countries import country_name
from hamseda.petitions.models import Petition, PetitionState

VERSION = "1"
CACHE_SECONDS = 300
TOP_COUNTRIES = 8
MAX_EVENTS = 30
PUBLIC_PETITION_STATES = [PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]


@dataclass(frozen=True)
class PetitionFacts:
    title: str
    url: str
    state: str
    count: int
    countries: list[tuple[str, int]]


@dataclass(frozen=True)
class EventFacts:
    city: str
    country: str
    starts: str
    attendees: int


@dataclass(frozen=True)
class DayFacts:
    title: str
    date: str
    events: list[EventFacts]


@dataclass(frozen=True)
class Facts:
    language: str
    name: str
    description: str
    hashtags: list[str]
    organisation: str
    campaign_url: str
    press_url: str
    feed_url: str
    total_signatures: int
    petitions: list[PetitionFacts]
    days: list[DayFacts]
    release_count: int
    more_events: int = 0
    partners: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(repr(asdict(self)).encode(), digest_size=16)
        return digest.hexdigest()


def _local_start(event: Event) -> str:
    try:
        zone = ZoneInfo(event.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = event.starts_at.astimezone(zone)
    return f"{local:%H:%M} ({event.time_zone})"


def gather_facts(campaign: Campaign, language: str, *, now: datetime | None = None) -> Facts:
    """The campaign's numbers as they are now, with words in `language`."""
    now = now or timezone.now()
    with translation.override(language):
        text = campaign.text()
        petitions = []
        for petition in (
            Petition.objects.filter(campaign=campaign, state__in=PUBLIC_PETITION_STATES)
            .prefetch_related("translations", "country_counts")
            .order_by("-signature_count", "pk")
        ):
            petition_text = petition.text()
            petitions.append(
                PetitionFacts(
                    title=petition_text.title if petition_text else petition.slug,
                    url=absolute_url(petition.get_absolute_url()),
                    state=str(petition.get_state_display()),
                    count=petition.signature_count,
                    countries=[
                        (country_name(row.country, language), row.count)
                        for row in list(petition.country_counts.all())[:TOP_COUNTRIES]
                        if row.count
                    ],
                )
            )
        days, shown_events, more = [], 0, 0
        for day in (
            DayOfAction.objects.filter(campaign=campaign, state=PublicationState.PUBLISHED)
            .prefetch_related("translations")
            .order_by("date", "pk")
        ):
            day_text = day.text()
            events = []
            for event in Event.objects.filter(day=day, state=PublicationState.PUBLISHED).order_by(
                "country", "city", "starts_at"
            ):
                if shown_events >= MAX_EVENTS:
                    more += 1
                    continue
                shown_events += 1
                events.append(
                    EventFacts(
                        city=event.city,
                        country=country_name(event.country, language),
                        starts=_local_start(event),
                        attendees=event.attendee_count,
                    )
                )
            days.append(
                DayFacts(
                    title=day_text.title if day_text else day.slug,
                    date=formats.date_format(day.date, "DATE_FORMAT"),
                    events=events,
                )
            )
        partners = [
            partner.organization.name
            for partner in campaign.partners.select_related("organization")
        ]
        return Facts(
            language=language,
            name=text.name if text else campaign.slug,
            description=text.description if text else "",
            hashtags=["#" + tag for tag in campaign.hashtag_list],
            organisation=campaign.organization.name,
            campaign_url=absolute_url(reverse("campaign", args=[campaign.slug])),
            press_url=absolute_url(reverse("newsroom:campaign_press", args=[campaign.slug])),
            feed_url=absolute_url(reverse("newsroom:campaign_feed", args=[campaign.slug])),
            total_signatures=sum(p.count for p in petitions),
            petitions=petitions,
            days=days,
            release_count=services.public_releases(campaign, now).count(),
            more_events=more,
            partners=partners,
        )


def _read(file_field) -> bytes | None:
    """A stored file's bytes, or None if it is gone (the kit is then made without it)."""
    if not file_field:
        return None
    try:
        with file_field.storage.open(file_field.name, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def fact_sheet_pdf(campaign: Campaign, facts: Facts, *, now: datetime) -> bytes:
    """The one-page fact sheet; cached by the facts it shows (see the module's doc)."""
    logo_name = campaign.logo.name if campaign.logo else ""
    digest = hashlib.blake2b(
        f"{VERSION}|{facts.fingerprint()}|{logo_name}".encode(), digest_size=16
    )
    key = "newsroom:factsheet:" + digest.hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    # Imported here, as the kit does, so that loading the URL configuration does not
    # load WeasyPrint. WeasyPrint itself is used through kit.posters, which imports it
    # and then undoes a global Pillow setting that importing it changes.
    from hamseda.kit import posters

    logo = _read(campaign.logo)
    language = facts.language
    context = {
        "facts": facts,
        "language": language,
        "direction": "rtl" if language in settings.LANGUAGES_BIDI else "ltr",
        "made_at": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        "logo_uri": posters._logo_data_uri(logo),  # Thumbnail, no metadata.
        "regular_font_url": posters.REGULAR_FONT.as_uri(),
        "bold_font_url": posters.BOLD_FONT.as_uri(),
    }
    with translation.override(language):
        html = render_to_string("newsroom/fact_sheet.html", context)
        css = render_to_string("newsroom/fact_sheet.css", context)
    fonts = posters.FontConfiguration()
    fetcher = posters.LocalOnlyFetcher()
    stylesheet = posters.CSS(string=css, font_config=fonts, url_fetcher=fetcher)
    document = posters.HTML(
        string=html, url_fetcher=fetcher, base_url=posters.FONTS_DIR.as_uri() + "/"
    )
    pdf = document.write_pdf(stylesheets=[stylesheet], font_config=fonts)
    cache.set(key, pdf, CACHE_SECONDS)
    return pdf


def facts_text(facts: Facts, *, now: datetime) -> str:
    with translation.override(facts.language):
        lines = [facts.name, "=" * min(60, max(8, len(facts.name))), ""]
        if facts.description:
            lines += [facts.description, ""]
        if facts.hashtags:
            lines.append(_("Hashtags: %(tags)s") % {"tags": " ".join(facts.hashtags)})
        lines.append(
            _("Numbers as of %(time)s (UTC).")
            % {"time": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M")}
        )
        lines.append("")
        lines.append(
            _("Confirmed signatures, all petitions: %(count)s") % {"count": facts.total_signatures}
        )
        for petition in facts.petitions:
            lines.append(f"- {petition.title} ({petition.state}): {petition.count}")
            lines.append(f"  {petition.url}")
            if petition.countries:
                lines.append(
                    "  " + ", ".join(f"{name} {count}" for name, count in petition.countries)
                )
        if facts.days:
            lines += ["", _("Days of action:")]
            for day in facts.days:
                lines.append(f"- {day.date}: {day.title}")
                for event in day.events:
                    lines.append(
                        "  "
                        + _("%(city)s, %(country)s, %(time)s: %(count)s attending")
                        % {
                            "city": event.city,
                            "country": event.country,
                            "time": event.starts,
                            "count": event.attendees,
                        }
                    )
            if facts.more_events:
                lines.append("  " + _("and %(count)s more events") % {"count": facts.more_events})
        lines += [
            "",
            _("Press releases: %(count)s") % {"count": facts.release_count},
            facts.press_url,
            _("Atom feed: %(url)s") % {"url": facts.feed_url},
            "",
            _("Contact for journalists: %(organisation)s") % {"organisation": facts.organisation},
        ]
        if facts.partners:
            lines.append(_("Coalition partners: %(names)s") % {"names": ", ".join(facts.partners)})
    return "\n".join(lines) + "\n"


def readme_text(facts: Facts, files: list[tuple[str, str]]) -> str:
    with translation.override(facts.language):
        lines = [
            _("Press kit: %(campaign)s") % {"campaign": facts.name},
            "",
            _("The numbers in fact-sheet.pdf and facts.txt are those at download time."),
            _("For today's numbers, download the kit again from %(url)s")
            % {"url": facts.press_url},
            "",
            _("Files:"),
            "- fact-sheet.pdf: " + _("one page of facts and numbers, to print or attach."),
            "- facts.txt: " + _("the same facts as plain text, to copy from."),
        ]
        lines += [f"- {name}: {about}" for name, about in files]
    return "\n".join(lines) + "\n"


def press_kit_zip(campaign: Campaign, language: str, *, now: datetime | None = None) -> bytes:
    """The press kit of `campaign` in `language`, as zip bytes (built in memory)."""
    now = now or timezone.now()
    facts = gather_facts(campaign, language, now=now)
    folder = f"{campaign.slug}-press-kit"
    files: list[tuple[str, bytes, str]] = []  # (name in the folder, data, description)
    with translation.override(language):
        logo = _read(campaign.logo)
        if logo:
            suffix = PurePosixPath(campaign.logo.name or "").suffix.lower() or ".png"
            files.append((f"logos/campaign-logo{suffix}", logo, _("the campaign's logo.")))
        for partner in campaign.partners.select_related("organization"):
            data = _read(partner.logo)
            if data:
                suffix = PurePosixPath(partner.logo.name or "").suffix.lower() or ".png"
                files.append(
                    (
                        f"logos/partners/{partner.organization.slug}{suffix}",
                        data,
                        _("logo of %(name)s, coalition partner.")
                        % {"name": partner.organization.name},
                    )
                )
        for release in services.public_releases(campaign, now):
            data = _read(release.image)
            if data:
                text = release.text()
                suffix = PurePosixPath(release.image.name or "").suffix.lower() or ".jpg"
                about = _("picture of the release “%(title)s”.") % {
                    "title": text.title if text else release.slug
                }
                if text and text.image_caption:
                    about += " " + text.image_caption
                files.append((f"images/{release.slug}{suffix}", data, about))
    stamp = now.astimezone(UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:

        def add(name: str, data: bytes, *, deflate: bool) -> None:
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            archive.writestr(info, data)

        add(
            "README.txt",
            readme_text(facts, [(name, about) for name, _data, about in files])
            .replace("\n", "\r\n")
            .encode("utf-8"),
            deflate=True,
        )
        add("facts.txt", facts_text(facts, now=now).replace("\n", "\r\n").encode(), deflate=True)
        add("fact-sheet.pdf", fact_sheet_pdf(campaign, facts, now=now), deflate=False)
        for name, data, _about in files:
            # Images are already compressed: stored as they are.
            add(name, data, deflate=False)
    return buffer.getvalue()


def as_stream(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def file_name(campaign: Campaign, language: str) -> str:
    """<slug>-press-kit-<language>.zip: slugs are ASCII, safe in a header."""
    return f"{campaign.slug}-press-kit-{language}.zip"
