"""A mail-out in a real browser: an owner logs in with two factors, mails a published
update to the signers who asked for updates, pastes the secret key, starts it, and
watches the page's script (static/hamseda/mailout-progress.js) count up to "Done".

The live server sends from its background thread, as in production, through the
in-memory test mailbox (HAMSEDA_EMAIL_URL=locmem:// in tests/settings.py). The send
rate is turned down so that sending takes a few seconds and the page is seen moving.
"""

import base64

import pytest
from django.core import mail
from playwright.sync_api import expect

from hamseda.mail.models import Mailout, MailoutState
from hamseda.orgs.models import Role
from hamseda.orgs.sealing_keys import key_file_text
from hamseda.orgs.services import create_organizer
from hamseda.petitions import services, updates
from hamseda.vault import crypto
from tests.browser.pages import DESKTOP, make_story_petition, screenshot
from tests.browser.test_accessibility import violations
from tests.conftest import PASSWORD, make_org, signer
from tests.two_factor import enable_two_factor, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIGNERS = [("SE", "en"), ("AF", "fa"), ("DE", "ps"), ("GB", "en")]


def test_an_owner_mails_an_update_and_watches_it_go_out(site, new_page):
    keys = make_org()
    organization = keys.organization
    organization.mail_rate_per_minute = 60  # One a second: the page sees it move.
    organization.save()
    petition = make_story_petition(organization, signed=2)  # Two who want no mail.
    for number, (country, language) in enumerate(SIGNERS, start=1):
        services.record_confirmed_signature(
            petition, signer(number, country=country, language=language, keep_updated=True)
        )
    updates.publish_update(
        updates.save_update(
            petition,
            texts={
                "en": {"title": "We met the company", "body": "They **listened**."},
                "fa": {"title": "با شرکت دیدار کردیم", "body": "آنها **گوش دادند**."},
                "ps": {"title": "له شرکت سره مو ولیدل", "body": "هغوی **غوږ ونیو**."},
            },
        )
    )
    owner = create_organizer(
        email="owner@example.org", password=PASSWORD, organization=organization, role=Role.OWNER
    )
    enable_two_factor(owner)
    mail.outbox = []

    page = new_page(javascript=True, viewport=DESKTOP)
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_login", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.fill("#id_code", totp_code())
    page.click("main form button[type=submit]")

    page.goto(f"{site}/organize/petitions/{petition.slug}/updates/")
    assert violations(page) == []
    page.get_by_role("link", name="Mail to signers").click()
    expect(page.get_by_label("Update: We met the company")).to_be_checked()
    page.get_by_role("button", name="Count").click()
    expect(page.locator("main")).to_contain_text("This will reach 4 signers.")
    assert violations(page) == []
    page.get_by_role("button", name="Create and list the recipients").click()

    mailout = Mailout.objects.get()
    assert mailout.state == MailoutState.QUEUED
    assert mailout.total == 4
    expect(page.locator("[data-field=state_label]")).to_have_text("Ready to send")
    assert violations(page) == []
    public_key = base64.b64encode(bytes(crypto.parse_secret_key(keys.secret_key).public_key))
    key_text = key_file_text(organization.slug, crypto.key_id(public_key.decode()), keys.secret_key)
    page.fill("#key-text", key_text)
    page.get_by_role("button", name="Start sending").click()

    # The page loaded while sending; its script follows the numbers to the end.
    expect(page.locator("#progress")).to_have_attribute("data-state", "running")
    expect(page.locator("[data-field=state_label]")).to_have_text("Done", timeout=30_000)
    expect(page.locator("[data-field=sent]")).to_have_text("4")
    expect(page.locator("[data-field=queued]")).to_have_text("0")
    expect(page.get_by_role("button", name="Pause")).to_be_hidden()
    assert keys.secret_key not in page.content()
    screenshot(page, "mailout-done-en")

    mailout.refresh_from_db()
    assert mailout.state == MailoutState.DONE
    assert mailout.sent == 4
    assert sorted(m.to[0] for m in mail.outbox) == [f"signer{n}@example.org" for n in range(1, 5)]

    # The same page in Dari, right to left, without its script once it is done.
    page.goto(f"{site}/fa/organize/mailouts/{mailout.pk}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    screenshot(page, "mailout-done-fa")

    # What the signers were told is on the petition's public pages, in their language.
    for prefix in ("", "/fa", "/ps"):
        page.goto(f"{site}{prefix}/p/{petition.slug}/updates/")
        assert violations(page) == [], prefix
    screenshot(page, "updates-ps")
