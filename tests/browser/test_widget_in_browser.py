"""The embeddable sign form on a partner's page, in Chromium.

The partner's page is served by a tiny HTTP server on another address (127.0.0.1, while
the install is `localhost`: another site, so the frame is cross-site and our cookies
would not be sent with its POST) under a strict Content-Security-Policy that allows the
install in `script-src` and `frame-src` only, and requires Trusted Types. The signer
signs inside the frame, confirms from the mail, and the frame's count goes up at its
next poll. No page may report a CSP violation.

Screenshots land in tests/screenshots/ (gitignored) for people to look at.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from hamseda.api import widget
from hamseda.petitions.models import Signature, SignatureState
from tests.browser.pages import DESKTOP, PHONE, make_story_petition, screenshot
from tests.conftest import confirmation_link, make_org, run_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records every CSP violation of every document, the partner's and the frame's; runs
# before the page's own scripts (Playwright injects it, so the page's CSP allows it).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(event.violatedDirective + " " + event.blockedURI);
});
"""
FRAME = "iframe.hamseda-petition-frame"


def partner_policy(site: str) -> str:
    """As strict as a careful partner's: nothing but our script and our frame."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {site}",
            f"frame-src {site}",
            "style-src 'self'",
            "img-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "require-trusted-types-for 'script'",
        ]
    )


def partner_pages(site: str, petition) -> dict[str, str]:
    en = widget.snippets(petition, "en")
    # A Dari page that names no language in the snippet: the widget reads <html lang>.
    dari_link = (
        f'<a class="hamseda-petition" href="{site}/fa/p/{petition.slug}/"'
        f' data-petition="{petition.slug}" data-colour="#8a1538" data-accent="#f2c14e">'
        f"دادخواست را امضا کنید</a>"
        f'<script src="{site}/widget.js" async></script>'
    )
    page = (
        '<!doctype html><html lang="{lang}" dir="{dir}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Partner</title></head><body><h1>{heading}</h1><p>{text}</p>{snippet}"
        "<p>Footer of the partner's page.</p></body></html>"
    )
    return {
        "/": page.format(
            lang="en", dir="ltr", heading="Afghan Voices", text="Sign with us.", snippet=en.script
        ),
        "/fa": page.format(
            lang="fa-AF",
            dir="rtl",
            heading="صداهای افغان",
            text="با ما امضا کنید.",
            snippet=dari_link,
        ),
        "/frame": page.format(
            lang="en", dir="ltr", heading="Afghan Voices", text="A plain frame.", snippet=en.frame
        ),
    }


@contextmanager
def partner_site(site: str, petition) -> Iterator[str]:
    """The partner's website on its own port, every page with the strict policy."""
    pages = partner_pages(site, petition)
    policy = partner_policy(site)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            if body is None:
                self.send_response(204 if self.path == "/favicon.ico" else 404)
                self.end_headers()
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def story(site):
    mail.outbox = []
    return make_story_petition(make_org().organization, signed=3)


@pytest.fixture
def partner(site, story):
    with partner_site(site, story) as address:
        yield address


def watched(new_page, **options):
    """A page with JavaScript that records CSP violations and console errors."""
    page = new_page(javascript=True, **options)
    page.add_init_script(WATCH_CSP)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def violations(page) -> list[str]:
    """CSP violations recorded by every document now in the page (partner and frame)."""
    found = []
    for frame in page.frames:
        found += frame.evaluate("window.__csp || []")
    return found


def embedded(page):
    """Wait for the widget to show its frame (the link is hidden only then)."""
    expect(page.locator(FRAME)).to_be_visible()
    expect(page.locator("a.hamseda-petition")).to_be_hidden()
    return page.frame_locator(FRAME)


def shot(page, name: str, *, javascript: bool = True) -> None:
    """A screenshot of the whole partner page. The frame is another site's document,
    painted by another process: Chromium's full-page capture (which grows the page past
    the window) leaves it partly blank, so the window is made as tall as the page."""
    window = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": window["width"], "height": max(height, window["height"])})
    # Two animation frames (which need JavaScript): the frame has painted since.
    for frame in page.frames[1:] if javascript else []:
        frame.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    screenshot(page, name)
    page.set_viewport_size(window)


def sign_in(frame, first_name: str, email: str) -> None:
    frame.locator("[name=first_name]").fill(first_name)
    frame.locator("[name=last_name]").fill("Ahmadi")
    frame.locator("[name=email]").fill(email)
    frame.locator("[name=country]").select_option("AF")
    frame.locator("button[type=submit]").click()


def confirm_from_mail(new_page, site: str) -> None:
    run_tasks()
    assert len(mail.outbox) == 1
    link = confirmation_link(mail.outbox[0])
    assert link.startswith(f"{site}/")
    assert new_page().goto(link).status == 200
    mail.outbox = []


