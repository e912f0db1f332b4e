"""Milestones (petitions.thresholds): added with clear refusals, reached exactly once,
their action run once, shown on the public page."""

import pytest
from django.urls import reverse
from django.utils import timezone

from hamseda.mail.models import OutboundMessage
from hamseda.orgs.models import Role
from hamseda.petitions import services, tasks, thresholds
from hamseda.petitions.models import (
    DecisionMaker,
    ResponseRequest,
    Threshold,
    ThresholdAction,
)
from hamseda.runtime import SCHEDULE
from tests.conftest import PASSWORD, make_org, make_petition, run_tasks, signer
from tests.petitions.test_concurrency import run_together

PRESS = ["desk@press.example", "news@radio.example"]


def sign(petition, first: int, last: int, now=None):
    for number in range(first, last + 1):
        services.record_confirmed_signature(petition, signer(number), now=now)
    petition.refresh_from_db()


def staff(organization, email="owner@example.org", role=Role.OWNER):
    from hamseda.orgs import services as org_services

    return org_services.create_organizer(
        email=email, password=PASSWORD, organization=organization, role=role
    )


# --- adding and removing --------------------------------------------------------------


def test_it_adds_a_notify_milestone_with_cleaned_addresses(petition):
    threshold = thresholds.add_threshold(
        petition,
        count=5,
        action=ThresholdAction.NOTIFY,
        notify_addresses=" desk@press.example \n\nnews@radio.example, Desk@press.example",
        description="The press will be told",
    )
    assert threshold.notify_addresses.splitlines() == PRESS
    assert threshold.reached_at is None


@pytest.mark.parametrize("count", [0, -1, thresholds.MAX_COUNT + 1])
def test_it_refuses_a_count_out_of_range(petition, count):
    with pytest.raises(thresholds.ThresholdError, match="from 1"):
        thresholds.add_threshold(petition, count=count, action=ThresholdAction.RECORD)


def test_it_refuses_notify_without_addresses(petition):
    with pytest.raises(thresholds.ThresholdError, match="at least one"):
        thresholds.add_threshold(petition, count=5, action=ThresholdAction.NOTIFY)


def test_it_names_the_bad_address_line(petition):
    with pytest.raises(thresholds.ThresholdError, match="Line 2"):
        thresholds.add_threshold(
            petition,
            count=5,
            action=ThresholdAction.NOTIFY,
            notify_addresses="desk@press.example\nnot an address",
        )


def test_it_refuses_more_than_200_addresses(petition):
    many = "\n".join(f"p{n}@press.example" for n in range(201))
    with pytest.raises(thresholds.ThresholdError, match="200"):
        thresholds.add_threshold(
            petition, count=5, action=ThresholdAction.NOTIFY, notify_addresses=many
        )


def test_it_refuses_a_duplicate_with_a_clear_message(petition):
    thresholds.add_threshold(petition, count=5, action=ThresholdAction.RECORD)
    with pytest.raises(thresholds.ThresholdError, match="already has a milestone"):
        thresholds.add_threshold(petition, count=5, action=ThresholdAction.RECORD)
    # Another action at the same count is a different milestone.
    thresholds.add_threshold(petition, count=5, action=ThresholdAction.ASK_RESPONSE)
    assert petition.thresholds.count() == 2


def test_it_refuses_an_unknown_action(petition):
    with pytest.raises(thresholds.ThresholdError):
        thresholds.add_threshold(petition, count=5, action="explode")


def test_it_keeps_addresses_only_for_notify(petition):
    threshold = thresholds.add_threshold(
        petition, count=5, action=ThresholdAction.RECORD, notify_addresses="a@b.example"
    )
    assert threshold.notify_addresses == ""


def test_it_removes_only_a_milestone_not_reached(petition):
    waiting = thresholds.add_threshold(petition, count=500, action=ThresholdAction.RECORD)
    reached = thresholds.add_threshold(petition, count=1, action=ThresholdAction.RECORD)
    sign(petition, 1, 1)
    thresholds.check_thresholds()
    thresholds.remove_threshold(waiting)
    with pytest.raises(thresholds.ThresholdError, match="stays on the record"):
        thresholds.remove_threshold(reached)
    assert list(Threshold.objects.values_list("pk", flat=True)) == [reached.pk]


# --- reaching -------------------------------------------------------------------------


def test_it_reaches_a_milestone_once_when_the_count_jumps_past_it(petition, now):
    record = thresholds.add_threshold(petition, count=3, action=ThresholdAction.RECORD)
    beyond = thresholds.add_threshold(petition, count=4, action=ThresholdAction.RECORD)
    later = thresholds.add_threshold(petition, count=50, action=ThresholdAction.RECORD)
    sign(petition, 1, 2)
    assert thresholds.check_thresholds(now=now) == 0
    sign(petition, 3, 6)  # From 2 straight to 6: past two milestones at once.
    assert thresholds.check_thresholds(now=now) == 2
    assert thresholds.check_thresholds(now=now) == 0
    record.refresh_from_db()
    beyond.refresh_from_db()
    later.refresh_from_db()
    assert record.reached_at == now
    assert beyond.reached_at == now
    assert later.reached_at is None


