"""Decision-makers' responses (petitions.responses): private links, one response per
link, clear answers for used, expired and forged links, offline responses, hiding, and
how responses show on the petition page."""

import secrets
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.orgs.models import Role
from hamseda.petitions import responses
from hamseda.petitions.models import (
    DecisionMaker,
    Response,
    ResponseRequest,
    ResponseSource,
)
from hamseda.privatelogs import TOKEN_PLACEHOLDER, redact, redact_path
from hamseda.vault import crypto
from tests.conftest import PASSWORD, make_org, make_petition, run_tasks
from tests.petitions.test_concurrency import run_together


def staff(organization, email="owner@example.org", role=Role.OWNER):
    from hamseda.orgs import services as org_services

    return org_services.create_organizer(
        email=email, password=PASSWORD, organization=organization, role=role
    )


def add_target(petition, name="ExampleSocial", email="policy@social.example", language="en"):
    target = DecisionMaker.objects.create(
        organization=petition.organization,
        name=name,
        position="Trust and safety",
        email=email,
        language=language,
    )
    petition.targets.add(target)
    return target


def response_link(message) -> str:
    return next(line for line in message.body.splitlines() if "/respond/" in line).strip()


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


def ask(petition, outbox, target=None, **kwargs) -> str:
    """Ask the petition's targets and return the path of the link mailed to `target`."""
    outbox.clear()
    responses.request_responses(petition, **kwargs)
    run_tasks()
    to = target.email if target else "policy@social.example"
    return path_of(response_link(next(m for m in outbox if m.to == [to])))


def known_link(petition, target, token=None, **changes) -> str:
    """A response request with a token the test knows (the service mails it only)."""
    token = token or responses._token()[0]
    ResponseRequest.objects.update_or_create(
        petition=petition,
        decision_maker=target,
        defaults={
            "token_hash": crypto.token_hash(token),
            "created_at": changes.get("created_at", crypto_now()),
            "expires_at": changes.get("expires_at", crypto_now() + timedelta(days=90)),
            "used_at": changes.get("used_at"),
        },
    )
    return reverse("outcomes:respond", args=[petition.slug, token])


def mailouts_installed(petition) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse("mailouts:new", args=[petition.slug])
    except NoReverseMatch:
        return False
    return True


def crypto_now():
    from django.utils import timezone

    return timezone.now()


@pytest.fixture
def target(petition):
    return add_target(petition)


# --- asking -----------------------------------------------------------------------------


def test_it_mails_each_target_with_an_address_a_private_link(petition, target, outbox):
    add_target(petition, "Its owner", email="")
    owner_target = add_target(petition, "Board", email="board@social.example", language="ps")
    assert responses.request_responses(petition) == 2
    run_tasks()
    assert sorted(m.to[0] for m in outbox) == ["board@social.example", "policy@social.example"]
    message = next(m for m in outbox if m.to == ["policy@social.example"])
    assert "ExampleSocial" in message.body
    assert "Suspend the accounts" in message.subject
    link = response_link(message)
    token = link.rsplit("/", 1)[1]
    # Only the hash is kept.
    request = ResponseRequest.objects.get(decision_maker=target)
    assert request.token_hash == crypto.token_hash(token)
    assert not ResponseRequest.objects.filter(token_hash=token).exists()
    assert request.expires_at - request.created_at == timedelta(days=90)
    pashto = next(m for m in outbox if m.to == ["board@social.example"])
    assert pashto.extra_headers["Content-Language"] == "ps"
    assert "/ps/p/free-speech/respond/" in pashto.body
    assert owner_target.name in pashto.body


def test_the_link_opens_the_response_form(client, petition, target, outbox):
    page = client.get(ask(petition, outbox))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Suspend the accounts" in html
    assert 'name="body"' in html
    assert page["Cache-Control"].startswith("max-age=0")
    assert page["Referrer-Policy"] == "no-referrer"


def test_asking_again_replaces_the_link(client, petition, target, outbox):
    first = ask(petition, outbox)
    client.post(first, {"body": "First answer", "language": "en"})
    second = ask(petition, outbox)
    assert client.get(first).status_code == 404  # Replaced: no longer ours.
    assert client.get(second).status_code == 200  # A new question: a new response.
    assert "You responded on" in outbox[0].body
    assert client.post(second, {"body": "Update", "language": "en"}).status_code == 200
    assert Response.objects.count() == 2


