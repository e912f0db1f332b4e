"""axe-core (bundled in the axe-playwright-python package, nothing fetched) checks the
pages a signer and an organiser see, in English, Dari and Pashto, for WCAG 2 A/AA
violations: labels, contrast, landmarks, language attributes, names of links and buttons.

axe is injected through the DevTools protocol, which the page's strict CSP does not
govern, so the CSP stays exactly as in production.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from hamseda.orgs.models import Role
from hamseda.orgs.services import create_organizer
from tests.browser.pages import make_story_petition
from tests.conftest import PASSWORD, make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("language", ["en", "fa", "ps"])
def test_the_signers_pages_have_no_accessibility_violations(site, new_page, language):
    petition = make_story_petition(make_org().organization, signed=3)
    prefix = "" if language == "en" else f"/{language}"
    page = new_page(javascript=True)

    page.goto(f"{site}{prefix}/")
    assert violations(page) == []
    page.goto(f"{site}{prefix}/p/{petition.slug}/")
    assert violations(page) == []
    page.click("form button[type=submit]")  # Empty: every field shows its error.
    assert violations(page) == []
    page.fill("#id_first_name", "Maryam")
    page.fill("#id_last_name", "Ahmadi")
    page.fill("#id_email", "maryam@example.org")
    page.select_option("#id_country", "SE")
    page.click("form button[type=submit]")
    assert violations(page) == []  # The thank-you page.


def test_the_organizer_pages_have_no_accessibility_violations(site, new_page):
    keys = make_org()
    petition = make_story_petition(keys.organization, signed=3)
    owner = create_organizer(
        email="owner@example.org",
        password=PASSWORD,
        organization=keys.organization,
        role=Role.OWNER,
    )
    page = new_page(javascript=True, viewport={"width": 1280, "height": 900})
    page.goto(f"{site}/accounts/login/")
    assert violations(page) == []
    page.fill("#id_login", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    for path in (
        "/organize/",
        "/organize/petitions/new",
        f"/organize/petitions/{petition.slug}/",
        "/organize/moderate/",
    ):
        page.goto(site + path)
        assert violations(page) == [], path


@pytest.mark.parametrize("language", ["en", "fa", "ps"])
def test_the_privacy_and_erasure_pages_have_no_accessibility_violations(site, new_page, language):
    make_story_petition(make_org().organization)
    prefix = "" if language == "en" else f"/{language}"
    page = new_page(javascript=True)
    for path in ("/privacy/", "/privacy/erase/", "/accounts/login/"):
        page.goto(f"{site}{prefix}{path}")
        assert violations(page) == [], path
    page.goto(f"{site}{prefix}/privacy/erase/")
    page.click("main form button[type=submit]")  # Empty: the error state.
    assert violations(page) == []


def test_the_organisation_pages_have_no_accessibility_violations(site, new_page):
    """Members, keys, audit log, export and the two-factor pages, as an owner with 2FA."""
    from tests.two_factor import enable_two_factor, totp_code

    keys = make_org()
    petition = make_story_petition(keys.organization, signed=2)
    owner = create_organizer(
        email="owner@example.org",
        password=PASSWORD,
        organization=keys.organization,
        role=Role.OWNER,
    )
    enable_two_factor(owner)
    page = new_page(javascript=True, viewport={"width": 1280, "height": 900})
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_login", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    assert violations(page) == []  # The code prompt.
    page.fill("#id_code", totp_code())
    page.click("main form button[type=submit]")
    slug = keys.organization.slug
    for path in (
        f"/organize/org/{slug}/members",
        f"/organize/org/{slug}/keys",
        f"/organize/org/{slug}/audit",
        f"/organize/petitions/{petition.slug}/export",
        "/organize/decrypt",
        "/accounts/2fa/",
    ):
        page.goto(site + path)
        assert "/accounts/login" not in page.url, path
        assert violations(page) == [], path


def test_the_check_catches_a_missing_label(site, new_page):
    """The harness itself works: a form field without a label is reported."""
    petition = make_story_petition(make_org().organization)
    page = new_page(javascript=True)
    page.goto(f"{site}/p/{petition.slug}/")
    page.evaluate("document.querySelector('label[for=id_email]').remove()")
    assert any(found.startswith("label ") for found in violations(page))
