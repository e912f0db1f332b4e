"""The campaign's pulse dashboard, `/c/<campaign>/pulse/`, and every chart's figures as
CSV or JSON, `/c/<campaign>/pulse/<chart>.<csv|json>` (docs/pulse-dashboard.md).

Who sees it: everyone if the dashboard and the campaign are public (pulses.may_view),
otherwise the members of the campaign's organisation who read numbers; anyone else gets
a 404, as if there were no dashboard. Anonymous readers of a public dashboard get the
page and the downloads from a cache of DASHBOARD_SECONDS per language (pulse.pagecache).
"""

import re
from datetime import date, datetime

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from hamseda.campaigns.models import Campaign
from hamseda.languages import current_language
from hamseda.orgs.permissions import CAN_EDIT, CAN_MODERATE, CAN_VIEW_NUMBERS, role_in
from hamseda.pulse import analytics, charts, downloads, pagecache, pulses
from hamseda.pulse.models import Pulse
from hamseda.pulse.readable import Style

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
POST_CHARACTERS = 400
# A hashtag in a post's text: '#', then anything up to a space or punctuation.
HASHTAG = re.compile(r"(?<![\w&#])[#\uff03][^\s#\uff03.,;:!?()\[\]{}'\"«»،؛]+")


def _visible(request: HttpRequest, slug: str) -> tuple[Campaign, Pulse | None]:
    campaign = get_object_or_404(
        Campaign.objects.select_related("organization").prefetch_related("translations"),
        slug=slug,
    )
    pulse = pulses.pulse_of(campaign)
    if not pulses.may_view(request.user, campaign, pulse):
        raise Http404
    return campaign, pulse


def _from_cache_or_fresh(request, campaign, pulse, key: str, make) -> tuple[bytes, bool]:
    """`make()`'s bytes, from the shared cache for anonymous readers of a public
    dashboard; the second value says whether the answer is public."""
    if pulses.is_public(pulse, campaign) and not request.user.is_authenticated:
        return pagecache.cached(key, make), True
    return make(), False


def _finish(response: HttpResponse, public: bool) -> HttpResponse:
    if public:
        patch_cache_control(response, public=True, max_age=pagecache.DASHBOARD_SECONDS)
    else:
        # Members' view of an organiser-only dashboard, or a logged-in reader's page:
        # never kept by a browser or proxy cache.
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
    return response


@require_safe
def dashboard(request: HttpRequest, campaign: str) -> HttpResponse:
    found, pulse = _visible(request, campaign)
    body, public = _from_cache_or_fresh(
        request,
        found,
        pulse,
        pagecache.page_key(found.slug, current_language()),
        lambda: _render_dashboard(request, found, pulse).content,
    )
    return _finish(HttpResponse(body), public)


@require_safe
def chart_data(request: HttpRequest, campaign: str, chart: str, fmt: str) -> HttpResponse:
    if chart not in downloads.CHARTS or fmt not in downloads.FORMATS:
        raise Http404
    found, pulse = _visible(request, campaign)

    def make() -> bytes:
        figures = analytics.Figures(found, pulse=pulse)
        data = downloads.table(figures, chart)
        if fmt == "csv":
            return downloads.as_csv(data)
        return downloads.as_json(
            data, campaign=found.slug, chart=chart, updated_at=figures.totals.updated_at
        )

    body, public = _from_cache_or_fresh(
        request,
        found,
        pulse,
        pagecache.data_key(found.slug, chart, fmt, current_language()),
        make,
    )
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    if fmt == "csv":
        response["Content-Disposition"] = f'attachment; filename="{found.slug}-{chart}.csv"'
    return _finish(response, public)


# --- the page -------------------------------------------------------------------------------


def _render_dashboard(request: HttpRequest, campaign: Campaign, pulse: Pulse | None):
    shown = pulse or pulses.settings_or_default(campaign)
    style = Style(current_language(), campaign.eastern_digits)
    figures = analytics.Figures(campaign, pulse=shown)
    totals = figures.totals
    role = role_in(request.user, campaign.organization)
    context = {
        "campaign": campaign,
        "text": campaign.text(),
        # Members get links to their pulse pages (never in the cached public page,
        # which is rendered for anonymous readers only).
        "can_edit": role in CAN_EDIT,
        "can_hide": role in CAN_EDIT | CAN_MODERATE,
        "can_export": role in CAN_VIEW_NUMBERS,
        "pulse": shown,
        "public": pulses.is_public(pulse, campaign),
        "totals": totals,
        "figures": _headline(totals, style),
        "charts": _charts(campaign, figures, style) if totals.posts else [],
        "milestones": _milestone_rows(figures, style),
        "show_posts": shown.show_wall,
        "top_posts": _posts(figures.top_posts(), style) if shown.show_wall else [],
        "wall": _posts(figures.wall(), style) if shown.show_wall else [],
        "updated": style.moment(totals.updated_at) if totals.updated_at else "",
        "first_day": style.day(totals.first_post_at.date()) if totals.first_post_at else "",
        "last_day": style.day(totals.last_post_at.date()) if totals.last_post_at else "",
    }
    return render(request, "pulse/dashboard.html", context)


