"""The embeddable sign form for partners' websites (docs/api-widget.md).

A partner pastes one snippet: a link to the petition, which is also the fallback without
JavaScript, and `<script src="…/widget.js">`. The script replaces the link with an iframe
of `embed/p/<slug>/`, a compact page with the title, the live count and the sign form;
or the partner pastes that iframe directly. Signing in the frame goes through the same
form class, integrity checks and service as the petition page (SignatureForm,
integrity.checks, petitions.services.sign_petition): same fields, same messages, same
confirmation mail, same sealing. Only the pages around them are smaller.

Framing. Every other page refuses to be framed (`frame-ancestors 'none'` from
hamseda.middleware and X-Frame-Options DENY). The embed pages answer with the site's
policy but `frame-ancestors *` (or settings.HAMSEDA["EMBED_FRAME_ANCESTORS"]) and are
exempt from X-Frame-Options: being framed is what they are for, and framing the sign form
gains a clickjacker nothing, because a signature needs a name and an address typed in
and a link in a mail followed.

CSRF. The frame is cross-site, so browsers do not send our SameSite=Lax cookies with its
POST: the embed sign view is exempt from Django's cookie-based CSRF check and needs no
cookie at all. What protects it instead (see `foreign_origin`):

1. A browser names the page a form was posted from (`Origin`, or `Sec-Fetch-Site` if an
   old one sends no Origin). A POST from any page that is not ours is refused, so another
   website cannot make its visitors' browsers sign, or spread a flood over their
   addresses to slip under the per-network limits.
2. The form must carry the signed time stamp that our embed page put in it (integrity
   .checks.form_started_stamp), not older than a day: a POST has to start from a form we
   served. (The petition page's form may omit it; here it is required.)
3. Beyond that, a forged POST can do nothing a signer could not do by typing: the
   signature stays pending until the address's owner follows the mailed link, and every
   integrity check and limit applies as on the petition page.

Nothing here sets or reads a cookie, and the embed pages hold no per-reader data, so the
form page is cached for a few seconds like the petition page (petitions.pagecache).
"""

import re
from dataclasses import dataclass
from functools import cache
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    QueryDict,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import etag, require_POST, require_safe

from hamseda.context import alternate_url
from hamseda.integrity import checks as integrity
from hamseda.kit import layouts
from hamseda.languages import CODES, current_language
from hamseda.middleware import CSP
from hamseda.petitions import pagecache, partner_consent, sources
from hamseda.petitions.forms import SignatureForm
from hamseda.petitions.models import Petition
from hamseda.petitions.sign_attempt import attempt_signature

# --- framing -------------------------------------------------------------------------

# The one directive of the site's policy the embed pages change (a test checks that it is
# there to be replaced).
SITE_ANCESTORS = "frame-ancestors 'none'"


def frame_ancestors() -> str:
    """Who may frame the embed pages: anyone by default (the point of a widget); an
    operator may list origins instead, e.g. "https://partner.example https://b.example"."""
    return str(settings.HAMSEDA.get("EMBED_FRAME_ANCESTORS") or "*")


def embed_csp() -> str:
    """The site's policy (nothing from other hosts, no inline code), framable."""
    return CSP.replace(SITE_ANCESTORS, f"frame-ancestors {frame_ancestors()}")


def _frameable(response: HttpResponseBase) -> HttpResponseBase:
    # SecurityHeadersMiddleware only adds its policy where a view set none.
    response["Content-Security-Policy"] = embed_csp()
    return response


# --- colours ---------------------------------------------------------------------------

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
# The embed page's own colours (static/hamseda/embed.css), which the theme is read on.
PAPER = (255, 255, 255)
TINT = (243, 246, 244)


def parse_hex(value: object) -> str:
    """ "#1F6F5C", "1f6f5c" or "1f6" → "1f6f5c"; anything else → "" (the default)."""
    if not isinstance(value, str):
        return ""
    match = _HEX.fullmatch(value.strip())
    if not match:
        return ""
    digits = match.group(1).lower()
    return "".join(c * 2 for c in digits) if len(digits) == 3 else digits


