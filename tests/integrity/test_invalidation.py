"""Bulk invalidation and its undo: exact counts, audit, the command, the pages, races.

Every step ends with `assert_counters_true()`: the denormalised counters must equal what
`counting.recount()` rebuilds from the signatures (PRIVACY.md rule 9, honest numbers).
"""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from hamseda.integrity.invalidation import (
    InvalidationRefused,
    invalidate_signatures,
    undo_invalidation,
)
from hamseda.integrity.models import AuditAction, AuditEvent, Invalidation
from hamseda.petitions import counting, services, withdrawal
from hamseda.petitions.models import (
    CountryCount,
    DailyCount,
    Petition,
    Signature,
    SignatureState,
)
from hamseda.vault import crypto
from tests.conftest import make_org, make_petition, signer

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
REASON = "Flood from a throw-away domain"


def sign(
    petition: Petition,
    number: int,
    *,
    domain: str = "example.org",
    fingerprint: str = "",
    country: str = "SE",
    at: datetime = T0,
    confirm_at: datetime | None = None,
) -> Signature:
    """A signature made through the services, confirmed at `confirm_at` if given."""
    token = f"test-token-{petition.pk}-{number}"
    with mock.patch.object(services, "_token", return_value=(token, crypto.token_hash(token))):
        outcome = services.sign_petition(
            petition,
            signer(
                number,
                email=f"s{number}@{domain}",
                country=country,
                network_fingerprint=fingerprint,
            ),
            now=at,
        )
    assert outcome == services.SignatureOutcome.NEW
    if confirm_at is not None:
        confirmed = services.confirm_signature(petition, token, now=confirm_at)
        assert confirmed == services.ConfirmOutcome.CONFIRMED
    return Signature.objects.get(token_hash=crypto.token_hash(token))


def token_of(petition: Petition, number: int) -> str:
    return f"test-token-{petition.pk}-{number}"


def counters(petition: Petition) -> dict:
    petition.refresh_from_db()
    return {
        "total": petition.signature_count,
        "invalidated": petition.invalidated_count,
        "countries": dict(
            CountryCount.objects.filter(petition=petition).values_list("country", "count")
        ),
        "days": dict(DailyCount.objects.filter(petition=petition).values_list("day", "count")),
    }


def assert_counters_true(petition: Petition) -> dict:
    """The counters as kept equal the counters as rebuilt from the rows."""
    kept = counters(petition)
    counting.recount(petition)
    assert counters(petition) == kept
    return kept


def states(*signatures: Signature) -> list[str]:
    return [Signature.objects.get(pk=s.pk).state for s in signatures]


@pytest.fixture
def flood(petition):
    """Three confirmed and one pending from spam.test (fingerprint "f1" on two of them),
    two confirmed and one pending from example.org, over two days of confirmations."""
    day2 = T0 + timedelta(days=1)
    return {
        "spam_af": sign(petition, 1, domain="spam.test", fingerprint="f1", country="AF",
                        confirm_at=T0 + timedelta(minutes=5)),
        "spam_se": sign(petition, 2, domain="spam.test", fingerprint="f1", confirm_at=day2),
        "spam_se2": sign(petition, 3, domain="spam.test", confirm_at=T0 + timedelta(minutes=9)),
        "spam_pending": sign(petition, 4, domain="spam.test", fingerprint="f2"),
        "real_af": sign(petition, 5, country="AF", fingerprint="f2",
                        confirm_at=T0 + timedelta(minutes=5)),
        "real_se": sign(petition, 6, confirm_at=day2),
        "real_pending": sign(petition, 7),
    }  # fmt: skip


# --- the service -----------------------------------------------------------------------------


