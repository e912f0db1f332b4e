"""Headless Chromium for the browser tests: Debian's chromium, never a downloaded one.

The pages are served by pytest-django's `live_server` (Django in a thread, with static
files through `StaticFilesHandler`, so the stylesheet and the bundled font load as in
production).
"""

from pathlib import Path

import pytest

from tests.browser.pages import PHONE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Playwright's sync API keeps an asyncio loop in this
    thread while it runs, which Django takes for async code; the loop (and the relaxed
    guard) must end with the module, or every later test's ORM call would be refused."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(live_server, settings):
    """The live server's address; links in mails and share boxes point at it."""
    settings.BASE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    # Playwright fills a form in milliseconds, faster than the minimum fill time a
    # person needs (integrity.rules); that check is tested in tests/integrity.
    rules = {"min_fill_seconds": 0}
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_RULES": rules}
    return live_server.url


@pytest.fixture
def new_page(browser):
    """Open pages like a signer's phone: 360 px wide and, unless asked, no JavaScript."""
    contexts = []

    def open_page(*, javascript: bool = False, viewport: dict = PHONE, locale: str = "en-GB"):
        context = browser.new_context(
            java_script_enabled=javascript, viewport=viewport, locale=locale
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
