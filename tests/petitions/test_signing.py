"""The signer's path: sign → confirmation mail → confirm → counted."""

import re

import pytest
from django.urls import reverse

from hamseda.petitions import services
from hamseda.petitions.models import CountryCount, Signature, SignatureState
from tests.conftest import SIGN_FORM, confirmation_link, run_tasks, signer

FORM = SIGN_FORM


def sign_url(petition):
    return reverse("petitions:sign", args=[petition.slug])


def test_it_signs_confirms_and_counts(client, petition, outbox):
    response = client.post(sign_url(petition), FORM)
    assert response.status_code == 200
    assert "Almost done" in response.text
    assert petition.signatures.get().state == SignatureState.PENDING
    assert outbox == []  # Queued, not yet sent: the worker delivers.

    run_tasks()
    assert len(outbox) == 1
    assert outbox[0].to == ["maryam@example.org"]
    link = confirmation_link(outbox[0])
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert "your signature is confirmed" in response.text
    petition.refresh_from_db()
    assert petition.signature_count == 1
    assert CountryCount.objects.get(petition=petition).count == 1


def test_following_the_link_twice_counts_once(client, petition, outbox):
    client.post(sign_url(petition), FORM)
    run_tasks()
    path = confirmation_link(outbox[0]).removeprefix("http://testserver")
    client.get(path)
    response = client.get(path)
    assert response.status_code == 200
    assert "already confirmed" in response.text
    petition.refresh_from_db()
    assert petition.signature_count == 1


@pytest.mark.parametrize(
    "email", ["MARYAM@EXAMPLE.ORG", "  maryam@Example.org  ", "Maryam@example.org"]
)
def test_it_counts_the_same_email_once(client, petition, outbox, email, now):
    client.post(sign_url(petition), FORM)
    run_tasks()
    client.get(confirmation_link(outbox[0]).removeprefix("http://testserver"))
    Signature.objects.update(token_sent_at=now - services.RESEND_INTERVAL * 2)
    response = client.post(sign_url(petition), {**FORM, "email": email})
    assert response.status_code == 200
    assert petition.signatures.count() == 1
    petition.refresh_from_db()
    assert petition.signature_count == 1
    run_tasks()
    # The second mail goes to the address, and is kind about it.
    assert len(outbox) == 2
    assert "already signed" in outbox[1].subject
    assert "counted once" in outbox[1].body


def test_a_repeated_signature_gets_a_new_link_and_the_old_one_stops_working(petition, outbox, now):
    services.sign_petition(petition, signer(1), now=now - services.RESEND_INTERVAL * 2)
    services.sign_petition(petition, signer(1), now=now)
    run_tasks()
    first, second = (confirmation_link(m).rsplit("/", 1)[1] for m in outbox)
    assert services.confirm_signature(petition, first) == services.ConfirmOutcome.INVALID
    assert services.confirm_signature(petition, second) == services.ConfirmOutcome.CONFIRMED


def test_it_does_not_mail_bomb_an_address_that_signs_again_and_again(petition, outbox, now):
    for _ in range(5):
        services.sign_petition(petition, signer(1), now=now)
    run_tasks()
    assert len(outbox) == 1


def test_the_page_does_not_tell_whether_an_address_has_signed(client, petition):
    first = client.post(sign_url(petition), FORM)
    second = client.post(sign_url(petition), FORM)
    assert first.status_code == second.status_code == 200
    assert "Almost done" in second.text


def test_it_refuses_a_closed_petition(client, petition):
    services.close_petition(petition)
    response = client.post(sign_url(petition), FORM)
    assert response.status_code == 409
    assert "closed" in response.text
    assert not Signature.objects.exists()


def test_an_unpublished_petition_is_not_found(client, org):
    from tests.conftest import make_petition

    draft = make_petition(org.organization, "draft-one", open_=False)
    assert client.get(reverse("petitions:detail", args=[draft.slug])).status_code == 404
    assert client.post(sign_url(draft), FORM).status_code == 404


def test_an_expired_link_is_refused(petition, outbox, now):
    services.sign_petition(petition, signer(1), now=now)
    run_tasks()
    token = confirmation_link(outbox[0]).rsplit("/", 1)[1]
    later = now + services.timedelta(days=15)
    assert services.confirm_signature(petition, token, now=later) == services.ConfirmOutcome.EXPIRED
    petition.refresh_from_db()
    assert petition.signature_count == 0