def test_it_ignores_petitions_that_are_not_public(org):
    draft = make_petition(org.organization, "a-draft", open_=False)
    Threshold.objects.create(petition=draft, count=0 + 1, created_at=timezone.now())
    # A draft has no confirmed signatures, but even a forged count must not reach.
    type(draft).objects.filter(pk=draft.pk).update(signature_count=10)
    assert thresholds.check_thresholds() == 0


def test_it_stays_reached_after_withdrawals(petition, now):
    threshold = thresholds.add_threshold(petition, count=1, action=ThresholdAction.RECORD)
    sign(petition, 1, 1)
    thresholds.check_thresholds(now=now)
    type(petition).objects.filter(pk=petition.pk).update(signature_count=0)
    sign(petition, 2, 2)
    assert thresholds.check_thresholds() == 0
    threshold.refresh_from_db()
    assert threshold.reached_at == now


def test_it_notifies_each_address_once_with_the_petition_and_its_numbers(petition, outbox, now):
    thresholds.add_threshold(
        petition,
        count=2,
        action=ThresholdAction.NOTIFY,
        notify_addresses="\n".join(PRESS),
        description="Partners are told.",
    )
    owner = staff(petition.organization)
    staff(petition.organization, "organizer@example.org", Role.ORGANIZER)
    staff(petition.organization, "analyst@example.org", Role.ANALYST)
    sign(petition, 1, 3)
    thresholds.check_thresholds(now=now)
    thresholds.check_thresholds(now=now)
    run_tasks()
    by_address = {message.to[0]: message for message in outbox}
    assert sorted(by_address) == sorted([*PRESS, owner.email, "organizer@example.org"])
    press = by_address[PRESS[0]]
    assert "Suspend the accounts" in press.subject
    assert "2" in press.subject
    assert "3 confirmed signatures" in press.body  # Live numbers at delivery.
    assert "Partners are told." in press.body
    assert "http://testserver/p/free-speech/" in press.body
    organisers = by_address[owner.email]
    assert "2 addresses on the milestone's list were notified" in organisers.body
    assert reverse("outcomes:milestones", args=[petition.slug]) in organisers.body
    # Nothing is left to send: each mail went once.
    assert run_tasks() == 0


def test_it_asks_the_decision_makers_for_a_response(petition, outbox, now):
    with_email = DecisionMaker.objects.create(
        organization=petition.organization,
        name="ExampleSocial",
        email="policy@social.example",
        language="fa",
    )
    without = DecisionMaker.objects.create(organization=petition.organization, name="Its owner")
    petition.targets.add(with_email, without)
    thresholds.add_threshold(petition, count=1, action=ThresholdAction.ASK_RESPONSE)
    staff(petition.organization)
    sign(petition, 1, 1)
    assert thresholds.check_thresholds(now=now) == 1
    request = ResponseRequest.objects.get()
    assert request.decision_maker == with_email
    run_tasks()
    asked = next(m for m in outbox if m.to == ["policy@social.example"])
    assert asked.extra_headers["Content-Language"] == "fa"
    link = next(line for line in asked.body.splitlines() if "/respond/" in line).strip()
    assert link.startswith("http://testserver/fa/p/free-speech/respond/")
    organisers = next(m for m in outbox if m.to == ["owner@example.org"])
    assert "1 decision-maker" in organisers.body


def test_the_organisers_hear_when_no_decision_maker_could_be_asked(petition, outbox):
    thresholds.add_threshold(petition, count=1, action=ThresholdAction.ASK_RESPONSE)
    staff(petition.organization)
    sign(petition, 1, 1)
    thresholds.check_thresholds()
    run_tasks()
    assert "none has an e-mail address" in outbox[0].body
    assert not ResponseRequest.objects.exists()


def test_it_runs_as_a_scheduled_task_every_minute(petition):
    assert ("hamseda.petitions.tasks.check_thresholds", 60) in SCHEDULE
    thresholds.add_threshold(petition, count=1, action=ThresholdAction.RECORD)
    sign(petition, 1, 1)
    tasks.check_thresholds.enqueue()
    run_tasks()
    assert Threshold.objects.get().reached_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_workers_reach_a_milestone_once():
    keys = make_org()
    petition = make_petition(keys.organization)
    staff(keys.organization)
    thresholds.add_threshold(
        petition, count=2, action=ThresholdAction.NOTIFY, notify_addresses="\n".join(PRESS)
    )
    sign(petition, 1, 2)
    results = run_together([thresholds.check_thresholds] * 4)
    assert sum(results) == 1
    # Two press mails and one to the owner, queued once.
    assert OutboundMessage.objects.count() == 3