def test_it_asks_only_the_given_targets(petition, target, outbox):
    other = add_target(petition, "Other", email="other@example.net")
    assert responses.request_responses(petition, decision_makers=[other]) == 1
    assert ResponseRequest.objects.get().decision_maker == other


# --- responding -------------------------------------------------------------------------


def test_a_response_is_published_once_and_the_organisers_told(
    client, petition, target, outbox, django_capture_on_commit_callbacks
):
    staff(petition.organization)
    link = ask(petition, outbox)
    assert "Suspend" in client.get(f"/p/{petition.slug}/").content.decode()  # cached
    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(link, {"body": "We **will** act.", "language": "en"})
    assert answered.status_code == 200
    assert "Thank you for your response" in answered.content.decode()
    response = Response.objects.get()
    assert response.source == ResponseSource.LINK
    assert response.decision_maker == target
    assert response.responded_on == response.created_at.date()
    # The cached page was dropped: the response shows at once.
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert f'id="response-{response.pk}"' in page
    assert "<strong>will</strong>" in page
    assert "Trust and safety" in page
    outbox.clear()
    run_tasks()
    told = next(m for m in outbox if m.to == ["owner@example.org"])
    assert "ExampleSocial responded" in told.subject
    assert reverse("outcomes:responses", args=[petition.slug]) in told.body
    assert f"#response-{response.pk}" in told.body
    if mailouts_installed(petition):
        new_mailout = reverse("mailouts:new", args=[petition.slug])
        assert f"http://testserver{new_mailout}?response={response.pk}" in told.body


def test_a_second_submit_gets_a_clear_410(client, petition, target, outbox):
    link = ask(petition, outbox)
    client.post(link, {"body": "Once", "language": "en"})
    again = client.post(link, {"body": "Twice", "language": "en"})
    assert again.status_code == 410
    html = again.content.decode()
    assert "already been given" in html
    assert f"#response-{Response.objects.get().pk}" in html
    assert client.get(link).status_code == 410
    assert Response.objects.count() == 1


def test_an_expired_link_gets_a_clear_410(client, petition, target):
    link = known_link(petition, target, expires_at=crypto_now() - timedelta(seconds=1))
    page = client.get(link)
    assert page.status_code == 410
    assert "expired" in page.content.decode()
    assert client.post(link, {"body": "Late", "language": "en"}).status_code == 410
    assert not Response.objects.exists()


@pytest.mark.parametrize(
    "token", ["forged", "x" * 32, "y" * 101, secrets.token_hex(24), "%00", "..%2F"]
)
def test_a_forged_link_is_not_found(client, petition, target, token):
    url = reverse("outcomes:respond", args=[petition.slug, "T"]).removesuffix("T") + token
    page = client.get(url)
    assert page.status_code == 404
    assert client.post(url, {"body": "x", "language": "en"}).status_code == 404


def test_a_link_for_another_petition_is_not_found(client, petition, target, org):
    other = make_petition(org.organization, "another")
    other.targets.add(target)
    link = known_link(other, target, token="a-token-of-the-other-petition")
    wrong = link.replace("/another/", f"/{petition.slug}/")
    assert client.get(wrong).status_code == 404


def test_the_invalid_page_explains_itself(client, petition, target):
    page = client.get(reverse("outcomes:respond", args=[petition.slug, "nope"]))
    assert "not valid" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "", "language": "en"}, "Please write your response."),
        ({"body": "   \n ", "language": "en"}, "Please write your response."),
        ({"body": "x" * (responses.MAX_BODY + 1), "language": "en"}, "at most"),
        ({"body": "Fine", "language": "de"}, "not one of the available choices"),
        ({"body": "Nul \x00 byte", "language": "en"}, "Null characters are not allowed"),
    ],
)
def test_bad_input_gets_a_400_with_a_message(client, petition, target, data, message):
    link = known_link(petition, target)
    page = client.post(link, data)
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not Response.objects.exists()
    assert ResponseRequest.objects.get().used_at is None  # The link still works.