def _headline(totals: analytics.Totals, style: Style) -> list[tuple[str, str]]:
    rows = [
        (_("Posts"), style.number(totals.posts)),
        (_("Unique authors"), style.number(totals.authors)),
    ]
    rows += [
        (analytics.platform_name(platform), style.number(totals.by_platform[platform]))
        for platform in analytics.PLATFORMS
    ]
    return rows


def _cell(value, style: Style, column: str) -> str:
    if value is None:
        return _("not yet") if column == "passed_at" else "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return style.number(value)
    if isinstance(value, float):
        return style.percent(value)
    if isinstance(value, datetime):
        return style.moment(value)
    if isinstance(value, date):
        return style.day(value)
    return str(value)


def _column_names() -> dict[str, str]:
    return {
        "hour": _("Hour (UTC)"),
        "day": _("Day (UTC)"),
        "x": "X",
        "bluesky": "Bluesky",
        "mastodon": "Mastodon",
        "total": _("Total"),
        "posts": _("Posts"),
        "cumulative": _("Posts so far"),
        "count": _("Milestone"),
        "passed_at": _("Passed (hour, UTC)"),
        "name": _("Name"),
        "percent": _("Share"),
        "authors": _("Unique authors"),
        "x_count": _("X's own count"),
        "collected": _("Collected from X"),
        "signatures": _("Signatures"),
    }