# --- the public page ------------------------------------------------------------------


def test_the_page_shows_the_next_milestone_and_the_reached_ones(client, petition, now):
    thresholds.add_threshold(
        petition,
        count=1,
        action=ThresholdAction.RECORD,
        description="First supporters",
    )
    thresholds.add_threshold(
        petition,
        count=10_000,
        action=ThresholdAction.ASK_RESPONSE,
        description="ExampleSocial will be asked to respond",
    )
    sign(petition, 1, 1)
    thresholds.check_thresholds(now=now)
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "At 10,000 signatures:" in page
    assert "ExampleSocial will be asked to respond" in page
    assert "1 signature reached on" in page
    assert "First supporters" in page


def test_the_page_says_what_an_ask_milestone_without_description_does(client, petition):
    thresholds.add_threshold(petition, count=500, action=ThresholdAction.ASK_RESPONSE)
    page = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert 'id="milestones"' in page
    page = client.get(f"/p/{petition.slug}/").content.decode()
    assert "At 500 signatures the decision-makers will be asked to respond." in page


def test_a_page_without_milestones_shows_no_section(client, petition):
    assert 'id="milestones"' not in client.get(f"/p/{petition.slug}/").content.decode()


# --- the organiser page ---------------------------------------------------------------


def test_an_organiser_adds_and_removes_a_milestone(client, petition):
    client.force_login(staff(petition.organization))
    url = reverse("outcomes:milestones", args=[petition.slug])
    response = client.post(url, {"count": "100", "action": "record", "description": "Hundred"})
    assert response.status_code == 302
    threshold = Threshold.objects.get()
    page = client.get(url).content.decode()
    assert "Hundred" in page
    remove = reverse("outcomes:remove_milestone", args=[petition.slug, threshold.pk])
    assert client.post(remove).status_code == 302
    assert not Threshold.objects.exists()


def test_the_organiser_page_explains_bad_input(client, petition):
    client.force_login(staff(petition.organization))
    url = reverse("outcomes:milestones", args=[petition.slug])
    client.post(url, {"count": "100", "action": "record"})
    duplicate = client.post(url, {"count": "100", "action": "record"})
    assert duplicate.status_code == 400
    assert "already has a milestone" in duplicate.content.decode()
    bad = client.post(url, {"count": "5", "action": "notify", "notify_addresses": "x@"})
    assert bad.status_code == 400
    assert "Line 1 is not a valid e-mail address." in bad.content.decode()
    zero = client.post("/fa" + url, {"count": "0", "action": "record"})
    assert zero.status_code == 400


def test_the_organiser_page_warns_of_targets_without_address(client, petition):
    target = DecisionMaker.objects.create(organization=petition.organization, name="NoMail Inc")
    petition.targets.add(target)
    thresholds.add_threshold(petition, count=100, action=ThresholdAction.ASK_RESPONSE)
    client.force_login(staff(petition.organization))
    page = client.get(reverse("outcomes:milestones", args=[petition.slug])).content.decode()
    assert "NoMail Inc" in page
    assert "have no e-mail address" in page


def test_another_organisations_milestone_is_not_found(client, petition):
    other = make_org("elsewhere")
    theirs = make_petition(other.organization, "theirs")
    threshold = thresholds.add_threshold(theirs, count=5, action=ThresholdAction.RECORD)
    client.force_login(staff(petition.organization))
    url = reverse("outcomes:remove_milestone", args=[petition.slug, threshold.pk])
    assert client.post(url).status_code == 404
    assert Threshold.objects.filter(pk=threshold.pk).exists()


def test_the_milestone_mails_render_in_dari_and_pashto(org, outbox):
    for language in ("fa", "ps"):
        petition = make_petition(org.organization, f"p-{language}")
        petition.default_language = language
        petition.save()
        thresholds.add_threshold(
            petition, count=1, action=ThresholdAction.NOTIFY, notify_addresses="d@press.example"
        )
        services.record_confirmed_signature(petition, signer(1))
    staff(org.organization)
    thresholds.check_thresholds()
    run_tasks()
    assert len(outbox) == 4
    texts = {
        # The Dari text where the petition has one; Pashto falls back to English.
        "fa": "حساب‌ها را مسدود کنید",
        "ps": "Suspend the accounts",
    }
    for message in outbox:
        language = message.extra_headers["Content-Language"]
        assert texts[language] in message.subject
        assert "{%" not in message.body
        assert f"http://testserver/{language}/" in message.body