def test_a_hostile_body_is_sanitised_on_display(client, petition, target):
    link = known_link(petition, target)
    body = "<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) ok"
    assert client.post(link, {"body": body, "language": "en"}).status_code == 200
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "<script>alert" not in page
    assert "onerror" not in page
    assert "javascript:" not in page
    assert "ok" in page


def test_a_dari_response_reads_right_to_left_on_the_english_page(client, petition, target):
    link = known_link(petition, target)
    client.post(link, {"body": "ما این را بررسی می‌کنیم.", "language": "fa"})
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert '<html lang="en" dir="ltr">' in page
    assert 'lang="fa" dir="rtl"' in page


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_makes_one_response():
    petition = make_petition(make_org().organization)
    target = add_target(petition)
    token = responses._token()[0]
    known_link(petition, target, token=token)

    def submit():
        try:
            return responses.respond(petition, token, body="Racing", language="en").pk
        except responses.LinkRefused as refused:
            return refused.outcome

    results = run_together([submit] * 4)
    assert Response.objects.count() == 1
    assert sorted(map(str, results)).count(responses.LinkOutcome.USED.value) == 3


# --- offline responses, hiding --------------------------------------------------------------


def test_an_offline_response_is_recorded_and_cannot_be_in_the_future(petition, target, owner):
    today = crypto_now().date()
    with pytest.raises(responses.ResponseError, match="future"):
        responses.record_response(
            petition,
            decision_maker=target,
            body="Letter",
            language="en",
            responded_on=today + timedelta(days=1),
            recorded_by=owner,
        )
    response = responses.record_response(
        petition,
        decision_maker=target,
        body="Letter",
        language="en",
        responded_on=today - timedelta(days=3),
        recorded_by=owner,
    )
    assert response.source == ResponseSource.OFFLINE
    assert response.recorded_by == owner


def test_an_offline_response_must_be_from_a_target(petition, org):
    stranger = DecisionMaker.objects.create(organization=org.organization, name="Not a target")
    with pytest.raises(responses.ResponseError):
        responses.record_response(
            petition,
            decision_maker=stranger,
            body="Letter",
            language="en",
            responded_on=crypto_now().date(),
        )