def test_it_invalidates_by_domain_and_takes_confirmed_out_of_every_counter(
    petition, flood, moderator
):
    before = assert_counters_true(petition)
    assert before["total"] == 5

    result = invalidate_signatures(
        petition, domain=" Spam.TEST ", reason=REASON, actor=moderator, now=T0 + timedelta(days=2)
    )

    assert (result.count, result.confirmed, result.pending) == (4, 3, 1)
    spam = [flood["spam_af"], flood["spam_se"], flood["spam_se2"], flood["spam_pending"]]
    assert set(states(*spam)) == {SignatureState.INVALIDATED}
    assert states(flood["real_af"], flood["real_se"], flood["real_pending"]) == [
        SignatureState.VALIDATED,
        SignatureState.VALIDATED,
        SignatureState.PENDING,
    ]
    numbers = assert_counters_true(petition)
    assert numbers["total"] == 2
    assert numbers["invalidated"] == 4
    assert numbers["countries"] == {"AF": 1, "SE": 1}
    assert numbers["days"] == {T0.date(): 1, (T0 + timedelta(days=1)).date(): 1}
    invalidation = result.invalidation
    assert invalidation.criteria == {"domain": "spam.test"}
    assert (invalidation.count, invalidation.confirmed_count) == (4, 3)
    assert invalidation.actor_label == "moderator@example.org"
    assert set(Signature.objects.filter(invalidation=invalidation)) == set(spam)
    event = AuditEvent.objects.get(action=AuditAction.INVALIDATION)
    assert event.actor_id == moderator.pk
    assert event.actor_label == "moderator@example.org"
    assert event.subject == petition.slug
    assert event.details == {
        "invalidation": invalidation.pk,
        "criteria": {"domain": "spam.test"},
        "reason": REASON,
        "count": 4,
        "confirmed": 3,
    }


def test_it_invalidates_by_network_fingerprint(petition, flood):
    result = invalidate_signatures(petition, network_fingerprint="f2", reason=REASON)
    assert (result.count, result.confirmed) == (2, 1)
    assert states(flood["spam_pending"], flood["real_af"]) == [SignatureState.INVALIDATED] * 2
    assert assert_counters_true(petition)["countries"] == {"AF": 1, "SE": 3}


def test_it_invalidates_a_half_open_time_range(petition):
    early = sign(petition, 1, at=T0, confirm_at=T0 + timedelta(hours=1))
    inside = sign(petition, 2, at=T0 + timedelta(minutes=10), confirm_at=T0 + timedelta(hours=1))
    edge = sign(petition, 3, at=T0 + timedelta(minutes=20))

    result = invalidate_signatures(
        petition,
        since=T0 + timedelta(minutes=5),
        until=T0 + timedelta(minutes=20),
        reason=REASON,
    )

    assert (result.count, result.confirmed) == (1, 1)
    assert states(early, inside, edge) == [
        SignatureState.VALIDATED,
        SignatureState.INVALIDATED,
        SignatureState.PENDING,
    ]
    assert result.invalidation.criteria == {
        "since": "2026-11-28T12:05:00+00:00",
        "until": "2026-11-28T12:20:00+00:00",
    }
    assert assert_counters_true(petition)["total"] == 1


def test_criteria_combine_with_and(petition, flood):
    result = invalidate_signatures(
        petition, domain="spam.test", network_fingerprint="f1", reason=REASON
    )
    assert result.count == 2
    assert states(flood["spam_se2"], flood["spam_pending"]) == [
        SignatureState.VALIDATED,
        SignatureState.PENDING,
    ]
    assert_counters_true(petition)


def test_a_dry_run_counts_and_changes_nothing(petition, flood):
    before = assert_counters_true(petition)
    result = invalidate_signatures(petition, domain="spam.test", reason=REASON, dry_run=True)
    assert (result.count, result.confirmed, result.pending) == (4, 3, 1)
    assert result.by_country == {"SE": 2, "AF": 1}
    assert result.invalidation is None
    assert counters(petition) == before
    assert not Invalidation.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.INVALIDATION).exists()
    assert not Signature.objects.filter(state=SignatureState.INVALIDATED).exists()


