"""The delivery document: what organisers hand to the decision-makers, as a PDF.

It holds the petition's text in each chosen language, its targets, the confirmed total
with the number removed as invalid, the signatures by country and over time (charts
drawn here as SVG, delivery.charts), reasons for signing the organisers selected
(delivery.reasons), and the first names and countries of the signers who agreed to be
shown (PRIVACY.md rule 5: nothing else about anyone).

The HTML template petitions/delivery/document.html with document.css is rendered by
WeasyPrint, as the kit's posters are (kit.posters): Pango shapes Dari and Pashto with
the bundled Vazirmatn, the text stays real text in the PDF, and the URL fetcher only
serves the bundled fonts and `data:` URLs, so nothing is fetched from the network.

Names are the bulk of a big document. They are streamed from the database and written
as a few hundred names a paragraph (not one box each, which made WeasyPrint three times
slower), and at most `max_names` are printed: beyond that the list ends with "and N
more" (docs/delivery.md has the timings that set the default of MAX_NAMES).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from hamseda.context import NAMES as NATIVE_NAMES
from hamseda.kit.posters import BOLD_FONT, FONTS_DIR, REGULAR_FONT, LocalOnlyFetcher
from hamseda.links import absolute_url
from hamseda.petitions.countries import country_name
from hamseda.petitions.delivery import charts
from hamseda.petitions.delivery.errors import DeliveryError
from hamseda.petitions.delivery.reasons import Reason
from hamseda.petitions.markdown import render_story
from hamseda.petitions.models import Petition, PetitionState, Signature, SignatureState

DELIVERABLE_STATES = {PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON}
# Names printed at most (docs/delivery.md): about 40 pages of names, rendered in about
# 10–20 s on a 2-core server, well inside a web worker's 60 s timeout; WeasyPrint takes
# about 1 ms and 3 kB of memory a name. Beyond it, "and N more"; the command can print
# more with --max-names.
MAX_NAMES = 20_000
# Names a paragraph: big enough that WeasyPrint lays out few boxes, small enough that a
# paragraph breaks across columns and pages without a long search for a break.
NAMES_PER_PARAGRAPH = 500
CHUNK_SIZE = 2000
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
NO_BREAK_SPACE = "\u00a0"


@dataclass(frozen=True)
class DeliveryOptions:
    # Languages of the petition's text to include; empty: every one it is written in.
    languages: tuple[str, ...] = ()
    include_names: bool = True
    reasons: tuple[Reason, ...] = ()
    max_names: int = MAX_NAMES


@dataclass
class Plan:
    """What goes into one document, decided before it is drawn."""

    petition: Petition
    languages: list[str]
    language: str
    now: datetime
    options: DeliveryOptions


def check_deliverable(petition: Petition) -> None:
    """DeliveryError unless the petition is public and has confirmed signatures."""
    if petition.state not in DELIVERABLE_STATES:
        raise DeliveryError(
            _("Only an open, closed or won petition can be delivered; this one is “%(state)s”.")
            % {"state": petition.get_state_display()}
        )
    if petition.signature_count == 0:
        raise DeliveryError(_("Nothing to deliver yet: the petition has no confirmed signatures."))


def choose_languages(petition: Petition, languages: tuple[str, ...] | list[str]) -> list[str]:
    """The petition's languages to print, main language first, then in the site's
    order; DeliveryError for a language the petition is not written in."""
    written = set(petition.languages)
    missing = [code for code in languages if code not in written]
    if missing:
        raise DeliveryError(
            _("The petition is not written in %(languages)s. It is written in %(written)s.")
            % {"languages": ", ".join(missing), "written": ", ".join(sorted(written))}
        )
    chosen = set(languages) or written
    order = [petition.default_language] + [code for code, _name in settings.LANGUAGES]
    ordered = list(dict.fromkeys(code for code in order if code in chosen))
    # Languages outside the site's list (none today) keep the end, in a stable order.
    return ordered + sorted(chosen - set(ordered))


def plan_document(
    petition: Petition, options: DeliveryOptions, *, now: datetime | None = None
) -> Plan:
    check_deliverable(petition)
    languages = choose_languages(petition, options.languages)
    # The frame (headings, cover, notes) is in the petition's main language if chosen,
    # else in the first chosen one: the decision-makers read the petition in it.
    return Plan(
        petition=petition,
        languages=languages,
        language=languages[0],
        now=now or timezone.now(),
        options=options,
    )


def delivery_pdf(
    petition: Petition, options: DeliveryOptions | None = None, *, now: datetime | None = None
) -> bytes:
    """The delivery document as PDF bytes; DeliveryError if it cannot be made."""
    return render_pdf(plan_document(petition, options or DeliveryOptions(), now=now))


def render_pdf(plan: Plan) -> bytes:
    html, css = document_html(plan)
    fonts = FontConfiguration()
    fetcher = LocalOnlyFetcher()
    stylesheet = CSS(string=css, font_config=fonts, url_fetcher=fetcher)
    document = HTML(string=html, url_fetcher=fetcher, base_url=FONTS_DIR.as_uri() + "/")
    return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)


def file_name(petition: Petition, now: datetime) -> str:
    """<slug>-delivery-YYYY-MM-DD.pdf: slugs are ASCII, safe in a header."""
    return f"{petition.slug}-delivery-{timezone.localdate(now).isoformat()}.pdf"


def is_rtl(language: str) -> bool:
    return language in settings.LANGUAGES_BIDI


def document_html(plan: Plan) -> tuple[str, str]:
    """The document's HTML and CSS, in the plan's frame language."""
    with translation.override(plan.language):
        context = _context(plan)
        html = render_to_string("petitions/delivery/document.html", context)
        css = render_to_string("petitions/delivery/document.css", context)
    return html, css


def _context(plan: Plan) -> dict:
    petition = plan.petition
    language = plan.language
    rtl = is_rtl(language)
    translations = {t.language: t for t in petition.translations.all()}
    main = translations[language]
    campaign_text = petition.campaign.text() if petition.campaign else None
    total = petition.signature_count
    countries = [
        (country_name(row.country, language), row.country, row.count)
        for row in petition.country_counts.filter(count__gt=0)
    ]
    countries.sort(key=lambda row: (-row[2], row[0]))
    days = list(petition.daily_counts.values_list("day", "count"))
    names_html, names_total, names_shown = (
        _names(plan) if plan.options.include_names else ("", 0, 0)
    )
    organization_name = petition.organization.name
    return {
        "language": language,
        "direction": "rtl" if rtl else "ltr",
        "align_end": "left" if rtl else "right",
        "petition": petition,
        "title": main.title,
        "organization_name": organization_name,
        "campaign_name": campaign_text.name if campaign_text else "",
        "targets": [str(target) for target in petition.targets.all()],
        "date": formats.date_format(timezone.localdate(plan.now), "DATE_FORMAT"),
        "now": plan.now,
        "url": absolute_url(petition.get_absolute_url()),
        "total": total,
        "total_text": intcomma(total),
        "invalidated": petition.invalidated_count,
        "invalidated_text": intcomma(petition.invalidated_count),
        "texts": [_text(translations[code]) for code in plan.languages],
        "countries": [
            (name, code, intcomma(count), charts.share(count, total))
            for name, code, count in countries
        ],
        "country_bars": charts.country_bars(countries, total, rtl=rtl),
        "timeline": _timeline(days),
        "reasons": plan.options.reasons,
        "include_names": plan.options.include_names,
        "names_html": names_html,
        "names_total": names_total,
        "names_total_text": intcomma(names_total),
        "names_more": names_total - names_shown,
        "names_more_text": intcomma(names_total - names_shown),
        "regular_font_url": REGULAR_FONT.as_uri(),
        "bold_font_url": BOLD_FONT.as_uri(),
        "footer": mark_safe(_footer(organization_name)),  # noqa: S308 - built by css_string.
    }


def _text(translation_row) -> dict:
    language = translation_row.language
    return {
        "language": language,
        "direction": "rtl" if is_rtl(language) else "ltr",
        "language_name": NATIVE_NAMES.get(language, language),
        "title": translation_row.title,
        "summary": translation_row.summary,
        "story": render_story(translation_row.story),
    }


def _timeline(days) -> dict | None:
    chart = charts.timeline(days)
    if chart is None:
        return None
    chart["first_day_text"] = formats.date_format(chart["first_day"], "DATE_FORMAT")
    chart["last_day_text"] = formats.date_format(chart["last_day"], "DATE_FORMAT")
    chart["peak_day_text"] = formats.date_format(chart["peak_day"], "DATE_FORMAT")
    chart["peak_count_text"] = intcomma(chart["peak_count"])
    return chart


def public_names(petition: Petition):
    """(first name, country code) of each confirmed signer who agreed to be shown,
    oldest first, streamed from the database."""
    return (
        Signature.objects.filter(petition=petition, state=SignatureState.VALIDATED)
        .exclude(public_name="")
        .order_by("pk")
        .values_list("public_name", "country")
    )


def _names(plan: Plan) -> tuple[SafeString, int, int]:
    """The names as HTML paragraphs, how many agreed to be shown, and how many are
    printed (at most max_names).

    Each entry is "Maryam (Sweden)", kept on one line, with the name in a first-strong
    isolate, so a Dari name in an English list (or a Latin one in a Dari list) keeps its
    own direction without pulling the country or the separator to the wrong side. Built
    here rather than in the template: a template loop over 50,000 names is several times
    slower.
    """
    queryset = public_names(plan.petition)
    total = queryset.count()
    limit = max(plan.options.max_names, 0)
    paragraphs: list[str] = []
    entries: list[str] = []
    shown = 0
    # The dot holds on to the entry before it, so no line starts with one.
    separator = NO_BREAK_SPACE + "· "
    countries: dict[str, str] = {}
    for name, code in islice(queryset.iterator(chunk_size=CHUNK_SIZE), limit):
        country = countries.get(code)
        if country is None:
            country = countries[code] = escape(_unbreakable(country_name(code, plan.language)))
        entries.append(
            f"{FIRST_STRONG_ISOLATE}{escape(_unbreakable(_printable(name)))}"
            f"{POP_DIRECTIONAL_ISOLATE}{NO_BREAK_SPACE}({country})"
        )
        shown += 1
        if len(entries) == NAMES_PER_PARAGRAPH:
            paragraphs.append("<p>" + separator.join(entries) + "</p>")
            entries = []
    if entries:
        paragraphs.append("<p>" + separator.join(entries) + "</p>")
    return mark_safe("\n".join(paragraphs)), total, shown  # noqa: S308 - escaped above.


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Without control characters, which print as nothing or as boxes."""
    return _CONTROLS.sub("", text)


def _unbreakable(text: str) -> str:
    """Spaces made no-break: lines of the list break between entries, not inside one."""
    return text.replace(" ", NO_BREAK_SPACE)


def css_string(text: str) -> str:
    """`text` as a CSS string literal: quotes and backslashes escaped, line breaks
    dropped, so an organisation's name cannot end the string and add rules."""
    text = _printable(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _footer(organization_name: str) -> str:
    """The page footer's CSS `content`: "Alliance · Page 3 of 12", with the counters
    placed where the translation puts them."""
    parts = [css_string(organization_name + " · ")]
    label = _("Page %(page)s of %(pages)s")
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", label):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts)
