"""Keys and exports in a real browser: an owner makes a key pair in the key page
(libsodium in the page), saves the secret key file, rotates to it; people sign; the
owner downloads the sealed export and decrypts it in the decrypt page. The CSV is byte
for byte what `hamseda decrypt` writes, and no request ever carried a secret key or
the export. Then the same without JavaScript, through the server-side fallback.
"""

import base64
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.orgs.models import Organization, Role
from hamseda.orgs.services import create_organizer
from hamseda.petitions import services
from hamseda.vault import crypto
from hamseda.vault.decrypt import decrypt_export, read_key_file
from tests.browser.pages import DESKTOP, PHONE, make_story_petition, screenshot
from tests.browser.test_accessibility import violations
from tests.conftest import PASSWORD, make_org, with_two_factor
from tests.vault.test_export import read_csv, write_key_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in_page(new_page, site: str, user, *, javascript: bool, viewport=DESKTOP):
    """A page whose browser holds `user`'s session (made by Django's test client: the
    login form and its second factor are tested in tests/orgs/test_login.py)."""
    client = Client()
    client.force_login(user)
    page = new_page(javascript=javascript, viewport=viewport)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": site}]
    )
    return page


def watch(page) -> tuple[list, list]:
    """Every request the page makes, and every console error or uncaught exception
    (a CSP violation is reported as a console error). The site has no favicon, which
    Chromium asks for anyway: that 404 is not this page's error."""
    requests, errors = [], []

    def console(message) -> None:
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            errors.append(f"{message.text} {message.location}")

    page.on("request", lambda request: requests.append(request))
    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return requests, errors


def sent(requests) -> list[str]:
    """What the requests carried: URLs and bodies, as text."""
    carried = []
    for request in requests:
        carried.append(request.url)
        body = request.post_data_buffer
        if body:
            carried.append(body.decode("utf-8", "replace"))
    return carried


def secret_of(path: Path) -> str:
    return base64.b64encode(bytes(read_key_file(path).private_key)).decode()


def test_a_key_made_in_the_browser_opens_an_export_decrypted_in_the_browser(
    site, new_page, tmp_path
):
    old = make_org()
    organization = old.organization
    old_key = write_key_file(tmp_path / "old.key", "alliance", old.secret_key)
    owner = with_two_factor(
        create_organizer(email="owner@example.org", password=PASSWORD, organization=organization)
    )
    petition = make_story_petition(organization)
    services.sign_petition(
        petition,
        services.Signer(
            first_name="Zarmina ځډړږښګڼۍې",
            last_name="مریم",
            email="zarmina@example.org",
            country="AF",
            postcode="کد-۴۴۱۷",
            reason="د خپلو خویندو لپاره",
            show_name=True,
        ),
    )

    page = logged_in_page(new_page, site, owner, javascript=True)
    requests, errors = watch(page)

    # 1. Make a key pair in the browser, save the secret key file, rotate to it.
    page.goto(f"{site}/organize/org/alliance/keys")
    expect(page.locator("#browser-keygen")).to_be_visible()
    page.get_by_role("button", name="Make a key pair in this browser").click()
    expect(page.locator("#keygen-use")).to_be_disabled()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the secret key file").click()
    key_id = page.locator("#keygen-key-id").inner_text()
    assert download.value.suggested_filename == f"hamseda-alliance-{key_id}.key"
    new_key = tmp_path / "browser.key"
    download.value.save_as(new_key)
    assert read_key_file(new_key).key_id == key_id
    assert read_key_file(new_key).organization == "alliance"
    page.get_by_label("I have saved the secret key file").check()
    screenshot(page, "keys-browser-1280")
    with page.expect_navigation():
        page.get_by_role("button", name="Seal new signatures to this key").click()
    assert f"The key {key_id} now seals new signatures" in page.locator(".messages").inner_text()
    organization = Organization.objects.get(pk=organization.pk)
    assert crypto.key_id(organization.public_key) == key_id
    adopted = [r for r in requests if r.method == "POST" and r.url.endswith("/keys/adopt")]
    assert len(adopted) == 1
    assert f"public_key={quote_plus(organization.public_key)}" in adopted[0].post_data

    # 2. Someone signs in the public page (no JavaScript); sealed to the new key.
    signer_page = new_page()
    signer_page.goto(f"{site}/fa/p/{petition.slug}/")
    signer_page.locator("[name=first_name]").fill("مریم")
    signer_page.locator("[name=last_name]").fill("احمدی‌زاده")
    signer_page.locator("[name=email]").fill("maryam@example.org")
    signer_page.locator("[name=country]").select_option("SE")
    signer_page.locator("[name=postcode]").fill("114 55")
    with signer_page.expect_navigation() as navigation:
        signer_page.locator("aside.sign button[type=submit]").click()
    assert navigation.value.status == 200

    # 3. The owner downloads the sealed export from the petition's organizer page.
    page.goto(f"{site}/organize/petitions/{petition.slug}/")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the sealed export").click()
    exported = tmp_path / "export.jsonl"
    download.value.save_as(exported)
    assert AuditEvent.objects.filter(
        action=AuditAction.EXPORT, actor_label="owner@example.org", subject=petition.slug
    ).exists()

    # 4. With only the new key, the decrypt page names the key it is missing.
    page.goto(f"{site}/organize/decrypt")
    expect(page.locator("#browser-decrypt")).to_be_visible()
    expect(page.locator("#decrypt-without-js")).to_be_hidden()
    page.set_input_files("#decrypt-export", str(exported))
    page.set_input_files("#decrypt-keys", [str(new_key)])
    page.get_by_role("button", name="Decrypt", exact=True).click()
    old_id = crypto.key_id(old.organization.public_key)
    expect(page.locator("#decrypt-status")).to_contain_text("This export needs the key(s)")
    expect(page.locator("#decrypt-status")).to_contain_text(old_id)
    expect(page.locator("#decrypt-download")).to_be_hidden()

    # 5. With both keys it offers the CSV: the same bytes as `hamseda decrypt`.
    page.set_input_files("#decrypt-keys", [str(new_key), str(old_key)])
    page.get_by_role("button", name="Decrypt", exact=True).click()
    expect(page.locator("#decrypt-status")).to_contain_text("2 records decrypted")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the CSV").click()
    in_browser = tmp_path / "browser.csv"
    download.value.save_as(in_browser)
    screenshot(page, "decrypt-browser-1280")
    offline = tmp_path / "offline.csv"
    decrypt_export(exported, [old_key, new_key], offline)
    assert in_browser.read_bytes() == offline.read_bytes()
    rows = read_csv(in_browser)
    assert [(r["first name"], r["last name"], r["key id"]) for r in rows] == [
        ("Zarmina ځډړږښګڼۍې", "مریم", old_id),
        ("مریم", "احمدی‌زاده", key_id),
    ]
    assert rows[0]["postcode"] == "کد-۴۴۱۷"
    assert rows[1]["e-mail"] == "maryam@example.org"

    # 6. A damaged export is refused in the browser too.
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(exported.read_bytes()[:-30])
    page.set_input_files("#decrypt-export", str(damaged))
    page.get_by_role("button", name="Decrypt", exact=True).click()
    expect(page.locator("#decrypt-status")).to_contain_text("is incomplete")
    expect(page.locator("#decrypt-download")).to_be_hidden()

    # No request carried a secret key or the export; nothing went to another host.
    carried = "\n".join(sent(requests))
    for secret in (secret_of(new_key), old.secret_key):
        assert secret not in carried
        assert quote_plus(secret) not in carried
    first_record = exported.read_bytes().splitlines()[1]
    assert first_record[12:60].decode() not in carried  # Part of a sealed blob.
    assert all(r.url.startswith(site) for r in requests), [r.url for r in requests]
    assert errors == []


