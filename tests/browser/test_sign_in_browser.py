"""A signer's path in a real browser: a 360-px phone with JavaScript off, in English,
Dari and Pashto; then the same pages with JavaScript on, checked for CSP violations,
console errors and requests to other hosts.

Screenshots land in tests/screenshots/ (gitignored) for people to look at.
"""

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import expect

from tests.browser.pages import DESKTOP, PHONE, SCREENSHOTS, make_story_petition, screenshot
from tests.conftest import confirmation_link, make_org, run_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def html_attributes(page) -> tuple[str | None, str | None]:
    html = page.locator("html")
    return html.get_attribute("lang"), html.get_attribute("dir")


def sent_link(site: str) -> str:
    """Deliver the queued mail as the worker would, and return its confirmation link."""
    assert mail.outbox == []
    run_tasks()
    assert len(mail.outbox) == 1
    link = confirmation_link(mail.outbox[0])
    assert link.startswith(f"{site}/")
    return link


def test_a_signer_signs_confirms_and_is_listed_in_english(site, new_page):
    mail.outbox = []
    petition = make_story_petition(make_org().organization)
    page = new_page()

    response = page.goto(f"{site}/p/{petition.slug}/")
    assert response.status == 200
    assert html_attributes(page) == ("en", "ltr")
    page.get_by_label("First name", exact=True).fill("Maryam")
    page.get_by_label("Last name", exact=True).fill("Ahmadi")
    page.get_by_label("E-mail", exact=True).fill("maryam@example.org")
    page.get_by_label("Country", exact=True).select_option("AF")
    page.get_by_label("Show my first name publicly").check()
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign", exact=True).click()
    assert navigation.value.status == 200

    assert "check your inbox" in page.locator("main h1").inner_text()
    links = page.locator(".share-links a")
    assert links.count() >= 4
    assert "wa.me" in links.first.get_attribute("href")
    # The signer's own share link: the page, the channel and their sharer code.
    assert page.locator("#share-url").input_value().startswith(f"{site}/p/{petition.slug}/?s=copy.")
    screenshot(page, "thanks-en-360")

    response = page.goto(sent_link(site))
    assert response.status == 200
    assert "your signature is confirmed" in page.locator("main h1").inner_text()
    assert page.locator(".count .number").inner_text() == "1"
    screenshot(page, "confirmed-en-360")

    cache.clear()  # The public page may be a few seconds old (petitions.pagecache).
    page.goto(f"{site}/p/{petition.slug}/")
    assert page.locator(".signers li bdi").all_inner_texts() == ["Maryam"]
    assert "Ahmadi" not in page.content()  # Only the first name is ever public.


def test_a_signer_signs_in_dari_and_sees_the_name_exactly_as_typed(site, new_page):
    mail.outbox = []
    petition = make_story_petition(make_org().organization)
    page = new_page(locale="fa-AF")

    page.goto(f"{site}/fa/p/{petition.slug}/")
    assert html_attributes(page) == ("fa", "rtl")
    assert page.locator("main h1").inner_text() == "حساب‌های طالبان را مسدود کنید"
    # Labels may be translated by now, so the fields are found by their names.
    page.locator("[name=first_name]").fill("زهرا")
    page.locator("[name=last_name]").fill("احمدی")
    page.locator("[name=email]").fill("zahra@example.org")
    page.locator("[name=country]").select_option("AF")
    page.locator("[name=show_name]").check()
    with page.expect_navigation() as navigation:
        page.locator("aside.sign button[type=submit]").click()
    assert navigation.value.status == 200
    assert page.url.startswith(f"{site}/fa/")
    assert html_attributes(page) == ("fa", "rtl")
    assert (
        page.locator("#share-url").input_value().startswith(f"{site}/fa/p/{petition.slug}/?s=copy.")
    )
    screenshot(page, "thanks-fa-360")

    link = sent_link(site)
    assert f"/fa/p/{petition.slug}/confirm/" in link
    response = page.goto(link)
    assert response.status == 200
    assert html_attributes(page) == ("fa", "rtl")
    assert page.locator(".count .number").inner_text() == "1"
    screenshot(page, "confirmed-fa-360")

    cache.clear()  # The public page may be a few seconds old.
    page.goto(f"{site}/fa/p/{petition.slug}/")
    assert page.locator(".signers li bdi").all_inner_texts() == ["زهرا"]


