"""Proof of work (integrity.pow): issuing, solving, verifying; forged, wrong, expired
and replayed solutions; and the whole flow through the sign form. Low difficulty here
(INTEGRITY_POW_BITS), so Python solves in milliseconds."""

import secrets
from datetime import timedelta

import pytest
from django.urls import reverse

from hamseda.integrity import checks, pow
from hamseda.petitions.models import Signature
from tests.conftest import SIGN_FORM, make_petition
from tests.integrity.helpers import form


@pytest.fixture(autouse=True)
def _easy_work(settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_POW_BITS": 8}


def test_a_solved_challenge_verifies_once(petition, now):
    challenge = pow.issue(petition.pk, now=now)
    counter = pow.solve(challenge)
    assert pow.verify(challenge, counter, petition.pk, now=now) == pow.Outcome.SOLVED
    assert pow.verify(challenge, counter, petition.pk, now=now) == pow.Outcome.REPLAYED


def test_the_work_has_the_leading_zero_bits(petition, now):
    challenge = pow.issue(petition.pk, now=now, bits=12)
    counter = pow.solve(challenge)
    assert pow.does_the_work(challenge, counter, 12)
    assert pow.leading_zero_bits(bytes([0, 0x0F] + [0xFF] * 30)) == 12


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c.replace(".8.", ".1.", 1),  # Easier work, same MAC.
        lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"),  # Another MAC.
        lambda c: "9999" + c[c.index(".") :],  # Another petition.
        lambda c: "",
        lambda c: "....",
        lambda c: "a.b.c.d.e",
        lambda c: "x" * 5000,
        lambda c: "1.٣.8.9999999999." + "0" * 32,
    ],
)
def test_forged_challenges_are_refused_without_an_error(petition, now, tamper):
    challenge = pow.issue(petition.pk, now=now)
    forged = tamper(challenge)
    assert pow.verify(forged, pow.solve(challenge), petition.pk, now=now) == pow.Outcome.FORGED


def test_a_challenge_for_another_petition_is_refused(org, petition, now):
    other = make_petition(org.organization, "other-petition")
    challenge = pow.issue(other.pk, now=now)
    assert pow.verify(challenge, pow.solve(challenge), petition.pk, now=now) == "forged"


@pytest.mark.parametrize("counter", ["", "-1", "1e9", "٣", "9" * 50, "abc"])
def test_a_counter_that_does_not_do_the_work_is_wrong(petition, now, counter):
    challenge = pow.issue(petition.pk, now=now, bits=30)
    assert pow.verify(challenge, counter, petition.pk, now=now) == pow.Outcome.WRONG


def test_an_expired_challenge_is_refused(petition, now):
    challenge = pow.issue(petition.pk, now=now)
    later = now + timedelta(seconds=601)
    assert pow.verify(challenge, pow.solve(challenge), petition.pk, now=later) == "expired"


# --- the flow through the sign form -----------------------------------------------------


def sign_url(petition) -> str:
    return reverse("petitions:sign", args=[petition.slug])


def challenge_in(html: str) -> str:
    return html.split('name="pow_challenge" value="')[1].split('"')[0]


def fill_the_limit(client, petition) -> str:
    """Sign ten times from the test client's address, then get refused: the challenge."""
    for i in range(10):
        assert (
            client.post(sign_url(petition), {**SIGN_FORM, "email": f"s{i}@gmail.com"}).status_code
            == 200
        )
    response = client.post(sign_url(petition), {**SIGN_FORM, "email": "late@gmail.com"})
    assert response.status_code == 429
    return challenge_in(response.text)


def test_a_signer_over_the_limit_gets_through_with_the_work(client, petition):
    challenge = fill_the_limit(client, petition)
    data = {**SIGN_FORM, "email": "late@gmail.com"}
    solved = {**data, "pow_challenge": challenge, "pow_counter": pow.solve(challenge)}
    response = client.post(sign_url(petition), solved)
    assert response.status_code == 200
    assert "Almost done" in response.text
    assert Signature.objects.count() == 11
    # One solution, one signature: the same solution again is refused.
    again = {**solved, "email": "another@gmail.com"}
    response = client.post(sign_url(petition), again)
    assert response.status_code == 429
    assert challenge_in(response.text) != challenge
    assert Signature.objects.count() == 11


def test_a_forged_solution_is_refused_clearly(client, petition):
    challenge = fill_the_limit(client, petition)
    forged = {
        **SIGN_FORM,
        "email": "late@gmail.com",
        "pow_challenge": challenge[:-4] + "abcd",
        "pow_counter": "1",
    }
    response = client.post(sign_url(petition), forged)
    assert response.status_code == 400
    assert "browser check did not work out" in response.text
    lazy = {**forged, "pow_challenge": challenge, "pow_counter": "not-a-number"}
    assert client.post(sign_url(petition), lazy).status_code == 400
    assert Signature.objects.count() == 10


def test_an_expired_solution_gets_a_new_challenge(client, petition, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_POW_SECONDS": -1}
    challenge = fill_the_limit(client, petition)
    solved = {
        **SIGN_FORM,
        "email": "late@gmail.com",
        "pow_challenge": challenge,
        "pow_counter": pow.solve(challenge),
    }
    response = client.post(sign_url(petition), solved)
    assert response.status_code == 429
    assert challenge_in(response.text) != challenge


def test_the_work_does_not_lift_the_other_checks(petition, now):
    challenge = pow.issue(petition.pk, now=now)
    solution = {"pow_challenge": challenge, "pow_counter": pow.solve(challenge)}
    for data, reason in [
        (form("x@mailinator.com", now, **solution), "disposable"),
        (form("x@gmail.com", now, website="spam", **solution), "honeypot"),
        (form("x@gmail.com", now, fill_seconds=0, **solution), "too_fast"),
    ]:
        verdict = checks.check_signature_attempt(petition, data, secrets.token_hex(8), now=now)
        assert verdict.reason == reason