def _shown_table(data: downloads.Table, style: Style, hide=()) -> SafeString:
    """A download's table for the page: translated headers, formatted cells, the
    identifier columns (language codes, platform keys) left out. Built here rather
    than in a template loop: a dashboard holds a few hundred cells, and the template
    engine would take longer over them than the page's queries."""
    names = _column_names()
    keep = [i for i, column in enumerate(data.columns) if column in names and column not in hide]
    head = "".join(f'<th scope="col">{escape(names[data.columns[i]])}</th>' for i in keep)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(_cell(row[i], style, data.columns[i]))}</td>" for i in keep)
        + "</tr>"
        for row in data.rows
    )
    # Every header and cell went through escape().
    return SafeString(
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _daily_cumulative(figures: analytics.Figures) -> downloads.Table:
    rows, running = [], 0
    for bucket in figures.daily():
        running += bucket.total
        rows.append([bucket.start, bucket.total, running])
    return downloads.Table(["day", "posts", "cumulative"], rows)


def _charts(campaign: Campaign, figures: analytics.Figures, style: Style) -> list[dict]:
    """Each chart of the page: its title, SVG, what it counts, its figures as a table
    and its downloads. Charts with nothing to show are left out."""
    hashtags = " ".join(f"#{tag}" for tag in campaign.hashtag_list)
    hourly = figures.hourly()
    found = []

    def add(slug, title, svg, note, table, *, extra_downloads=(), kind="time"):
        if svg is None:
            return
        found.append(
            {
                "slug": slug,
                # Time charts keep time running left to right (their box scrolls from
                # the left on a phone); bar charts follow the page's direction.
                "kind": kind,
                "title": title,
                "svg": svg,
                "note": note,
                "table": table,
                "downloads": [slug, *extra_downloads],
            }
        )

    title = (
        _("Posts per hour, last %(hours)s hours") % {"hours": style.number(len(hourly))}
        if len(hourly) >= analytics.HOURLY_WINDOW
        else _("Posts per hour")
    )
    add(
        "hourly",
        title,
        charts.platform_columns(
            hourly, chart_id="chart-hourly", title=title, hourly=True, style=style
        ),
        _(
            "UTC hours, stacked by platform. Every post counts once: originals, replies, "
            "quotes and reposts alike."
        ),
        _shown_table(downloads.table(figures, "hourly"), style),
    )
    title = _("Posts per day")
    add(
        "daily",
        title,
        charts.platform_columns(
            figures.daily(), chart_id="chart-daily", title=title, hourly=False, style=style
        ),
        _("UTC days, stacked by platform."),
        _shown_table(downloads.table(figures, "daily"), style),
    )
    title = _("Posts so far, with milestones")
    add(
        "cumulative",
        title,
        charts.cumulative_line(
            figures.curve(),
            figures.milestones(),
            figures.span,
            chart_id="chart-cumulative",
            title=title,
            style=style,
        ),
        _(
            "The running total of posts. A milestone is passed in the hour the total "
            "reaches it; the dot marks that hour."
        ),
        _shown_table(_daily_cumulative(figures), style),
        extra_downloads=("milestones",),
    )
    title = _("Posts by platform")
    add(
        "platforms",
        title,
        charts.share_bars(
            figures.platform_shares(),
            chart_id="chart-platforms",
            title=title,
            style=style,
            fills=charts.PLATFORM_FILLS,
        ),
        _("Unique authors are counted on each platform by the platform's own account id."),
        _shown_table(downloads.table(figures, "platforms"), style),
        kind="bars",
    )
    title = _("Originals, replies, quotes and reposts")
    add(
        "kinds",
        title,
        charts.share_bars(figures.kind_shares(), chart_id="chart-kinds", title=title, style=style),
        _("A repost is counted as a post of its own, as the platforms show it."),
        _shown_table(downloads.table(figures, "kinds"), style),
        kind="bars",
    )
    title = _("Languages")
    add(
        "languages",
        title,
        charts.share_bars(
            figures.languages(), chart_id="chart-languages", title=title, style=style
        ),
        _(
            "As the platforms tagged each post. Dari and Persian share one code on every "
            "platform, so they are counted together."
        ),
        _shown_table(downloads.table(figures, "languages"), style),
        kind="bars",
    )
    title = _("Hashtags used with %(tags)s") % {"tags": hashtags} if hashtags else _("Hashtags")
    add(
        "hashtags",
        title,
        charts.share_bars(figures.hashtags(), chart_id="chart-hashtags", title=title, style=style),
        _("The share is of all the campaign's posts: how many also carry the hashtag."),
        _shown_table(downloads.table(figures, "hashtags"), style),
        kind="bars",
    )
    x_counts = figures.x_counts()
    if x_counts:
        title = _("X's own count and the posts collected, per day")
        add(
            "x-counts",
            title,
            charts.two_panels(
                x_counts,
                chart_id="chart-x-counts",
                title=title,
                names=(_("X's own count"), _("Collected from X")),
                style=style,
                shared_scale=True,
            ),
            _(
                "X counts every matching post; its search gives us only the last seven "
                "days and not always all of them. Both panels share one scale."
            ),
            _shown_table(downloads.table(figures, "x-counts"), style),
        )
    if figures.has_petitions:
        title = _("Posts and petition signatures per day")
        add(
            "signatures",
            title,
            charts.two_panels(
                figures.signatures(),
                chart_id="chart-signatures",
                title=title,
                names=(_("Posts"), _("Confirmed signatures")),
                style=style,
                shared_scale=False,
            ),
            _(
                "The same days, one panel each, each with its own scale: compare when "
                "they rise and fall, not their heights. Signatures are the confirmed ones "
                "of the campaign's petitions, on the day they were confirmed."
            ),
            _shown_table(downloads.table(figures, "signatures"), style),
        )
    return found


def _milestone_rows(figures: analytics.Figures, style: Style) -> list[tuple[str, str]]:
    if not figures.totals.posts:
        return []
    return [
        (
            style.number(milestone.count),
            style.moment(milestone.passed_at) if milestone.passed_at else _("not yet"),
        )
        for milestone in figures.milestones()
    ]


def _posts(posts, style: Style) -> list[dict]:
    return [
        {
            "post": post,
            "platform": analytics.platform_name(post.platform),
            "day": style.day(post.created_at.date()),
            "engagement": style.number(post.engagement),
            # Only a web address becomes a link (never javascript: or data:).
            "url": post.url if post.url.startswith(("https://", "http://")) else "",
            "text": _isolated_hashtags(Truncator(post.text).chars(POST_CHARACTERS)),
            # A language attribute only for a plausible tag ("fa", "en-gb").
            "lang": post.language if post.language.replace("-", "").isalpha() else "",
        }
        for post in posts
    ]


def _isolated_hashtags(text: str) -> SafeString:
    """The text, escaped, with each hashtag in a <bdi>: in a Dari post "#BanTaliban"
    keeps its '#' in front instead of trailing after the word."""
    parts, last = [], 0
    for found in HASHTAG.finditer(text):
        parts.append(escape(text[last : found.start()]))
        parts.append(f"<bdi>{escape(found.group(0))}</bdi>")
        last = found.end()
    parts.append(escape(text[last:]))
    # Every piece went through escape(); only our <bdi> tags are markup.
    return SafeString("".join(parts))