def test_a_hidden_response_leaves_the_page_and_comes_back(
    client, petition, target, django_capture_on_commit_callbacks
):
    response = responses.record_response(
        petition,
        decision_maker=target,
        body="Visible words",
        language="en",
        responded_on=crypto_now().date(),
    )
    assert "Visible words" in client.get(f"/p/{petition.slug}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        responses.hide_response(response)
    assert "Visible words" not in client.get(f"/p/{petition.slug}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        responses.show_response(response)
    assert "Visible words" in client.get(f"/p/{petition.slug}/").content.decode()


# --- the organiser page ---------------------------------------------------------------------


def test_organisers_edit_a_contact_ask_record_and_hide(client, petition, target, outbox):
    client.force_login(staff(petition.organization))
    url = reverse("outcomes:responses", args=[petition.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert "ExampleSocial" in page.content.decode()
    prefix = f"target-{target.pk}"
    saved = client.post(
        url,
        {"target": target.pk, f"{prefix}-email": "new@social.example", f"{prefix}-language": "fa"},
    )
    assert saved.status_code == 302
    target.refresh_from_db()
    assert (target.email, target.language) == ("new@social.example", "fa")
    bad = client.post(
        url, {"target": target.pk, f"{prefix}-email": "nope", f"{prefix}-language": "fa"}
    )
    assert bad.status_code == 400
    assert client.post(url, {"target": "999999"}).status_code == 400
    asked = client.post(reverse("outcomes:request_responses", args=[petition.slug]))
    assert asked.status_code == 302
    assert ResponseRequest.objects.get().decision_maker == target
    assert "Asked on" in client.get(url).content.decode()
    record = reverse("outcomes:record_response", args=[petition.slug])
    future = (crypto_now().date() + timedelta(days=2)).isoformat()
    refused = client.post(
        record,
        {"decision_maker": target.pk, "body": "Letter", "language": "en", "responded_on": future},
    )
    assert refused.status_code == 400
    assert "cannot be in the future" in refused.content.decode()
    today = crypto_now().date().isoformat()
    recorded = client.post(
        record,
        {"decision_maker": target.pk, "body": "Letter", "language": "en", "responded_on": today},
    )
    assert recorded.status_code == 302
    response = Response.objects.get()
    toggle = reverse("outcomes:toggle_response", args=[petition.slug, response.pk])
    assert client.post(toggle).status_code == 302
    response.refresh_from_db()
    assert response.hidden
    assert client.post(toggle).status_code == 302
    response.refresh_from_db()
    assert not response.hidden


def test_the_organiser_page_links_to_a_mail_out_of_the_response(client, petition, target):
    response = responses.record_response(
        petition, decision_maker=target, body="x", language="en", responded_on=crypto_now().date()
    )
    client.force_login(staff(petition.organization))
    page = client.get(reverse("outcomes:responses", args=[petition.slug])).content.decode()
    if not mailouts_installed(petition):
        pytest.skip("mail-outs are not installed yet")
    assert f"?response={response.pk}" in page


def test_asking_a_draft_petitions_targets_is_refused(client, org):
    draft = make_petition(org.organization, "a-draft", open_=False)
    add_target(draft)
    client.force_login(staff(org.organization))
    client.post(reverse("outcomes:request_responses", args=[draft.slug]))
    assert not ResponseRequest.objects.exists()


def test_another_organisations_response_is_not_found(client, petition, org):
    other = make_petition(make_org("elsewhere").organization, "theirs")
    theirs = add_target(other)
    response = responses.record_response(
        other, decision_maker=theirs, body="x", language="en", responded_on=crypto_now().date()
    )
    client.force_login(staff(org.organization))
    url = reverse("outcomes:toggle_response", args=[petition.slug, response.pk])
    assert client.post(url).status_code == 404


# --- mails, logs, hostile input ---------------------------------------------------------------


@pytest.mark.parametrize("language", ["fa", "ps"])
def test_the_response_mails_render_in_dari_and_pashto(petition, outbox, language):
    staff(petition.organization)
    petition.default_language = language
    petition.save()
    target = add_target(petition, language=language)
    link = ask(petition, outbox, target)
    assert link.startswith(f"/{language}/p/")
    request_mail = outbox[0]
    assert request_mail.extra_headers["Content-Language"] == language
    assert "{%" not in request_mail.body
    token = link.rsplit("/", 1)[1]
    outbox.clear()
    responses.respond(petition, token, body="پاسخ", language=language)
    run_tasks()
    told = outbox[0]
    assert told.extra_headers["Content-Language"] == language
    assert f"/{language}/organize/petitions/{petition.slug}/responses" in told.body


def test_the_token_never_reaches_a_log(petition):
    for _ in range(2000):
        token = responses._token()[0]
        path = reverse("outcomes:respond", args=[petition.slug, token])
        assert token not in redact_path(path)
        assert token not in redact(f'"POST /fa{path} HTTP/1.1" 200')
        assert redact_path(path).endswith(TOKEN_PLACEHOLDER)


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.text(max_size=300),
    language=st.sampled_from(["en", "fa", "ps", "", "xx", "fa\x00"]),
)
def test_any_response_gets_a_page_or_a_4xx(client, petition, target, body, language):
    link = known_link(petition, target)
    page = client.post(
        link, urlencode({"body": body, "language": language}), "application/x-www-form-urlencoded"
    )
    assert page.status_code in {200, 400}
    if page.status_code == 200:
        shown = client.get(f"/p/{petition.slug}/")
        assert shown.status_code == 200


@pytest.mark.parametrize("language", ["fa", "ps"])
def test_the_pages_render_right_to_left(client, petition, target, language):
    link = known_link(petition, target)
    names = ("outcomes:milestones", "outcomes:responses", "outcomes:outcome")
    urls = {name: reverse(name, args=[petition.slug]) for name in names}  # In English.
    page = client.get(f"/{language}{link}")
    assert page.status_code == 200
    assert f'<html lang="{language}" dir="rtl">' in page.content.decode()
    client.force_login(staff(petition.organization))
    for name, url in urls.items():
        page = client.get(f"/{language}{url}")
        assert page.status_code == 200, name
        assert 'dir="rtl"' in page.content.decode()