def test_a_signer_signs_inside_the_widget_on_a_strict_partner_page(site, story, partner, new_page):
    page, errors = watched(new_page, viewport=DESKTOP)
    response = page.goto(partner)
    assert response.headers["content-security-policy"] == partner_policy(site)
    frame = embedded(page)
    expect(frame.locator("html")).to_have_attribute("lang", "en")
    expect(frame.locator("[data-count]")).to_have_text("3")
    expect(frame.locator("h1")).to_have_text("Suspend the Taliban's accounts")
    # Sized to its content: the whole form shows, without a scroll bar in the frame.
    height = page.locator(FRAME).bounding_box()["height"]
    inner = frame.locator("html").evaluate("html => html.getBoundingClientRect().height")
    assert abs(height - inner) <= 1
    assert frame.locator("html").evaluate("html => html.scrollHeight <= innerHeight")
    # The partner's colours, through the validated theme.
    button = frame.locator("button[type=submit]")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 111, 92)"
    shot(page, "widget-partner-en-1280")

    sign_in(frame, "Maryam", "maryam@example.org")
    expect(frame.locator("h1")).to_have_text("Almost done: check your inbox")
    signature = Signature.objects.get(source_channel="widget")
    assert signature.state == SignatureState.PENDING
    assert signature.source_channel == "widget"
    shot(page, "widget-partner-en-1280-signed")
    assert violations(page) == []

    # A new visit to the partner's page, then the signer confirms from the mail. The
    # frame's count poll runs on a fake clock: 30 s pass when the test says so.
    cache.clear()
    page.clock.install()
    page.reload()
    frame = embedded(page)
    expect(frame.locator("[data-count]")).to_have_text("3")
    confirm_from_mail(new_page, site)
    page.clock.fast_forward("00:31")
    expect(frame.locator("[data-count]")).to_have_text("4")
    expect(frame.locator("[data-count-words]")).to_have_text("people have signed")

    assert violations(page) == []
    assert errors == []


def test_a_signer_signs_in_dari_on_a_phone(site, story, partner, new_page):
    page, errors = watched(new_page, viewport=PHONE, locale="fa-AF")
    page.goto(f"{partner}/fa")
    frame = embedded(page)
    # No data-lang: the partner page's own language (fa-AF) decides.
    expect(frame.locator("html")).to_have_attribute("lang", "fa")
    expect(frame.locator("html")).to_have_attribute("dir", "rtl")
    expect(frame.locator("h1")).to_have_text("حساب‌های طالبان را مسدود کنید")
    assert "/fa/embed/p/" in page.locator(FRAME).get_attribute("src")
    button = frame.locator("button[type=submit]")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(138, 21, 56)"
    # The form runs right to left: the first field's label starts at the right.
    label = frame.locator("label[for=id_first_name]").bounding_box()
    box = page.locator(FRAME).bounding_box()
    assert label["x"] + label["width"] > box["x"] + box["width"] / 2
    shot(page, "widget-partner-fa-360")

    # An empty form: the messages, in Dari, inside the frame, whose top (where they
    # begin) the widget brings back into the window.
    frame.locator("button[type=submit]").click()
    expect(frame.locator(".errors[role=alert]")).to_be_visible()
    expect(frame.locator(".errors[role=alert]")).to_be_in_viewport()
    expect(frame.locator("[name=first_name]")).to_have_attribute("aria-invalid", "true")
    shot(page, "widget-partner-fa-360-errors")

    sign_in(frame, "زهرا", "zahra@example.org")
    expect(frame.locator("h1")).to_be_visible()
    expect(frame.locator("section.done")).to_be_visible()
    shot(page, "widget-partner-fa-360-signed")
    assert Signature.objects.get(source_channel="widget").language == "fa"
    confirm_from_mail(new_page, site)
    assert Signature.objects.get(source_channel="widget").state == SignatureState.VALIDATED

    assert violations(page) == []
    # Chromium logs the empty form's 400 answer as an error itself.
    assert [error for error in errors if "status of 400" not in error] == []


def test_the_partner_pages_in_english_on_a_phone_and_dari_on_a_desktop(
    site, story, partner, new_page
):
    for path, viewport, name in (("/", PHONE, "en-360"), ("/fa", DESKTOP, "fa-1280")):
        page, errors = watched(new_page, viewport=viewport)
        page.goto(f"{partner}{path}")
        frame = embedded(page)
        expect(frame.locator("[data-count]")).to_have_text("3")
        shot(page, f"widget-partner-{name}")
        assert violations(page) == []
        assert errors == []


def test_without_javascript_the_link_is_there_and_the_plain_frame_signs(
    site, story, partner, new_page
):
    page = new_page()  # JavaScript off.
    page.goto(partner)
    link = page.locator("a.hamseda-petition")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == f"{site}/p/{story.slug}/"
    assert page.locator(FRAME).count() == 0
    shot(page, "widget-partner-nojs-360", javascript=False)

    # The plain iframe needs no script: its form posts and answers inside the frame.
    page.goto(f"{partner}/frame")
    frame = page.frame_locator(FRAME)
    expect(frame.locator("[data-count]")).to_have_text("3")
    sign_in(frame, "Farid", "farid@example.org")
    expect(frame.locator("h1")).to_have_text("Almost done: check your inbox")
    shot(page, "widget-partner-frame-360-signed", javascript=False)
    assert Signature.objects.get(source_channel="widget").source_channel == "widget"