@pytest.mark.parametrize("language", ["en", "fa"])
def test_an_empty_form_gets_clear_messages_without_javascript(site, new_page, language):
    petition = make_story_petition(make_org().organization)
    page = new_page()
    prefix = "" if language == "en" else f"/{language}"
    page.goto(f"{site}{prefix}/p/{petition.slug}/")

    with page.expect_navigation() as navigation:
        page.locator("aside.sign button[type=submit]").click()
    assert navigation.value.status == 400
    # The form posts to #sign: the browser shows the form and its messages, not the top
    # of a long story.
    assert page.url.endswith("/sign#sign")
    expect(page.locator(".errors[role=alert]")).to_be_in_viewport()
    for name in ("first_name", "last_name", "email", "country"):
        field = page.locator(f"[name={name}]")
        assert field.get_attribute("aria-invalid") == "true", name
        error = page.locator(f"#id_{name}_error")
        assert error.is_visible(), name
        assert field.get_attribute("aria-describedby") == f"id_{name}_error", name
    if language == "en":
        messages = page.locator(".field .error").all_inner_texts()
        assert messages == [
            "Please enter your first name.",
            "Please enter your last name.",
            "Please enter your e-mail address.",
            "Please choose your country.",
        ]
    screenshot(page, f"errors-{language}-360")

    # A wrong address is named, and what was typed is kept.
    page.locator("[name=first_name]").fill("Maryam")
    page.locator("[name=email]").fill("maryam@")
    with page.expect_navigation():
        page.locator("aside.sign button[type=submit]").click()
    assert page.locator("[name=first_name]").input_value() == "Maryam"
    assert page.locator("[name=email]").input_value() == "maryam@"
    assert page.locator("[name=first_name]").get_attribute("aria-invalid") is None
    if language == "en":
        assert "valid e-mail address" in page.locator("#id_email_error").inner_text()


def test_screenshots_of_the_public_pages(site, new_page):
    """Petition pages in three languages on a phone and a desktop, the home and the
    campaign page; `screenshot` checks that none of them scrolls sideways."""
    petition = make_story_petition(make_org().organization, signed=37)
    for language in ("en", "fa", "ps"):
        prefix = "" if language == "en" else f"/{language}"
        for name, viewport in (("360", PHONE), ("1280", DESKTOP)):
            page = new_page(viewport=viewport)
            page.goto(f"{site}{prefix}/p/{petition.slug}/")
            assert page.locator(".count .number").inner_text() == "37"
            screenshot(page, f"petition-{language}-{name}")
        # Keyboard users see where they are: the skip link, then a focused button.
        page.keyboard.press("Tab")
        expect(page.locator(".skip")).to_be_focused()
        page.screenshot(path=str(SCREENSHOTS / f"focus-skip-{language}.png"))
        page.locator("[name=keep_updated]").focus()
        page.keyboard.press("Tab")
        expect(page.locator("aside.sign button[type=submit]")).to_be_focused()
        page.locator("aside.sign").screenshot(path=str(SCREENSHOTS / f"focus-sign-{language}.png"))
        page = new_page()
        page.goto(f"{site}{prefix}/")
        screenshot(page, f"home-{language}-360")
        page.goto(f"{site}{prefix}/c/{petition.campaign.slug}/")
        screenshot(page, f"campaign-{language}-360")


def test_with_javascript_there_are_no_csp_violations_console_errors_or_other_hosts(site, new_page):
    mail.outbox = []
    petition = make_story_petition(make_org().organization, signed=3)
    page = new_page(javascript=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    errors, requests = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))

    for path in ("/", f"/c/{petition.campaign.slug}/", f"/fa/p/{petition.slug}/"):
        page.goto(f"{site}{path}")
        assert page.evaluate("document.fonts.ready.then(fonts => fonts.status)") == "loaded"
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"{path} scrolls sideways"
    # The Dari page really uses the bundled font.
    assert page.evaluate("document.fonts.check('16px Vazirmatn', 'سلام')")
    assert "Vazirmatn" in page.evaluate("getComputedStyle(document.body).fontFamily")

    page.goto(f"{site}/p/{petition.slug}/")
    page.get_by_label("First name", exact=True).fill("Maryam")
    page.get_by_label("Last name", exact=True).fill("Ahmadi")
    page.get_by_label("E-mail", exact=True).fill("maryam@example.org")
    page.get_by_label("Country", exact=True).select_option("SE")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign", exact=True).click()

    # The copy button is a progressive enhancement of the readonly share box.
    button = page.get_by_role("button", name="Copy", exact=True)
    button.click()
    page.get_by_role("button", name="Copied", exact=True).wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"{site}/p/{petition.slug}/?s=copy.")
    screenshot(page, "thanks-en-360-js")

    link = sent_link(site)
    page.goto(link)
    page.get_by_role("button", name="Copy", exact=True).wait_for()
    # In Dari the button speaks Dari: its words come from the translated template.
    page.goto(link.replace(site, f"{site}/fa", 1))
    row = page.locator(".copy-row")
    expect(row.locator("button")).to_have_text(row.get_attribute("data-copy-label"))
    screenshot(page, "confirmed-fa-360-js")
    page.goto(f"{site}/ps/p/{petition.slug}/")
    page.get_by_role("button", name="Copy", exact=True).wait_for(state="detached")

    assert errors == []
    assert requests
    strangers = [url for url in requests if not url.startswith(f"{site}/")]
    assert strangers == []
    assert any(url.endswith(".woff2") for url in requests)
    assert any(url.endswith("/share.js") for url in requests)
