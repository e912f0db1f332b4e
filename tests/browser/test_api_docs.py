"""Swagger UI at /api/v1/docs in Chromium, under the site's strict Content-Security-
Policy: it loads only files of this install and runs without one refused script or
style (tests/api/test_docs.py checks the page and the document without a browser)."""

import pytest

from tests.conftest import make_org, make_petition

API = "/api/v1"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_runs_under_the_strict_csp(site, new_page):
    make_petition(make_org().organization)
    page = new_page(javascript=True, viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: request.url.startswith((site, "data:")) or elsewhere.append(request.url),
    )
    page.goto(f"{site}{API}/docs")
    # Swagger UI fetched and rendered the document: the operations are listed.
    page.get_by_text(f"{API}/petitions/{{slug}}/count", exact=True).wait_for()
    page.get_by_text(f"{API}/petitions/{{slug}}/count", exact=True).click()
    page.get_by_text("signature_count").first.wait_for()
    # A refused inline script or style, or a failed parse, shows as a console error.
    assert problems == []
    assert elsewhere == []
