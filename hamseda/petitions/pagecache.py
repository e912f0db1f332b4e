"""Short-lived caches of the public petition pages, shared by every anonymous reader.

At a viral peak thousands of people open the same petition page and get the same
thank-you page; rendering each anew costs more than the signature itself. A page is
cached per petition and language for a few seconds (the count on it may be that much
behind), and dropped at once when the petition changes state.

The petition page carries a form, so its CSRF token cannot be shared: the cached HTML
holds a placeholder that is replaced by the reader's own token on every request. The
same goes for what differs between readers of one page: the source of the link they
followed (the sign form's hidden `source` field) and, on the thank-you page, the
signer's own sharer code in the share links (petitions.sources). Each is put in already
validated, as lower-case letters, digits and dots, so it needs no escaping anywhere in
the page.
"""

from django.core.cache import cache
from django.middleware.csrf import get_token
from django.utils.html import escape

from hamseda.languages import CODES

PETITION_PAGE_SECONDS = 5
THANKS_PAGE_SECONDS = 60
CSRF_PLACEHOLDER = "hamseda-csrf-placeholder-3f9a1c"
# Letters only, so that URL-encoding a share link (petitions.sharing) leaves them as
# they are; no real source or code is this long.
SOURCE_PLACEHOLDER = "hamsedasourceplaceholderwqxz"
SHARER_PLACEHOLDER = "hamsedasharerplaceholderwqxz"


def petition_page_key(slug: str, language: str) -> str:
    return f"hamseda:page:{slug}:{language}"


def thanks_page_key(slug: str, language: str) -> str:
    return f"hamseda:thanks:{slug}:{language}"


def embed_page_key(slug: str, language: str) -> str:
    """The embeddable sign form's page (api.widget), cached like the petition page."""
    return f"hamseda:embed:{slug}:{language}"


def cached_html(key: str, seconds: int, render) -> str:
    """The page under `key`, rendered by `render()` (an HttpResponse) when missing."""
    html = cache.get(key)
    if html is None:
        html = render().content.decode()
        cache.set(key, html, seconds)
    return html


def with_csrf_token(request, html: str) -> str:
    """The cached page with the reader's own CSRF token (which also sets the cookie)."""
    return html.replace(CSRF_PLACEHOLDER, get_token(request))


def with_source(html: str, value: str) -> str:
    """The cached petition page with the reader's source (sources.form_value())."""
    return html.replace(SOURCE_PLACEHOLDER, escape(value))


def with_sharer_code(html: str, code: str) -> str:
    """The cached thank-you page with this signer's sharer code (sources.make_code())."""
    return html.replace(SHARER_PLACEHOLDER, escape(code))


def forget(slug: str) -> None:
    """Drop every cached page of a petition (called when its state changes).

    With a per-process cache (no HAMSEDA_REDIS_URL) other server processes keep theirs
    until it expires, a few seconds later.
    """
    cache.delete_many(
        [
            key(slug, code)
            for code in CODES
            for key in (petition_page_key, thanks_page_key, embed_page_key)
        ]
    )