@dataclass(frozen=True)
class Theme:
    """A partner's colours, validated: six lower-case hex digits each, or "" for ours.
    Nothing else ever reaches a page or a stylesheet, so they need no escaping."""

    colour: str = ""
    accent: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> "Theme":
        return cls(
            parse_hex(query.get("colour") or query.get("color")), parse_hex(query.get("accent"))
        )

    def query(self) -> str:
        """ "?colour=…&accent=…", or "" for the default colours."""
        pairs = [(k, v) for k, v in (("colour", self.colour), ("accent", self.accent)) if v]
        return "?" + urlencode(pairs) if pairs else ""


def theme_css(theme: Theme) -> str:
    """Custom properties that embed.css reads. A partner's colour is kept for the button
    and the progress bar; its text colours are chosen for contrast (WCAG AA, with the kit's
    own arithmetic), so a light brand colour still gives readable buttons and links."""
    lines = ["/* Hamseda embed theme (docs/api-widget.md). */", ":root {"]
    if theme.colour:
        brand = layouts.parse_colour(theme.colour, layouts.BLACK)
        lines += [
            f"  --brand: #{theme.colour};",
            f"  --brand-ink: {_hex(layouts.readable_on(brand))};",
            f"  --link: {_hex(layouts.legible(brand, PAPER, TINT))};",
        ]
    if theme.accent:
        lines.append(f"  --accent: #{theme.accent};")
    return "\n".join([*lines, "}", ""])