def test_without_javascript_the_server_makes_the_pair_and_forgets_it(site, new_page, tmp_path):
    org = make_org()
    owner = with_two_factor(
        create_organizer(
            email="owner@example.org",
            password=PASSWORD,
            organization=org.organization,
            role=Role.OWNER,
        )
    )
    petition = make_story_petition(org.organization)
    before = org.organization.public_key
    page = logged_in_page(new_page, site, owner, javascript=False)
    page.goto(f"{site}/organize/org/alliance/keys")
    expect(page.locator("#browser-keygen")).to_be_hidden()
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Make a key pair on the server").click()
    assert "no-store" in navigation.value.headers["cache-control"]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the secret key file").click()
    key_file = tmp_path / "server.key"
    download.value.save_as(key_file)
    assert key_file.read_text().strip() == page.locator("pre.key-file").inner_text().strip()
    assert Organization.objects.get(pk=org.organization.pk).public_key == before

    page.get_by_label("I have saved the secret key file").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Seal new signatures to this key").click()
    public_key = Organization.objects.get(pk=org.organization.pk).public_key
    assert public_key != before
    assert read_key_file(key_file).key_id == crypto.key_id(public_key)
    sealed = crypto.seal(public_key, {"first_name": "پلوشه"})
    assert crypto.unseal(secret_of(key_file), sealed) == {"first_name": "پلوشه"}

    page.goto(f"{site}/organize/decrypt")
    expect(page.locator("#decrypt-without-js")).to_be_visible()
    expect(page.locator("#browser-decrypt")).to_be_hidden()

    # The pages in Dari on a phone, right to left, without sideways scrolling or
    # accessibility violations (axe-core, as in test_accessibility.py).
    phone = logged_in_page(new_page, site, owner, javascript=True, viewport=PHONE)
    for path, name in [
        ("/fa/organize/org/alliance/keys", "keys-fa-360"),
        ("/fa/organize/decrypt", "decrypt-fa-360"),
    ]:
        phone.goto(f"{site}{path}")
        assert phone.locator("html").get_attribute("dir") == "rtl"
        screenshot(phone, name)
        assert violations(phone) == [], name
    phone.goto(f"{site}/fa/organize/org/alliance/keys")
    phone.locator("#keygen-create").click()
    expect(phone.locator("#keygen-steps")).to_be_visible()
    screenshot(phone, "keys-made-fa-360")
    assert violations(phone) == []
    phone.goto(f"{site}/fa/organize/petitions/{petition.slug}/export")
    assert violations(phone) == []
    with phone.expect_navigation():
        phone.goto(f"{site}/fa/organize/org/alliance/keys")
    phone.locator("form[action$='/keys/generate'] button").click()
    phone.wait_for_load_state()
    screenshot(phone, "key-generated-fa-360")
    assert violations(phone) == []