def test_it_refuses_criteria_that_match_nothing_and_records_nothing(petition, flood):
    with pytest.raises(InvalidationRefused, match="No signature matches"):
        invalidate_signatures(petition, domain="nowhere.test", reason=REASON)
    invalidate_signatures(petition, domain="spam.test", reason=REASON)
    # Matching only signatures already invalidated is matching nothing.
    with pytest.raises(InvalidationRefused, match="No signature matches"):
        invalidate_signatures(petition, network_fingerprint="f1", reason=REASON)
    assert Invalidation.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.INVALIDATION).count() == 1
    assert_counters_true(petition)


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({}, "at least one criterion"),
        ({"domain": "  "}, "at least one criterion"),
        ({"since": T0, "until": T0}, "before its end"),
        ({"since": T0, "until": T0 - timedelta(seconds=1)}, "before its end"),
        ({"since": datetime(2026, 11, 28, 12, 0)}, "time zone"),  # noqa: DTZ001 - the point.
        ({"domain": "x" * 254}, "at most 253"),
        ({"network_fingerprint": "f" * 17}, "at most 16"),
    ],
)
def test_it_refuses_unusable_criteria(petition, flood, criteria, message):
    with pytest.raises(InvalidationRefused, match=message):
        invalidate_signatures(petition, **criteria, reason=REASON)
    assert not Invalidation.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", "r" * 501])
def test_it_refuses_a_missing_or_overlong_reason(petition, flood, reason):
    with pytest.raises(InvalidationRefused, match="reason"):
        invalidate_signatures(petition, domain="spam.test", reason=reason)
    assert not Invalidation.objects.exists()


def test_overlapping_invalidations_take_each_signature_once(petition, flood):
    first = invalidate_signatures(petition, network_fingerprint="f1", reason=REASON)
    second = invalidate_signatures(petition, domain="spam.test", reason=REASON)
    assert (first.count, first.confirmed) == (2, 2)
    assert (second.count, second.confirmed) == (2, 1)
    numbers = assert_counters_true(petition)
    assert numbers["invalidated"] == 4
    assert numbers["total"] == 2
    # Each signature points at the invalidation that took it.
    assert Signature.objects.get(pk=flood["spam_af"].pk).invalidation == first.invalidation
    assert Signature.objects.get(pk=flood["spam_se2"].pk).invalidation == second.invalidation


def test_undo_restores_exactly_what_it_took(petition, flood, owner):
    before = assert_counters_true(petition)
    validated_at = {s.pk: s.validated_at for s in Signature.objects.all()}
    result = invalidate_signatures(petition, domain="spam.test", reason=REASON)

    undone = undo_invalidation(result.invalidation, actor=owner, now=T0 + timedelta(days=3))

    assert undone.undone_at == T0 + timedelta(days=3)
    assert undone.undone_by_label == "owner@example.org"
    assert assert_counters_true(petition) == before
    assert states(flood["spam_af"], flood["spam_pending"]) == [
        SignatureState.VALIDATED,
        SignatureState.PENDING,
    ]
    assert {s.pk: s.validated_at for s in Signature.objects.all()} == validated_at
    assert not Signature.objects.filter(invalidation__isnull=False).exists()
    event = AuditEvent.objects.get(action=AuditAction.INVALIDATION_UNDONE)
    assert event.actor_id == owner.pk
    assert event.details["invalidation"] == result.invalidation.pk
    assert event.details["restored"] == 4


def test_undo_leaves_other_invalidations_alone(petition, flood):
    first = invalidate_signatures(petition, network_fingerprint="f1", reason=REASON)
    second = invalidate_signatures(petition, domain="spam.test", reason=REASON)
    undo_invalidation(first.invalidation)
    assert states(flood["spam_af"], flood["spam_se"]) == [SignatureState.VALIDATED] * 2
    assert states(flood["spam_se2"], flood["spam_pending"]) == [SignatureState.INVALIDATED] * 2
    assert assert_counters_true(petition)["invalidated"] == 2
    undo_invalidation(second.invalidation)
    assert assert_counters_true(petition)["invalidated"] == 0