def _hex(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _theme_link(theme: Theme) -> str:
    """The stylesheet link of a theme; one URL per pair of colours, in no language, so
    browsers and proxies share it between every embed in those colours."""
    if not theme.query():
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        href = reverse("widget:theme") + theme.query().replace("&", "&amp;")
    return f'<link rel="stylesheet" href="{href}">'


def _theme_query(theme: Theme) -> str:
    """The theme's query string, to append to an address in an HTML attribute."""
    return theme.query().replace("&", "&amp;")


THEME_CACHE_SECONDS = 86_400


@require_safe
def theme(request: HttpRequest) -> HttpResponse:
    """embed/theme.css?colour=1f6f5c&accent=f2c14e: anything but hex colours is ignored."""
    response = HttpResponse(
        theme_css(Theme.from_query(request.GET)), content_type="text/css; charset=utf-8"
    )
    response["Cache-Control"] = f"public, max-age={THEME_CACHE_SECONDS}"
    return response


# --- the script ------------------------------------------------------------------------

SCRIPT_CACHE_SECONDS = 3600


@cache
def _script() -> tuple[bytes, str]:
    """widget.js and its ETag, read once per process. Served by a view rather than as a
    static file so that its address stays /widget.js, without a version in it: partners
    paste it once and get our fixes."""
    path = finders.find("hamseda/widget.js")
    body = Path(str(path)).read_bytes()
    return body, '"' + sha256(body).hexdigest()[:32] + '"'


@require_safe
@etag(lambda request: _script()[1])
def widget_script(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_script()[0], content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={SCRIPT_CACHE_SECONDS}"
    # Readable by a page that loads it with `crossorigin` (for Subresource Integrity)
    # or under Cross-Origin-Embedder-Policy.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# --- the embed pages -------------------------------------------------------------------

# Put into the cached form page per request, from the validated Theme only.
THEME_LINK_PLACEHOLDER = "<!--hamseda-embed-theme-link-->"
THEME_QUERY_PLACEHOLDER = "hamsedaembedthemequeryplaceholder"
# How old the form's time stamp may be (see the module docstring, step 2).
FORM_MAX_AGE_SECONDS = 86_400
SOURCE = "widget"  # petitions.sources.CHANNELS: "Embedded form"


def _embedded_petition(slug: str) -> Petition:
    petition = get_object_or_404(
        Petition.objects.select_related("organization").prefetch_related(
            "translations", "co_hosts"
        ),
        slug=slug,
    )
    if not petition.is_public:
        raise Http404
    return petition


def _count_url(petition: Petition) -> str:
    # The read API's count endpoint (api/read/petitions.py): small, cached, same origin.
    return f"/api/v1/petitions/{petition.slug}/count"


def _trusted(html: str) -> SafeString:
    """Markup made in this module from fixed text and a Theme's hex digits only."""
    return mark_safe(html)  # noqa: S308 - nothing in it came from a request unchecked.


def _render(
    request: HttpRequest,
    petition: Petition,
    *,
    template: str = "api/embed.html",
    form: SignatureForm | None = None,
    status: int = 200,
    theme: Theme | None = None,
    **extra,
) -> HttpResponseBase:
    """An embed page in the reader's colours; with `theme` None, with placeholders for
    them (the cached page, see `embed`)."""
    if theme is None:
        theme_link, theme_query = THEME_LINK_PLACEHOLDER, THEME_QUERY_PLACEHOLDER
    else:
        theme_link, theme_query = _theme_link(theme), _theme_query(theme)
    context = {
        "petition": petition,
        "text": petition.text(),
        "form": form,
        "is_open": petition.is_open(timezone.now()),
        "source": SOURCE,
        "count_url": _count_url(petition),
        # An answer to the form's POST (errors, "check your inbox"): embed.js asks the
        # partner's page to show the frame's top, where the answer begins.
        "result": request.method == "POST",
        "theme_link": _trusted(theme_link),
        "theme_query": _trusted(theme_query),
        **extra,
    }
    return _frameable(render(request, template, context, status=status))


def _missing(request: HttpRequest, theme: Theme) -> HttpResponseBase:
    """An unknown or unpublished petition, said inside the frame (the site's 404 page
    would refuse to be framed and leave a blank box)."""
    response = render(
        request, "api/embed_missing.html", {"theme_link": _trusted(_theme_link(theme))}, status=404
    )
    return _frameable(response)


def _form_page(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The page as every reader gets it, with the theme left as placeholders."""
    petition = _embedded_petition(slug)
    form = None
    if petition.is_open(timezone.now()):
        offered = partner_consent.offered_partners(petition)
        form = SignatureForm(partners=partner_consent.consent_choices(offered) or None)
    return _render(request, petition, form=form)


def _language_redirect(request: HttpRequest, theme: Theme) -> HttpResponse | None:
    """`?lang=fa` (what a partner may guess) → /fa/embed/p/<slug>/, our address for it."""
    wanted = str(request.GET.get("lang", "")).lower()
    if wanted not in CODES or wanted == current_language():
        return None
    return HttpResponseRedirect(alternate_url(request.path, wanted) + theme.query())


@xframe_options_exempt
@require_safe
def embed(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The compact sign page for a frame: title, live count, the sign form."""
    theme = Theme.from_query(request.GET)
    moved = _language_redirect(request, theme)
    if moved:
        return moved
    try:
        html = pagecache.cached_html(
            pagecache.embed_page_key(slug, current_language()),
            pagecache.PETITION_PAGE_SECONDS,
            lambda: _form_page(request, slug),
        )
    except Http404:
        return _missing(request, theme)
    html = html.replace(THEME_LINK_PLACEHOLDER, _theme_link(theme))
    html = html.replace(THEME_QUERY_PLACEHOLDER, _theme_query(theme))
    return _frameable(HttpResponse(html))


def _own_origins(request: HttpRequest) -> set[str]:
    base = urlsplit(settings.BASE_URL)
    return {
        f"{request.scheme}://{request.get_host()}",
        f"{base.scheme}://{base.netloc}",
        *settings.CSRF_TRUSTED_ORIGINS,
    }


def foreign_origin(request: HttpRequest) -> bool:
    """Whether the browser says this POST was sent from a page that is not ours.

    Modern browsers send `Origin` with every POST; `Sec-Fetch-Site` is asked only when it
    is missing. A client that sends neither (an old browser, a script) gets through to the
    other checks: it could send the same request from its own machine anyway."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin not in _own_origins(request)
    return request.headers.get("Sec-Fetch-Site", "same-origin") not in {"same-origin", "none"}


def _stale_stamp(data: QueryDict, now) -> bool:
    """Whether the form lacks our genuine time stamp, or it is over a day old (a forged
    one is also refused by integrity.checks; this says it in the same words)."""
    served = integrity.form_started_at(str(data.get(integrity.STARTED_FIELD, "")))
    return served is None or now.timestamp() - served > FORM_MAX_AGE_SECONDS


@csrf_exempt  # No cookie reaches a cross-site frame; see the module docstring, "CSRF".
@xframe_options_exempt
@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The embed form's POST: the petition page's sign path, answered inside the frame."""
    theme = Theme.from_query(request.GET)
    try:
        petition = _embedded_petition(slug)
    except Http404:
        return _missing(request, theme)
    now = timezone.now()
    if not petition.is_open(now):
        return _render(request, petition, status=409, theme=theme)
    partners = partner_consent.lazy_consent_choices(petition)
    refused = _("This form could not be checked. Please reload the page and sign again.")
    if foreign_origin(request):
        return _render(request, petition, status=403, integrity_message=refused, theme=theme)
    data: QueryDict = request.POST
    if _stale_stamp(data, now):
        # The form again, with a fresh stamp, so that pressing "Sign" once more works.
        data = data.copy()
        data[integrity.STARTED_FIELD] = integrity.form_started_stamp(now)
        form = SignatureForm(data, partners=partners)
        form.is_valid()
        return _render(
            request, petition, form=form, status=400, integrity_message=refused, theme=theme
        )
    source = sources.form_value(data.get("source", SOURCE))
    attempt = attempt_signature(request, petition, data, source=source, now=now)
    if not attempt.signed:
        response = _render(
            request,
            petition,
            form=attempt.form,
            status=attempt.status,
            integrity_message=attempt.message or None,
            pow_challenge=attempt.verdict.challenge if attempt.verdict else None,
            theme=theme,
        )
        if attempt.verdict and attempt.verdict.retry_after:
            response["Retry-After"] = str(attempt.verdict.retry_after)
        return response
    # The same page for a new and a repeated signature, as on the petition page: the
    # frame must not tell whether an address had signed; the mail tells its owner.
    return _render(request, petition, template="api/embed_signed.html", theme=theme)


# --- the snippets partners paste -------------------------------------------------------

# What the frame may do on the partner's page: post its form, run its own scripts, keep
# its own origin (so its POST carries our Origin), and open the petition in a new window.
# It may not navigate the partner's page.
SANDBOX = "allow-forms allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox"
# The plain frame cannot size itself: tall enough for the form with its messages.
FRAME_HEIGHT = 900


@dataclass(frozen=True)
class Snippets:
    script: str  # the link and widget.js
    frame: str  # the plain iframe


def snippets(petition: Petition, language: str | None = None) -> Snippets:
    """Both snippets for a petition, in a language (default: the current one), in the
    campaign's colours. Plain text: the page that shows them escapes them."""
    language = language or current_language()
    campaign = petition.campaign
    theme = Theme(
        parse_hex(campaign.colour) if campaign else "",
        parse_hex(campaign.accent_colour) if campaign else "",
    )
    with translation.override(language):
        title = escape(_("Sign the petition"))
        page = settings.BASE_URL + reverse("petitions:detail", args=[petition.slug])
        frame_src = settings.BASE_URL + reverse("widget:embed", args=[petition.slug])
    colours = "".join(
        f' data-{name}="#{value}"'
        for name, value in (("colour", theme.colour), ("accent", theme.accent))
        if value
    )
    script = (
        f'<a class="hamseda-petition" href="{page}" data-petition="{petition.slug}"'
        f' data-lang="{language}"{colours}>{title}</a>\n'
        f'<script src="{settings.BASE_URL}/widget.js" async></script>'
    )
    frame = (
        f'<iframe class="hamseda-petition-frame" src="{frame_src}{escape(theme.query())}"'
        f' title="{title}" width="100%" height="{FRAME_HEIGHT}" frameborder="0" loading="lazy"'
        f' referrerpolicy="no-referrer" sandbox="{SANDBOX}"></iframe>'
    )
    return Snippets(script=script, frame=frame)
