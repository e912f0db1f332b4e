"""Petition states: draft → submitted → open | rejected; open → closed | won."""

import pytest

from hamseda.orgs.services import create_organization
from hamseda.petitions import services
from hamseda.petitions.models import PetitionState
from tests.conftest import make_petition


def test_it_walks_the_happy_path(org):
    petition = make_petition(org.organization, open_=False)
    assert petition.state == PetitionState.DRAFT
    services.submit_petition(petition)
    services.approve_petition(petition)
    assert petition.state == PetitionState.OPEN
    assert petition.opened_at is not None
    services.close_petition(petition)
    services.mark_won(petition)
    assert petition.state == PetitionState.WON
    assert petition.closed_at is not None


def test_a_rejection_needs_a_reason_and_allows_a_new_submission(org):
    petition = make_petition(org.organization, open_=False)
    services.submit_petition(petition)
    with pytest.raises(services.TransitionRefused):
        services.reject_petition(petition, "   ")
    services.reject_petition(petition, "Name the decision-maker.")
    assert petition.rejection_reason == "Name the decision-maker."
    services.submit_petition(petition)
    assert petition.state == PetitionState.SUBMITTED
    assert petition.rejection_reason == ""


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("draft", services.approve_petition),
        ("draft", services.close_petition),
        ("open", services.submit_petition),
        ("won", services.close_petition),
    ],
)
def test_it_refuses_transitions_from_the_wrong_state(org, start, action):
    petition = make_petition(org.organization, open_=start != "draft")
    if start == "won":
        services.mark_won(petition)
    with pytest.raises(services.TransitionRefused):
        action(petition)


def test_it_refuses_to_open_a_petition_whose_organisation_has_no_key(db):
    keyless = create_organization(name="Keyless", slug="keyless")
    petition = make_petition(keyless, open_=False)
    services.submit_petition(petition)
    with pytest.raises(services.TransitionRefused, match="sealing key"):
        services.approve_petition(petition)


def test_an_open_petition_keeps_its_wording(petition):
    with pytest.raises(services.TransitionRefused):
        services.save_petition(petition, texts={"en": {"title": "x", "summary": "y", "story": "z"}})


def test_a_petition_past_its_closing_date_takes_no_signatures(petition, now):
    petition.closing_at = now
    with pytest.raises(services.PetitionNotOpen):
        services.sign_petition(
            petition,
            services.Signer(first_name="A", last_name="B", email="a@example.org", country="SE"),
            now=now,
        )
