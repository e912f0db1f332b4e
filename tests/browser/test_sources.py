"""Share-link sources in a real browser, without JavaScript: a chain of signers who each
followed the previous one's share link, then the organisers' sources table and chart in
English and Dari (screenshots in tests/screenshots/ for review)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from hamseda.orgs.models import Role
from hamseda.orgs.services import create_organizer
from hamseda.petitions.models import Signature
from tests.browser.pages import DESKTOP, PHONE, make_story_petition, screenshot
from tests.browser.test_accessibility import violations
from tests.conftest import PASSWORD, make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign(page, number: int) -> str:
    """Fill and send the sign form on the open page; the thank-you page's copy link."""
    page.fill("#id_first_name", "Maryam")
    page.fill("#id_last_name", "Ahmadi")
    page.fill("#id_email", f"chain{number}@example.org")
    page.select_option("#id_country", "SE")
    page.click("form button[type=submit]")
    return page.input_value("#share-url")


def test_a_chain_of_sharers_and_the_organisers_sources(site, new_page):
    keys = make_org()
    petition = make_story_petition(keys.organization, signed=2)
    page = new_page()
    page.goto(f"{site}/fa/p/{petition.slug}/?s=poster")
    link = sign(page, 0)
    for number in range(1, 4):
        value = parse_qs(urlsplit(link).query)["s"][0]
        channel, _, code = value.partition(".")
        assert channel == "copy"
        reader = new_page()
        reader.goto(link.replace("copy.", "whatsapp.", 1))
        assert reader.input_value("input[name=source]") == f"whatsapp.{code}"
        link = sign(reader, number)
    generations = dict(
        Signature.objects.exclude(source_channel="").values_list(
            "source_generation", "source_channel"
        )
    )
    assert generations == {0: "poster", 1: "whatsapp", 2: "whatsapp", 3: "whatsapp"}

    owner = create_organizer(
        email="owner@example.org",
        password=PASSWORD,
        organization=keys.organization,
        role=Role.OWNER,
    )
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = new_page(javascript=True, viewport=viewport)
        page.goto(f"{site}/accounts/login/")
        page.fill("#id_login", owner.email)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        for language in ("en", "fa"):
            prefix = "" if language == "en" else f"/{language}"
            page.goto(f"{site}{prefix}/organize/petitions/{petition.slug}/")
            section = page.locator("section.sources-report")
            assert section.locator("svg[role=img]").count() == 2
            assert "generation-chart-desc" in section.inner_html()
            assert violations(page) == []
            screenshot(page, f"sources-{language}-{name}")
