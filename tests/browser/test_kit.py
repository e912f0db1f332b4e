"""The share kit in a real browser: the petition's kit page in English and Dari on a
360-px phone and on a desktop, the profile-picture frame with and without JavaScript,
and the organisers' design page; axe-core on each (WCAG 2 A/AA).

Screenshots land in tests/screenshots/ (gitignored) for people to look at.
"""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image

from hamseda.kit.design import SIZES
from hamseda.orgs.models import Role
from hamseda.orgs.services import create_organizer
from tests.browser.pages import DESKTOP, PHONE, make_story_petition, screenshot
from tests.conftest import PASSWORD, make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def watch(page) -> tuple[list[str], list[str]]:
    """Console errors (CSP violations among them) and every URL the page requested."""
    errors, requests = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    return errors, requests


def load_every_image(page) -> None:
    """Scroll the lazy thumbnails into view and wait until each has loaded. (Polled
    with evaluate: wait_for_function compiles its text with eval, which the CSP
    refuses.)"""
    for image in page.locator("main img").all():
        image.scroll_into_view_if_needed()
    loaded = (
        "[...document.querySelectorAll('main img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    for _ in range(150):
        if page.evaluate(loaded):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(loaded), "an image did not load"
    page.evaluate("window.scrollTo(0, 0)")


def a_photo() -> bytes:
    image = Image.new("RGB", (900, 1200), "#d9a066")
    image.paste("#6b8fb5", (0, 0, 900, 500))  # Sky above, sand below.
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("language", "viewport"), [("en", PHONE), ("fa", PHONE), ("en", DESKTOP), ("fa", DESKTOP)]
)
def test_the_kit_page_shows_every_size(site, new_page, language, viewport):
    petition = make_story_petition(make_org().organization, signed=3)
    prefix = "" if language == "en" else f"/{language}"
    page = new_page(javascript=True, viewport=viewport)
    errors, requests = watch(page)
    response = page.goto(f"{site}{prefix}/p/{petition.slug}/kit/")
    assert response.status == 200
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "fa" else "ltr")
    load_every_image(page)
    sizes = page.locator("main .kit-image img")
    assert sizes.count() == len(SIZES)
    for index, spec in enumerate(SIZES.values()):
        natural = sizes.nth(index).evaluate("i => [i.naturalWidth, i.naturalHeight]")
        assert natural == [spec.width, spec.height]
    # A download link per language of the petition (English, Dari, Pashto) per size.
    assert page.locator(".kit-image .kit-downloads a").count() == 3 * len(SIZES)
    width = "360" if viewport == PHONE else "desktop"
    screenshot(page, f"kit-{language}-{width}")
    assert violations(page) == []
    assert errors == []
    assert [url for url in requests if not url.startswith(f"{site}/")] == []


def test_the_campaign_kit_and_the_frame_work_without_javascript(site, new_page, tmp_path):
    petition = make_story_petition(make_org().organization, signed=3)
    campaign = petition.campaign
    page = new_page()  # No JavaScript (axe needs it: see the test below).
    page.goto(f"{site}/fa/c/{campaign.slug}/kit/")
    load_every_image(page)
    screenshot(page, "campaign-kit-fa-360")

    page.goto(f"{site}/fa/c/{campaign.slug}/kit/frame/")
    screenshot(page, "frame-fa-360")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(a_photo())
    page.locator("input[name=photo]").set_input_files(str(photo))
    page.locator("select[name=position]").select_option("top")
    with page.expect_download() as download:
        page.locator("form[data-frame-form] button[type=submit]").click()
    framed = tmp_path / "framed.png"
    download.value.save_as(framed)
    assert download.value.suggested_filename == f"{campaign.slug}-profile.png"
    with Image.open(framed) as image:
        assert image.size == (1080, 1080)
        assert image.getpixel((540, 300))[2] > image.getpixel((540, 300))[0]  # The sky.


def test_the_frame_maker_drags_the_photo_with_javascript(site, new_page, tmp_path):
    petition = make_story_petition(make_org().organization)
    campaign = petition.campaign
    page = new_page(javascript=True)
    errors, requests = watch(page)
    for language in ("en", "fa"):
        prefix = "" if language == "en" else f"/{language}"
        page.goto(f"{site}{prefix}/c/{campaign.slug}/kit/")
        load_every_image(page)
        assert violations(page) == [], language
        page.goto(f"{site}{prefix}/c/{campaign.slug}/kit/frame/")
        assert violations(page) == [], language
    page.goto(f"{site}/c/{campaign.slug}/kit/frame/")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(a_photo())
    page.locator("input[name=photo]").set_input_files(str(photo))
    page.locator(".kit-frame-photo").wait_for()
    for _ in range(100):
        if page.locator("[name=crop_y]").input_value():
            break
        page.wait_for_timeout(100)
    assert float(page.locator("[name=crop_y]").input_value()) == pytest.approx(0.125, abs=0.001)
    stage = page.locator("[data-frame-stage]").bounding_box()
    middle_x, middle_y = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2
    page.mouse.move(middle_x, middle_y)
    page.mouse.down()
    page.mouse.move(middle_x, middle_y + stage["height"], steps=5)  # Down: shows the top.
    page.mouse.up()
    assert float(page.locator("[name=crop_y]").input_value()) == 0
    page.locator("[data-frame-zoom]").fill("150")  # Zooms on the middle of the square.
    assert float(page.locator("[name=crop_x]").input_value()) == pytest.approx(1 / 6, abs=0.001)
    assert float(page.locator("[name=crop_y]").input_value()) == pytest.approx(0.125, abs=0.001)
    assert violations(page) == []
    # (A full-page screenshot taken here, after typing into the zoom field, swallows
    # the next click in headless Chromium: it is taken after the download instead.)
    with page.expect_download() as download:
        page.locator("form[data-frame-form] button[type=submit]").click()
    screenshot(page, "frame-en-360-js")
    framed = tmp_path / "framed.png"
    download.value.save_as(framed)
    with Image.open(framed) as image:
        assert image.size == (1080, 1080)
        assert image.getpixel((540, 540))[2] > image.getpixel((540, 540))[0]  # The sky.
    assert errors == []
    assert [url for url in requests if not url.startswith(f"{site}/")] == []


def test_the_design_page_previews_and_saves(site, new_page):
    keys = make_org()
    petition = make_story_petition(keys.organization, signed=3)
    owner = create_organizer(
        email="owner@example.org",
        password=PASSWORD,
        organization=keys.organization,
        role=Role.OWNER,
    )
    page = new_page(javascript=True, viewport=DESKTOP)
    errors, _requests = watch(page)
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_login", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.goto(f"{site}/organize/campaigns/{petition.campaign.slug}/design")
    load_every_image(page)
    assert page.locator(".kit-previews img").count() == 3 * len(SIZES)
    assert violations(page) == []
    screenshot(page, "design-desktop")

    page.locator("#id_colour").fill("#7a1f3d")
    page.locator("label[for=id_kit_layout_2]").click()  # Minimal.
    with page.expect_navigation():
        page.get_by_role("button", name="Preview", exact=True).click()
    assert "data:image/jpeg" in page.locator(".kit-previews img").first.get_attribute("src")
    load_every_image(page)
    assert violations(page) == []
    screenshot(page, "design-preview-desktop")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    assert page.locator(".messages").inner_text().startswith("Design saved")
    petition.campaign.refresh_from_db()
    assert petition.campaign.colour == "#7a1f3d"
    assert petition.campaign.kit_layout == "minimal"

    page.set_viewport_size(PHONE)
    page.reload()
    load_every_image(page)
    screenshot(page, "design-360")
    assert errors == []