def test_undo_after_a_withdrawal_restores_the_rest(petition, flood):
    result = invalidate_signatures(petition, domain="spam.test", reason=REASON)
    token = withdrawal.withdraw_token(petition.pk, flood["spam_af"].pk)
    assert withdrawal.withdraw_signature(petition, token) == withdrawal.WithdrawOutcome.WITHDRAWN
    assert assert_counters_true(petition)["invalidated"] == 3

    undo_invalidation(result.invalidation)

    numbers = assert_counters_true(petition)
    assert numbers["invalidated"] == 0
    assert numbers["total"] == 4
    assert numbers["countries"] == {"AF": 1, "SE": 3}


def test_an_undo_of_an_undo_is_refused(petition, flood):
    result = invalidate_signatures(petition, domain="spam.test", reason=REASON)
    undo_invalidation(result.invalidation)
    before = assert_counters_true(petition)
    with pytest.raises(InvalidationRefused, match="already been undone"):
        undo_invalidation(result.invalidation)
    assert counters(petition) == before
    assert AuditEvent.objects.filter(action=AuditAction.INVALIDATION_UNDONE).count() == 1


def test_it_invalidates_again_after_an_undo(petition, flood):
    first = invalidate_signatures(petition, domain="spam.test", reason=REASON)
    undo_invalidation(first.invalidation)
    second = invalidate_signatures(petition, domain="spam.test", reason="Checked again")
    assert (second.count, second.confirmed) == (4, 3)
    assert assert_counters_true(petition)["total"] == 2
    undo_invalidation(second.invalidation)
    assert assert_counters_true(petition)["total"] == 5


def test_a_confirmation_after_the_invalidation_counts_nothing(petition):
    sign(petition, 1, domain="spam.test")
    invalidate_signatures(petition, domain="spam.test", reason=REASON)
    outcome = services.confirm_signature(petition, token_of(petition, 1), now=T0)
    assert outcome == services.ConfirmOutcome.INVALID
    assert assert_counters_true(petition)["total"] == 0


# --- the command -----------------------------------------------------------------------------


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("invalidate", *args, stdout=out)
    return out.getvalue()


def test_the_command_dry_runs_invalidates_lists_and_undoes(petition, flood):
    out = run(petition.slug, "--domain", "spam.test", "--dry-run", "--reason", REASON)
    assert "4 signatures would be invalidated (3 confirmed, 1 pending)" in out
    assert not Invalidation.objects.exists()

    out = run(petition.slug, "--domain", "spam.test", "--reason", REASON)
    invalidation = Invalidation.objects.get()
    assert f"Invalidation {invalidation.pk}: 4 signatures invalidated" in out
    assert invalidation.actor_label == "system"
    assert_counters_true(petition)

    listing = run(petition.slug, "--list")
    assert str(invalidation.pk) in listing
    assert "active" in listing
    assert REASON in listing

    out = run(petition.slug, "--undo", str(invalidation.pk), "--reason", "False alarm")
    assert "undone" in out
    assert "undone" in run(petition.slug, "--list")
    event = AuditEvent.objects.get(action=AuditAction.INVALIDATION_UNDONE)
    assert event.details["reason"] == "False alarm"
    assert assert_counters_true(petition)["invalidated"] == 0


