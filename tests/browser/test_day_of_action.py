"""The day-of-action page in a real browser, in English and Dari, with three city
protests (San Francisco, London, Stockholm); an RSVP through the event page; and
axe-core on the day and event pages. Screenshots land in tests/screenshots/."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from hamseda.actions.models import Rsvp
from tests.actions.factories import make_campaign, make_day, make_event
from tests.browser.pages import DESKTOP, screenshot
from tests.browser.test_accessibility import violations
from tests.conftest import confirmation_link, make_org, run_tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITIES = [
    ("sf-protest", "San Francisco", "US", "America/Los_Angeles", "37.77490", "-122.41940"),
    ("london-protest", "London", "GB", "Europe/London", "51.50740", "-0.12780"),
    ("stockholm-protest", "Stockholm", "SE", "Europe/Stockholm", "59.32930", "18.06860"),
]


def three_cities():
    now = timezone.now()
    day = make_day(make_campaign(make_org().organization), now=now)
    for slug, city, country, zone, latitude, longitude in CITIES:
        make_event(
            day,
            slug,
            city=city,
            country=country,
            time_zone=zone,
            now=now,
            starts_in=timedelta(days=10),
            latitude=latitude,
            longitude=longitude,
        )
    return day


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_day_of_action_page_in_english_and_dari(site, new_page, language):
    day = three_cities()
    prefix = "" if language == "en" else f"/{language}"
    page = new_page(javascript=True, viewport=DESKTOP)
    response = page.goto(f"{site}{prefix}/c/{day.campaign.slug}/days/{day.slug}/")
    assert response.status == 200
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "fa" else "ltr")
    for _slug, city, *_rest in CITIES:
        assert page.get_by_text(city, exact=True).count() >= 1
    screenshot(page, f"day-of-action-{language}")
    assert violations(page) == []


def test_an_rsvp_through_the_event_page(site, new_page):
    mail.outbox = []
    three_cities()
    page = new_page(javascript=True)  # axe runs as a script.
    page.goto(f"{site}/e/london-protest/")
    assert violations(page) == []
    page.fill("#id_first_name", "Maryam")
    page.fill("#id_last_name", "Browser")
    page.fill("#id_email", "browser@example.org")
    page.click("form button[type=submit]")
    assert "check your inbox" in page.content()
    run_tasks()
    (message,) = mail.outbox
    page.goto(confirmation_link(message))
    assert "See you there" in page.content()
    assert Rsvp.objects.get().state == "confirmed"
