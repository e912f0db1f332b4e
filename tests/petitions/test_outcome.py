"""The outcome of a petition (petitions.outcomes): won or closed with a closing statement
per language, shown as a banner at the top of its page."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.orgs.models import Role
from hamseda.petitions import outcomes, responses, services, thresholds
from hamseda.petitions.models import DecisionMaker, PetitionState, ThresholdAction
from tests.conftest import PASSWORD, make_org, make_petition, signer

STATEMENTS = {"en": "We **won**: the accounts are gone.", "fa": "ما پیروز شدیم."}


def staff(organization, email="owner@example.org", role=Role.OWNER):
    from hamseda.orgs import services as org_services

    return org_services.create_organizer(
        email=email, password=PASSWORD, organization=organization, role=role
    )


def statement(petition, language):
    return petition.translations.get(language=language).closing_statement


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on-commit work (dropping cached pages) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- the service ---------------------------------------------------------------------


def test_it_marks_a_petition_won_with_statements(petition, now):
    outcomes.set_outcome(petition, outcome="won", statements=STATEMENTS, now=now)
    assert petition.state == PetitionState.WON
    assert petition.won_at == now
    assert statement(petition, "en") == STATEMENTS["en"]
    assert statement(petition, "fa") == STATEMENTS["fa"]


def test_it_closes_and_can_still_mark_won_later(petition, now):
    outcomes.set_outcome(petition, outcome="closed", statements={"en": "Closed."}, now=now)
    assert petition.state == PetitionState.CLOSED
    assert petition.closed_at == now
    outcomes.set_outcome(petition, outcome="won", statements={})
    assert petition.state == PetitionState.WON
    assert petition.closed_at == now
    assert statement(petition, "en") == "Closed."  # A language left out keeps its text.


def test_a_won_petition_stays_won(petition):
    outcomes.set_outcome(petition, outcome="won", statements={})
    with pytest.raises(outcomes.OutcomeError, match="stays won"):
        outcomes.set_outcome(petition, outcome="closed", statements={})


def test_the_statement_can_be_edited_later(petition, now):
    outcomes.set_outcome(petition, outcome="won", statements=STATEMENTS, now=now)
    outcomes.set_outcome(petition, outcome="won", statements={"en": "Edited", "fa": ""})
    assert petition.won_at == now
    assert statement(petition, "en") == "Edited"
    assert statement(petition, "fa") == ""


def test_a_draft_cannot_get_an_outcome(org):
    draft = make_petition(org.organization, "a-draft", open_=False)
    with pytest.raises(outcomes.OutcomeError, match="Only an open petition"):
        outcomes.set_outcome(draft, outcome="won", statements={"en": "x"})
    draft.refresh_from_db()
    assert draft.state == PetitionState.DRAFT
    assert statement(draft, "en") == ""


@pytest.mark.parametrize(
    ("outcome", "statements", "message"),
    [
        ("open", {}, "won or is closed"),
        ("won", {"ps": "no Pashto text"}, "no text in that language"),
        ("won", {"en": "x" * (outcomes.MAX_STATEMENT + 1)}, "at most"),
        ("won", {"en": "nul \x00"}, "cannot be stored"),
    ],
)
def test_it_refuses_bad_input_and_changes_nothing(petition, outcome, statements, message):
    with pytest.raises(outcomes.OutcomeError, match=message):
        outcomes.set_outcome(petition, outcome=outcome, statements=statements)
    petition.refresh_from_db()
    assert petition.state == PetitionState.OPEN


# --- the banner ------------------------------------------------------------------------


def test_the_page_shows_the_victory_in_the_readers_language(client, petition, committed):
    with committed():
        outcomes.set_outcome(petition, outcome="won", statements=STATEMENTS)
    english = client.get(f"/p/{petition.slug}/").content.decode()
    assert "Victory!" in english
    assert "<strong>won</strong>" in english
    assert 'lang="en" dir="ltr"' in english
    assert english.index("Victory!") < english.index('class="summary"')  # At the top.
    dari = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert "ما پیروز شدیم." in dari
    assert 'class="statement" lang="fa" dir="rtl"' in dari


def test_the_banner_falls_back_to_the_main_language(client, petition, committed):
    with committed():
        outcomes.set_outcome(petition, outcome="won", statements={"en": "Only English"})
    dari = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert "Only English" in dari
    assert 'class="statement" lang="en" dir="ltr"' in dari
    pashto = client.get(f"/ps/p/{petition.slug}/").content.decode()
    assert "Only English" in pashto


def test_a_dari_petition_falls_back_to_its_dari_statement(client, org, committed):
    petition = make_petition(org.organization, "dari-first")
    petition.default_language = "fa"
    petition.save()
    with committed():
        outcomes.set_outcome(petition, outcome="closed", statements={"fa": "بسته شد."})
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "This petition is closed" in page
    assert 'class="statement" lang="fa" dir="rtl"' in page


def test_an_open_petition_has_no_banner(client, petition):
    assert 'id="outcome"' not in client.get(f"/p/{petition.slug}/").content.decode()


def test_the_page_shows_outcome_milestones_and_visible_responses(client, petition, committed, now):
    target = DecisionMaker.objects.create(organization=petition.organization, name="ExampleSocial")
    petition.targets.add(target)
    thresholds.add_threshold(petition, count=1, action=ThresholdAction.RECORD)
    services.record_confirmed_signature(petition, signer(1), now=now)
    thresholds.check_thresholds(now=now)
    shown = responses.record_response(
        petition, decision_maker=target, body="Shown words", language="en", responded_on=now.date()
    )
    hidden = responses.record_response(
        petition, decision_maker=target, body="Hidden words", language="en", responded_on=now.date()
    )
    responses.hide_response(hidden)
    with committed():
        outcomes.set_outcome(petition, outcome="won", statements={"en": "Done."})
    for prefix in ("", "/fa", "/ps"):
        page = client.get(f"{prefix}/p/{petition.slug}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'id="outcome"' in html
        assert 'id="milestones"' in html
        assert f'id="response-{shown.pk}"' in html
        assert "Hidden words" not in html


# --- the organiser page ----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ORGANIZER, Role.MODERATOR])
def test_owners_organizers_and_moderators_set_the_outcome(client, petition, role):
    client.force_login(staff(petition.organization, f"{role}@example.org", role))
    url = reverse("outcomes:outcome", args=[petition.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="statement_fa"' in page.content.decode()
    saved = client.post(url, {"outcome": "won", "statement_en": "Thanks", "statement_fa": "سپاس"})
    assert saved.status_code == 302
    petition.refresh_from_db()
    assert petition.state == PetitionState.WON
    assert statement(petition, "fa") == "سپاس"
    assert "سپاس" in client.get(url).content.decode()


def test_an_analyst_may_not(client, petition, analyst):
    client.force_login(analyst)
    url = reverse("outcomes:outcome", args=[petition.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"outcome": "won"}).status_code == 403


def test_the_page_explains_a_refused_change(client, petition):
    client.force_login(staff(petition.organization))
    url = reverse("outcomes:outcome", args=[petition.slug])
    client.post(url, {"outcome": "won"})
    refused = client.post("/fa" + url, {"outcome": "closed"})
    assert refused.status_code == 400
    assert client.post(url, {}).status_code == 400
    petition.refresh_from_db()
    assert petition.state == PetitionState.WON


def test_another_organisation_gets_a_404(client, petition):
    other = make_org("elsewhere")
    client.force_login(staff(other.organization, "them@example.org"))
    assert client.get(reverse("outcomes:outcome", args=[petition.slug])).status_code == 404


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    outcome=st.sampled_from(["won", "closed", "", "open", "wón"]),
    english=st.text(max_size=400),
    dari=st.text(max_size=400),
)
def test_any_statement_gets_a_page_or_a_4xx(client, owner, petition, outcome, english, dari):
    # One petition for every example: once won, it stays won, and "closed" is refused.
    client.force_login(owner)
    url = reverse("outcomes:outcome", args=[petition.slug])
    answer = client.post(url, {"outcome": outcome, "statement_en": english, "statement_fa": dari})
    assert answer.status_code in {302, 400}
    for prefix in ("", "/fa"):
        assert client.get(f"{prefix}/p/{petition.slug}/").status_code == 200