def test_the_command_takes_an_ip_fingerprint_and_a_time_range(petition, flood):
    run(petition.slug, "--ip-fingerprint", "f2", "--reason", REASON)
    assert Invalidation.objects.get().criteria == {"network_fingerprint": "f2"}
    sign(petition, 20, at=T0 + timedelta(hours=5))
    # Naive times are UTC; an explicit offset is honoured.
    run(
        petition.slug,
        "--since",
        "2026-11-28T16:30",
        "--until",
        "2026-11-28T19:00+01:00",
        "--reason",
        REASON,
    )
    latest = Invalidation.objects.order_by("-pk").first()
    assert latest.count == 1
    assert latest.criteria == {
        "since": "2026-11-28T16:30:00+00:00",
        "until": "2026-11-28T18:00:00+00:00",
    }
    assert_counters_true(petition)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-petition", "--domain", "spam.test", "--reason", REASON], "No petition"),
        (["{slug}", "--reason", REASON], "at least one criterion"),
        (["{slug}", "--since", "yesterday", "--reason", REASON], "not an ISO 8601"),
        (["{slug}", "--until", "2026-13-45", "--reason", REASON], "not an ISO 8601"),
        (
            ["{slug}", "--since", "2026-11-28T13:00", "--until", "2026-11-28T12:00",
             "--reason", REASON],
            "before its end",
        ),
        (["{slug}", "--domain", "nowhere.test", "--reason", REASON], "No signature matches"),
        (["{slug}", "--domain", "spam.test"], "reason"),
        (["{slug}", "--undo", "999999", "--reason", "x"], "No invalidation 999999"),
        (["{slug}", "--undo", "1"], "--reason"),
        (["{slug}", "--list", "--domain", "spam.test"], "no criteria"),
    ],
)  # fmt: skip
def test_the_command_refuses_bad_requests_clearly(petition, flood, args, message):
    with pytest.raises(CommandError, match=message):
        run(*[arg.format(slug=petition.slug) for arg in args])
    assert not Invalidation.objects.exists()


def test_the_command_refuses_an_undo_of_an_undo_and_another_petitions_invalidation(petition, flood):
    run(petition.slug, "--domain", "spam.test", "--reason", REASON)
    pk = str(Invalidation.objects.get().pk)
    run(petition.slug, "--undo", pk, "--reason", "x")
    with pytest.raises(CommandError, match="already been undone"):
        run(petition.slug, "--undo", pk, "--reason", "x")
    other = make_petition(petition.organization, "other-petition")
    with pytest.raises(CommandError, match="No invalidation"):
        run(other.slug, "--undo", pk, "--reason", "x")


# --- the pages -------------------------------------------------------------------------------


def page(petition: Petition) -> str:
    return reverse("integrity:invalidate", args=[petition.slug])


FORM = {"domain": "spam.test", "network_fingerprint": "", "since": "", "until": ""}


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("moderator", 200), ("analyst", 403), ("outsider", 404)],
)
def test_the_page_is_for_moderators_only(client, petition, flood, request, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(page(petition)).status_code == status
    response = client.post(page(petition), {**FORM, "reason": REASON, "confirm": "1"})
    assert response.status_code == (302 if status == 200 else status)


def test_anonymous_is_sent_to_log_in(client, petition):
    response = client.get(page(petition))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_form_is_prefilled_from_the_address(client, petition, moderator):
    client.force_login(moderator)
    response = client.get(page(petition) + "?domain=spam.test&network_fingerprint=ab12")
    body = response.content.decode()
    assert 'value="spam.test"' in body
    assert 'value="ab12"' in body


def test_preview_then_confirm(client, petition, flood, moderator):
    client.force_login(moderator)
    preview = client.post(page(petition), {**FORM, "reason": REASON})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Would be invalidated" in body
    assert ">4<" in body
    assert ">3<" in body
    assert 'name="confirm"' in body
    assert not Invalidation.objects.exists()

    done = client.post(page(petition), {**FORM, "reason": REASON, "confirm": "1"})
    assert done.status_code == 302
    invalidation = Invalidation.objects.get()
    assert invalidation.actor_label == "moderator@example.org"
    assert assert_counters_true(petition)["total"] == 2

    listing = client.get(page(petition)).content.decode()
    assert REASON in listing
    assert "moderator@example.org" in listing
    undo_url = reverse("integrity:undo", args=[petition.slug, invalidation.pk])
    assert undo_url in listing
    assert client.post(undo_url).status_code == 302
    assert assert_counters_true(petition)["total"] == 5
    again = client.post(undo_url, follow=True)
    assert "already been undone" in again.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.INVALIDATION_UNDONE).count() == 1


