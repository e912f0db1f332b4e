"""Why the Referrer-Policy is "same-origin" and not "no-referrer" (settings.py, "Request
limits and security"): a real browser must be able to post the sign form.

Under "no-referrer" a browser sends "Origin: null" and no Referer with a same-origin
form POST (Fetch standard, "append a request Origin header"); Django's CSRF check
rightly refuses that origin, so nobody could sign. The Django test client applies no
referrer policy, so only a browser shows it.
"""

import pytest

from tests.browser.pages import make_story_petition
from tests.conftest import make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign(page, site: str, slug: str, *, policy: str | None = None) -> int:
    """Fill in and post the sign form; `policy` replaces the page's Referrer-Policy."""
    if policy is not None:

        def with_policy(route):
            response = route.fetch()
            route.fulfill(
                response=response, headers={**response.headers, "referrer-policy": policy}
            )

        page.route(f"{site}/p/{slug}/", with_policy)
    page.goto(f"{site}/p/{slug}/")
    page.get_by_label("First name", exact=True).fill("Maryam")
    page.get_by_label("Last name", exact=True).fill("Ahmadi")
    page.get_by_label("E-mail", exact=True).fill(f"maryam-{policy or 'ours'}@example.org")
    page.get_by_label("Country", exact=True).select_option("AF")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign", exact=True).click()
    return navigation.value.status


def test_a_browser_can_sign_under_our_referrer_policy(site, new_page):
    petition = make_story_petition(make_org().organization)
    page = new_page()
    assert page.goto(f"{site}/p/{petition.slug}/").headers["referrer-policy"] == "same-origin"
    assert sign(page, site, petition.slug) == 200


def test_under_no_referrer_the_browser_could_not_sign(site, new_page):
    petition = make_story_petition(make_org().organization)
    assert sign(new_page(), site, petition.slug, policy="no-referrer") == 403