def test_a_forged_token_is_refused_with_a_clear_page(client, petition):
    response = client.get(reverse("petitions:confirm", args=[petition.slug, "forged-token"]))
    assert response.status_code == 400
    assert "not valid" in response.text


def test_the_goal_raises_itself():
    from hamseda.petitions.models import next_goal

    assert [next_goal(n) for n in (0, 99, 100, 499, 500, 4_999, 1_000_000)] == [
        100,
        100,
        500,
        500,
        1_000,
        5_000,
        2_000_000,
    ]
    assert next_goal(10, minimum=1_000) == 1_000


def test_names_in_any_script_are_sealed_exactly_as_typed(org, petition):
    name = "ملالۍ\u200cجان"  # Pashto with a zero-width non-joiner inside.
    services.sign_petition(petition, signer(1, first_name=name, show_name=True))
    signature = petition.signatures.get()
    assert org.unseal(signature.sealed)["first_name"] == name
    assert signature.public_name == name


def test_the_dari_page_is_right_to_left_and_translated(client, petition):
    response = client.get("/fa" + reverse("petitions:detail", args=[petition.slug]))
    assert response.status_code == 200
    assert 'dir="rtl"' in response.text
    assert "حساب‌ها را مسدود کنید" in response.text


def test_the_thank_you_page_is_shared_and_holds_nothing_personal(client, petition):
    first = client.post(sign_url(petition), FORM)
    second = client.post(
        sign_url(petition), {**FORM, "first_name": "Zarghuna", "email": "zarghuna@example.org"}
    )

    # Identical but for each signer's own sharer code in the share links (sources).
    def without_code(text: str) -> str:
        return re.sub(r"([a-z]+)\.[a-z2-7]{18}(?![a-z2-7])", r"\1.CODE", text)

    assert "copy." in first.text
    assert without_code(first.text) == without_code(second.text)
    assert "Maryam" not in first.text
    assert "csrfmiddlewaretoken" not in first.text
    assert petition.signatures.count() == 2


def test_expired_pending_signatures_are_deleted_and_confirmed_ones_kept(petition, now):
    services.sign_petition(petition, signer(1), now=now - services.timedelta(days=20))
    services.record_confirmed_signature(petition, signer(2), now=now - services.timedelta(days=20))
    services.sign_petition(petition, signer(3), now=now)

    assert services.purge_unconfirmed(now=now) == 1
    assert sorted(petition.signatures.values_list("state", flat=True)) == [
        SignatureState.PENDING,
        SignatureState.VALIDATED,
    ]
    petition.refresh_from_db()
    assert petition.signature_count == 1


def test_each_reader_of_the_cached_page_gets_a_token_that_lets_them_sign(petition):
    import re

    from django.test import Client

    url = reverse("petitions:detail", args=[petition.slug])
    for number in range(2):
        reader = Client(enforce_csrf_checks=True)
        page = reader.get(url).text
        assert "placeholder" not in page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        response = reader.post(
            sign_url(petition),
            {**FORM, "email": f"reader{number}@example.org", "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 200
    assert petition.signatures.count() == 2


def test_closing_a_petition_drops_its_cached_page_at_once(
    client, petition, django_capture_on_commit_callbacks
):
    url = reverse("petitions:detail", args=[petition.slug])
    assert 'name="email"' in client.get(url).text
    with django_capture_on_commit_callbacks(execute=True):
        services.close_petition(petition)
    page = client.get(url).text
    assert 'name="email"' not in page
    assert "closed" in page


def test_signing_again_after_an_invalidation_sends_no_mail_and_counts_nothing(
    petition, outbox, now
):
    services.sign_petition(petition, signer(1), now=now - services.RESEND_INTERVAL * 2)
    run_tasks()
    outbox.clear()
    Signature.objects.update(state=SignatureState.INVALIDATED)

    assert services.sign_petition(petition, signer(1), now=now) == "duplicate"
    run_tasks()
    assert outbox == []
    petition.refresh_from_db()
    assert petition.signature_count == 0


def test_a_logged_in_organizer_can_sign_too(client, petition, owner):
    client.force_login(owner)
    response = client.post(sign_url(petition), FORM)
    assert response.status_code == 200
    assert "Almost done" in response.text
    assert petition.signatures.count() == 1