@pytest.mark.parametrize(
    "form",
    [
        {**FORM, "since": "not a date", "reason": REASON},
        {**FORM, "until": "2026-02-30 10:00", "reason": REASON},
        {**FORM, "since": "99999-01-01 00:00", "reason": REASON},
        {"domain": "", "since": "2026-11-28 13:00", "until": "2026-11-28 12:00", "reason": REASON},
        {"domain": "", "network_fingerprint": "", "reason": REASON},
        {**FORM, "reason": ""},
        {**FORM, "reason": "r" * 501},
        {**FORM, "domain": "x" * 254, "reason": REASON},
        {**FORM, "network_fingerprint": "f" * 17, "reason": REASON},
        {**FORM, "domain": "nowhere.test", "reason": REASON},
        {**FORM, "domain": "nowhere.test", "reason": REASON, "confirm": "1"},
        {**FORM, "domain": "a\x00b", "reason": REASON},
    ],
)
def test_hostile_input_gets_a_400_with_the_form(client, petition, flood, moderator, form):
    client.force_login(moderator)
    response = client.post(page(petition), form)
    assert response.status_code == 400
    assert "Please correct the marked fields." in response.content.decode()
    assert not Invalidation.objects.exists()


def test_undo_of_another_petitions_invalidation_is_not_found(client, petition, flood, moderator):
    other = make_petition(petition.organization, "other-petition")
    sign(other, 99, domain="spam.test")
    result = invalidate_signatures(other, domain="spam.test", reason=REASON)
    client.force_login(moderator)
    url = reverse("integrity:undo", args=[petition.slug, result.invalidation.pk])
    assert client.post(url).status_code == 404
    assert client.get(reverse("integrity:undo", args=[other.slug, 1])).status_code == 405


def test_the_petition_page_links_to_invalidations_for_moderators_only(
    client, petition, moderator, analyst
):
    client.force_login(moderator)
    link = page(petition)
    assert link in client.get(reverse("organize:petition", args=[petition.slug])).content.decode()
    client.force_login(analyst)
    body = client.get(reverse("organize:petition", args=[petition.slug])).content.decode()
    assert link not in body


# --- races, on a committed database ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_confirmations_and_withdrawals_racing_an_invalidation_keep_counts_exact(round_):
    from tests.petitions.test_concurrency import run_together

    petition = make_petition(make_org().organization)
    countries = ["AF", "SE", "GB"]
    spam = [sign(petition, n, domain="spam.test", country=countries[n % 3]) for n in range(12)]
    real = [sign(petition, 100 + n, country=countries[n % 3]) for n in range(6)]
    # Half the flood is confirmed before the invalidation starts.
    for n in range(6):
        services.confirm_signature(petition, token_of(petition, n), now=T0)
    confirm_at = T0 + timedelta(days=1)

    def confirm_rest():
        numbers = list(range(6, 12)) + [100 + n for n in range(6)]
        return [
            services.confirm_signature(petition, token_of(petition, n), now=confirm_at)
            for n in numbers
        ]

    def withdraw_some():
        return [withdrawal.remove_signature(s.pk) for s in (spam[0], spam[7], real[0])]

    def invalidate():
        return invalidate_signatures(petition, domain="spam.test", reason=REASON)

    work = [confirm_rest, withdraw_some, invalidate]
    # Vary who starts first between rounds.
    work = work[round_:] + work[:round_]
    run_together(work)

    numbers = assert_counters_true(petition)
    invalidation = Invalidation.objects.get()
    held = Signature.objects.filter(invalidation=invalidation).count()
    assert numbers["invalidated"] == held
    assert not Signature.objects.filter(
        email_domain="spam.test", state__in=[SignatureState.PENDING, SignatureState.VALIDATED]
    ).exists()
    # The real signatures are all confirmed and counted, but the withdrawn one.
    assert numbers["total"] == 5

    undo_invalidation(invalidation)
    numbers = assert_counters_true(petition)
    assert numbers["invalidated"] == 0
