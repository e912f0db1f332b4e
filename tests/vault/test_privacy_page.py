"""The public privacy page, /privacy/: made from the running configuration, in every
language, linked from every page and from the sign form."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse

from hamseda.orgs import services as org_services
from hamseda.vault import crypto
from hamseda.vault.views import privacy as privacy_view
from tests.conftest import make_org, make_petition

pytestmark = pytest.mark.django_db


def page(client, path: str = "/privacy/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("path", "language", "direction"),
    [("/privacy/", "en", "ltr"), ("/fa/privacy/", "fa", "rtl"), ("/ps/privacy/", "ps", "rtl")],
)
def test_it_answers_in_every_language(client, path, language, direction):
    assert reverse("privacy") == "/privacy/"
    html = page(client, path)
    assert f'<html lang="{language}" dir="{direction}">' in html
    # A strict CSP must hold: nothing inline.
    assert "<script" not in html
    assert "style=" not in html
    assert "<style" not in html


def test_it_lists_each_organisation_with_its_current_key_and_its_date(client):
    rotated = org_services.create_organization(name="Rawadari Alliance", slug="rawadari")
    first, _ = crypto.generate_keypair()
    second, _ = crypto.generate_keypair()
    org_services.adopt_public_key(rotated, first, now=datetime(2025, 3, 1, 12, tzinfo=UTC))
    org_services.adopt_public_key(rotated, second, now=datetime(2026, 1, 17, 9, tzinfo=UTC))
    unlisted = make_org("older-org")  # Key set directly, before keys were listed.
    org_services.create_organization(name="Keyless Group", slug="keyless")

    html = page(client)

    assert "Rawadari Alliance" in html
    assert crypto.key_id(second) in html
    assert "Jan. 17, 2026" in html
    assert crypto.key_id(first) not in html  # Retired: not what new data is sealed to.
    assert "March 1, 2025" not in html
    assert crypto.key_id(unlisted.organization.public_key) in html
    assert "not recorded" in html
    assert "Keyless Group" not in html  # Cannot receive anyone's data.


def test_it_says_when_no_organisation_has_a_key(client):
    assert "No organisation on this server has set up a key yet" in page(client)


def test_the_periods_come_from_the_settings(client, settings):
    settings.HAMSEDA = {
        **settings.HAMSEDA,
        "CONFIRMATION_DAYS": 9,
        "RETENTION_DAYS": 400,
        "NETWORK_FINGERPRINT_DAYS": 21,
    }
    html = page(client)
    assert "it is deleted after 9 days" in html
    assert "closed for 400 days" in html
    assert "it is deleted after 21 days" in html


def test_the_periods_have_defaults(client, settings):
    settings.HAMSEDA = {
        key: value
        for key, value in settings.HAMSEDA.items()
        if key not in {"RETENTION_DAYS", "NETWORK_FINGERPRINT_DAYS"}
    }
    html = page(client)
    assert "closed for 365 days" in html
    assert "it is deleted after 30 days" in html


def test_it_names_the_mail_relay_but_never_its_credentials(client, settings):
    settings.EMAIL_URL = "smtp://hamseda-user:relay-pass-9931@relay.example.net:587?starttls=1"
    html = page(client)
    assert "relay.example.net" in html
    assert "The connection to it is encrypted." in html
    assert "hamseda-user" not in html
    assert "relay-pass-9931" not in html


def test_an_unencrypted_relay_is_not_called_encrypted(client, settings):
    settings.EMAIL_URL = "smtp://127.0.0.1:25"
    html = page(client)
    assert "127.0.0.1" in html
    assert "The connection to it is encrypted." not in html


def test_the_demo_says_mail_stays_in_files(client, settings, tmp_path):
    settings.EMAIL_URL = tmp_path.as_uri()
    assert "keeps each message as a file" in page(client)


def test_https_is_mentioned_only_when_it_is_used(client, settings):
    assert "encrypted (HTTPS)" not in page(client)
    cache.clear()
    settings.BASE_URL = "https://petitions.example.org"
    assert "encrypted (HTTPS)" in page(client)


def test_it_links_to_erasure_when_the_page_exists(client, monkeypatch):
    try:
        erase = reverse("erasure:request")
    except NoReverseMatch:
        erase = None
    html = page(client)
    if erase:
        assert f'<a href="{erase}">ask for an erasure link</a>' in html
    else:
        assert "follow the link in any of our e-mails" in html

    def missing(name, *args, **kwargs):
        raise NoReverseMatch(name)

    monkeypatch.setattr(privacy_view, "reverse", missing)
    cache.clear()
    assert "follow the link in any of our e-mails" in page(client, "/privacy/")


def test_every_page_and_the_sign_form_link_to_it(client):
    petition = make_petition(make_org().organization)
    assert 'href="/privacy/"' in page(client, "/")
    detail = page(client, f"/fa/p/{petition.slug}/")
    form = detail[detail.index("<form") : detail.index("</form>")]
    assert 'href="/fa/privacy/"' in form


def test_anonymous_readers_get_it_from_the_cache(client, django_assert_num_queries):
    make_org()
    first = page(client)
    with django_assert_num_queries(0):
        assert page(client) == first


def test_an_organizer_gets_their_own_page(client, owner):
    page(client)  # Cached for anonymous readers.
    client.force_login(owner)
    assert "Organizer pages" in page(client)
