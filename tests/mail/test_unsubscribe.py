"""The one-click unsubscribe link of every mail-out (mail.unsubscribe, RFC 8058)."""

import pytest
from django.test import Client
from django.urls import reverse

from hamseda.mail.unsubscribe import (
    UnsubscribeOutcome,
    check_unsubscribe,
    unsubscribe,
    unsubscribe_token,
    unsubscribe_url,
)
from hamseda.petitions import withdrawal
from hamseda.petitions.models import Signature
from hamseda.privatelogs import redact, redact_path
from tests.mail.test_mailouts import consenting


@pytest.fixture
def signature(petition):
    return consenting(petition, 1)


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


@pytest.mark.django_db
def test_the_link_is_absolute_in_the_readers_language(signature):
    url = unsubscribe_url(signature, "fa")
    assert url.startswith("http://testserver/fa/unsubscribe/")
    assert unsubscribe_url(signature, "en").startswith("http://testserver/unsubscribe/")


@pytest.mark.django_db
def test_a_get_only_asks_and_the_button_unsubscribes(client, signature):
    url = path_of(unsubscribe_url(signature, "en"))
    page = client.get(url)
    assert page.status_code == 200
    assert "Stop mails about this petition?" in page.text
    assert 'method="post"' in page.text
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    signature.refresh_from_db()
    assert signature.keep_updated is True  # Link scanners fetch GETs: nothing happened.

    done = client.post(url)
    assert done.status_code == 200
    assert "You will get no more mails about this petition" in done.text
    signature.refresh_from_db()
    assert signature.keep_updated is False
    assert signature.state == "validated"  # The signature stays and counts.

    again = client.post(url)
    assert again.status_code == 200
    assert "already unsubscribed" in again.text
    assert "already unsubscribed" in client.get(url).text


@pytest.mark.django_db
def test_a_mail_providers_one_click_post_works_without_a_csrf_cookie(signature):
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        path_of(unsubscribe_url(signature, "en")),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    signature.refresh_from_db()
    assert signature.keep_updated is False


@pytest.mark.django_db
def test_the_page_speaks_dari_right_to_left(client, signature):
    page = client.get(path_of(unsubscribe_url(signature, "fa")))
    assert page.status_code == 200
    assert 'dir="rtl"' in page.text
    assert 'lang="fa"' in page.text


@pytest.mark.parametrize(
    "token",
    ["nonsense", "1-1.forgedsignature", "x" * 300, "1-1"],
)
@pytest.mark.django_db
def test_a_forged_or_damaged_link_is_not_found(client, signature, token):
    response = client.get(reverse("mail:unsubscribe", args=[token]))
    assert response.status_code == 404
    assert "This unsubscribe link is not valid" in response.text
    assert client.post(reverse("mail:unsubscribe", args=[token])).status_code == 404
    signature.refresh_from_db()
    assert signature.keep_updated is True


@pytest.mark.django_db
def test_a_withdraw_token_is_no_unsubscribe_token(client, petition, signature):
    token = withdrawal.withdraw_token(petition.pk, signature.pk)
    assert client.post(reverse("mail:unsubscribe", args=[token])).status_code == 404


@pytest.mark.django_db
def test_a_withdrawn_signature_has_nothing_to_unsubscribe(client, petition, signature):
    url = path_of(unsubscribe_url(signature, "en"))
    withdrawal.withdraw_signature(petition, withdrawal.withdraw_token(petition.pk, signature.pk))
    page = client.get(url)
    assert page.status_code == 410
    assert "There is nothing to unsubscribe" in page.text
    assert client.post(url).status_code == 410


@pytest.mark.django_db
def test_the_services_say_what_they_did(petition, signature):
    token = unsubscribe_token(petition.pk, signature.pk)
    assert check_unsubscribe(token)[0] == UnsubscribeOutcome.READY
    assert unsubscribe(token) == (UnsubscribeOutcome.UNSUBSCRIBED, petition)
    assert unsubscribe(token)[0] == UnsubscribeOutcome.ALREADY
    assert check_unsubscribe(token)[0] == UnsubscribeOutcome.ALREADY
    assert unsubscribe("bad")[0] == UnsubscribeOutcome.INVALID
    Signature.objects.filter(pk=signature.pk).delete()
    assert unsubscribe(token)[0] == UnsubscribeOutcome.GONE


@pytest.mark.django_db
def test_logs_never_show_an_unsubscribe_token(signature):
    url = unsubscribe_url(signature, "fa")
    token = url.rsplit("/", 1)[1]
    assert token not in redact_path(path_of(url))
    assert redact_path(path_of(url)) == "/fa/unsubscribe/[token]"
    assert token not in redact(f"POST {path_of(url)} 200")
