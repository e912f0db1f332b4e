"""A signer behind a busy address (over the network limit) signs with JavaScript on:
the 429 page's self-hosted pow.js does the work and resubmits, and the signature is in.
Without JavaScript the same page says when to try again."""

import pytest
from django.conf import settings as django_settings

from hamseda.petitions.models import Signature
from tests.browser.pages import make_story_petition
from tests.conftest import make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busy_network(settings):
    """One signature per network per 10 minutes, and work that takes a moment."""
    settings.HAMSEDA = {
        **django_settings.HAMSEDA,
        "INTEGRITY_RULES": {"per_network_10min": 1, "min_fill_seconds": 0},
        "INTEGRITY_POW_BITS": 12,
    }


def fill(page, email: str) -> None:
    page.fill("#id_first_name", "Maryam")
    page.fill("#id_last_name", "Ahmadi")
    page.fill("#id_email", email)
    page.select_option("#id_country", "SE")
    page.click("button[type=submit]")


def test_over_the_limit_the_browser_does_the_work_and_signs(site, new_page, busy_network):
    petition = make_story_petition(make_org().organization)
    page = new_page(javascript=True)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{site}/p/{petition.slug}/")
    fill(page, "first@gmail.com")
    page.wait_for_selector("text=Almost done")

    page.goto(f"{site}/p/{petition.slug}/")
    fill(page, "second@gmail.com")
    # The 429 page solves the challenge and resubmits by itself.
    page.wait_for_selector("text=Almost done", timeout=30_000)
    assert Signature.objects.filter(petition=petition).count() == 2
    # No CSP violation, no script error; Chromium logs the 429 answer itself as one.
    assert [e for e in errors if "status of 429" not in e] == []


def test_without_javascript_the_page_says_when_to_try_again(site, new_page, busy_network):
    petition = make_story_petition(make_org().organization)
    page = new_page()
    page.goto(f"{site}/p/{petition.slug}/")
    fill(page, "first@gmail.com")
    page.wait_for_selector("text=Almost done")
    page.goto(f"{site}/p/{petition.slug}/")
    fill(page, "second@gmail.com")
    page.wait_for_selector("text=Please try again in about")
    assert page.input_value("#id_email") == "second@gmail.com"
    assert Signature.objects.filter(petition=petition).count() == 1
