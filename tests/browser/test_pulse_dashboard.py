"""The pulse dashboard in Chromium: screenshots in English and Dari on a phone and a
desktop (tests/screenshots/pulse-*.png; none may scroll sideways), and axe's WCAG
checks of the dashboard and the organisers' pulse pages."""

import pytest
from django.utils import timezone

from hamseda.orgs.models import Role
from hamseda.orgs.services import create_organizer
from hamseda.pulse.demo import add_demo_pulse
from tests.browser.pages import DESKTOP, PHONE, make_story_petition, screenshot
from tests.browser.test_accessibility import violations
from tests.conftest import PASSWORD, make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign():
    petition = make_story_petition(make_org().organization, signed=3)
    add_demo_pulse(petition.campaign, now=timezone.now(), posts=600)
    return petition.campaign


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_dashboard_reads_on_a_phone_and_a_desktop(site, new_page, campaign, language):
    prefix = "" if language == "en" else f"/{language}"
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        page.goto(f"{site}{prefix}/c/{campaign.slug}/pulse/")
        assert page.locator("svg.pulse-svg").count() >= 8
        screenshot(page, f"pulse-{language}-{name}")


@pytest.mark.parametrize("language", ["en", "fa", "ps"])
def test_the_dashboard_has_no_accessibility_violations(site, new_page, campaign, language):
    prefix = "" if language == "en" else f"/{language}"
    page = new_page(javascript=True)
    page.goto(f"{site}{prefix}/c/{campaign.slug}/pulse/")
    page.click("details summary")  # A table of numbers, open.
    assert violations(page) == []


def test_the_organisers_pulse_pages_have_no_accessibility_violations(site, new_page, campaign):
    owner = create_organizer(
        email="owner@example.org",
        password=PASSWORD,
        organization=campaign.organization,
        role=Role.OWNER,
    )
    page = new_page(javascript=True, viewport=DESKTOP)
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_login", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    for path in (
        f"/organize/campaigns/{campaign.slug}/pulse/",
        f"/organize/campaigns/{campaign.slug}/pulse/posts/",
        f"/fa/organize/campaigns/{campaign.slug}/pulse/posts/?q=%23BanTaliban",
    ):
        page.goto(site + path)
        assert "/accounts/login" not in page.url, path
        assert violations(page) == [], path
    page.goto(f"{site}/organize/campaigns/{campaign.slug}/pulse/")
    page.click("form[action$='sources/new'] button[type=submit]")  # Empty: errors shown.
    assert violations(page) == []
    screenshot(page, "pulse-organize-en-desktop")
