"""Retention (PRIVACY.md rule 8): a petition closed longer than the retention period loses
its supporters' personal data, keeps its counts, and its organisers are warned first."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from django.utils import formats
from django.utils.module_loading import import_string

from hamseda import runtime
from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.mail.models import OutboundMessage
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Role
from hamseda.petitions import counting, services, withdrawal
from hamseda.petitions.models import Petition, PetitionState, Signature, SignatureState
from hamseda.vault import retention
from tests.conftest import PASSWORD, make_org, make_petition, run_tasks, signer
from tests.petitions.test_concurrency import run_together
from tests.vault.test_erasure import counters

DAY = timedelta(days=1)
YEAR = 365 * DAY
LEAD = 30 * DAY


def fill(petition, now, *, confirmed: int = 3, pending: int = 1, invalidated: int = 1):
    """Signatures of every kind, made through the services, counted by recount()."""
    numbers = iter(range(1000))
    for _ in range(confirmed):
        n = next(numbers)
        services.record_confirmed_signature(
            petition, signer(n, country=["AF", "SE"][n % 2]), now=now - timedelta(days=n)
        )
    for _ in range(pending + invalidated):
        services.sign_petition(petition, signer(next(numbers)), now=now)
    extra = Signature.objects.filter(petition=petition, state=SignatureState.PENDING)
    for signature in extra.order_by("pk")[:invalidated]:
        Signature.objects.filter(pk=signature.pk).update(state=SignatureState.INVALIDATED)
    counting.recount(petition)
    return counters(petition)


@pytest.fixture
def staff(org, owner, moderator, analyst):
    """The owner, an organizer, a moderator and an analyst; and a member of another
    organisation. Only the owner and the organizer are warned."""
    org_services.create_organizer(
        email="organizer@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.ORGANIZER,
    )
    other = make_org("other-org")
    org_services.create_organizer(
        email="elsewhere@example.org",
        password=PASSWORD,
        organization=other.organization,
        role=Role.OWNER,
    )


@pytest.fixture
def closed(org, now, staff):
    """A petition closed on day 0 (`now` minus a year and a day), with signatures."""
    day0 = now - YEAR - DAY
    petition = make_petition(org.organization, "closed-long-ago")
    numbers = fill(petition, day0)
    services.close_petition(petition, now=day0)
    return petition, day0, numbers


def retention_mails() -> list:
    return list(OutboundMessage.objects.filter(kind="retention-warning"))


def test_it_warns_the_organisers_once_ahead_then_purges_leaving_only_counts(
    closed, now, outbox, client
):
    petition, day0, numbers = closed
    assert Signature.objects.filter(petition=petition).count() == 5

    # Before the warning time: nothing.
    report = retention.purge_personal_data(now=day0 + YEAR - LEAD - DAY)
    assert report.warned == report.purged == {}
    # The lead time before the end of the period: the owners and organizers are warned.
    warn_time = day0 + YEAR - LEAD
    report = retention.purge_personal_data(now=warn_time)
    assert report.warned == {petition.slug: 2}
    assert report.purged == {}
    # Once: the next days' runs do not warn again.
    for days in range(1, 5):
        assert retention.purge_personal_data(now=warn_time + days * DAY).warned == {}
    run_tasks()
    warnings = [m for m in outbox if m.subject.startswith("Supporters' data will be deleted")]
    assert sorted(m.to[0] for m in warnings) == ["organizer@example.org", "owner@example.org"]
    body = warnings[0].body
    assert "Suspend the accounts" in warnings[0].subject
    assert (day0 + YEAR).date().isoformat() in body
    assert f"hamseda export signatures {petition.slug}" in body
    assert Signature.objects.filter(petition=petition).count() == 5

    # A day before the end of the period: still nothing purged.
    assert retention.purge_personal_data(now=day0 + YEAR - DAY).purged == {}
    # The period is over: every row goes, the counts stay exactly as they were.
    purge_time = day0 + YEAR
    report = retention.purge_personal_data(now=purge_time)
    assert report.purged == {petition.slug: 5}
    assert not Signature.objects.filter(petition=petition).exists()
    assert counters(petition) == numbers
    assert numbers["total"] == 3
    assert numbers["invalidated"] == 1
    petition.refresh_from_db()
    assert petition.personal_data_purged_at == purge_time

    # Audited, with the number of rows and no actor.
    event = AuditEvent.objects.get(action=AuditAction.RETENTION_PURGE)
    assert event.organization == petition.organization
    assert event.subject == petition.slug
    assert event.actor_id is None
    assert event.actor_label == "system"
    assert event.details["signatures_deleted"] == 5

    # Done once: later runs find nothing to do.
    assert retention.purge_personal_data(now=purge_time + DAY).as_dict() == {
        "dry_run": False,
        "warned": {},
        "purged": {},
    }
    assert AuditEvent.objects.filter(action=AuditAction.RETENTION_PURGE).count() == 1
    assert len(retention_mails()) == 2


def test_it_purges_only_petitions_closed_longer_than_the_period(org, now, staff):
    def petition_closed(slug, ago, *, won=False):
        petition = make_petition(org.organization, slug)
        fill(petition, now - ago)
        services.close_petition(petition, now=now - ago)
        if won:
            services.mark_won(petition, now=now - ago + DAY)
        # Warned long ago, so only the period decides.
        Petition.objects.filter(pk=petition.pk).update(retention_warned_at=now - 2 * LEAD)
        return petition

    old = petition_closed("closed-old", YEAR + DAY)
    won = petition_closed("won-old", YEAR + 10 * DAY, won=True)
    recent = petition_closed("closed-recently", YEAR - DAY)
    recently_won = petition_closed("won-recently", 10 * DAY, won=True)
    still_open = make_petition(org.organization, "still-open")
    fill(still_open, now - 2 * YEAR)
    Petition.objects.filter(pk=still_open.pk).update(retention_warned_at=now - 2 * LEAD)

    report = retention.purge_personal_data(now=now)

    assert set(report.purged) == {old.slug, won.slug}
    for petition in (recent, recently_won, still_open):
        assert Signature.objects.filter(petition=petition).count() == 5
    assert Signature.objects.filter(petition__in=[old, won]).count() == 0


def test_an_open_petition_past_its_closing_date_counts_as_closed_since_then(org, now, staff):
    petition = make_petition(org.organization, "ran-out")
    fill(petition, now - 2 * YEAR)
    Petition.objects.filter(pk=petition.pk).update(closing_at=now - YEAR - DAY)
    assert retention.purge_personal_data(now=now).warned == {petition.slug: 2}
    assert retention.purge_personal_data(now=now + LEAD).purged == {petition.slug: 5}
    petition.refresh_from_db()
    assert petition.state == PetitionState.OPEN
    assert petition.signature_count == 3


def test_a_petition_due_without_a_warning_is_warned_first_and_purged_a_lead_time_later(closed, now):
    petition, _day0, _numbers = closed  # Closed a year and a day ago, never warned.
    report = retention.purge_personal_data(now=now)
    assert report.warned == {petition.slug: 2}
    assert report.purged == {}
    assert retention.purge_personal_data(now=now + LEAD - DAY).purged == {}
    assert retention.purge_personal_data(now=now + LEAD).purged == {petition.slug: 5}


def test_without_a_lead_time_it_purges_without_warning(closed, now, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "RETENTION_WARNING_DAYS": 0}
    petition, _day0, numbers = closed
    report = retention.purge_personal_data(now=now)
    assert report.purged == {petition.slug: 5}
    assert report.warned == {}
    assert retention_mails() == []
    assert counters(petition) == numbers


def test_the_period_is_a_setting(closed, now, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "RETENTION_DAYS": 730}
    assert retention.purge_personal_data(now=now).as_dict() == {
        "dry_run": False,
        "warned": {},
        "purged": {},
    }


def test_a_dry_run_changes_nothing(closed, now):
    petition, day0, numbers = closed
    Petition.objects.filter(pk=petition.pk).update(retention_warned_at=day0 + YEAR - LEAD)
    other = make_petition(petition.organization, "closed-a-bit-later")
    fill(other, now - YEAR)
    services.close_petition(other, now=now - YEAR + 10 * DAY)  # Due for its warning.
    before = {
        "signatures": Signature.objects.count(),
        "mails": OutboundMessage.objects.count(),
        "events": AuditEvent.objects.count(),
        "petitions": list(
            Petition.objects.order_by("pk").values_list(
                "retention_warned_at", "personal_data_purged_at"
            )
        ),
    }

    report = retention.purge_personal_data(now=now, dry_run=True)

    assert report.as_dict() == {
        "dry_run": True,
        "warned": {other.slug: 2},
        "purged": {petition.slug: 5},
    }
    after = {
        "signatures": Signature.objects.count(),
        "mails": OutboundMessage.objects.count(),
        "events": AuditEvent.objects.count(),
        "petitions": list(
            Petition.objects.order_by("pk").values_list(
                "retention_warned_at", "personal_data_purged_at"
            )
        ),
    }
    assert after == before
    assert counters(petition) == numbers


def test_the_command_runs_it_by_hand(closed, now):
    petition, day0, _numbers = closed
    Petition.objects.filter(pk=petition.pk).update(retention_warned_at=day0)
    out = StringIO()
    call_command("purge-personal-data", "--dry-run", stdout=out)
    assert f"{petition.slug}: would delete 5 signatures (counts stay)" in out.getvalue()
    assert Signature.objects.filter(petition=petition).count() == 5
    out = StringIO()
    call_command("purge-personal-data", stdout=out)
    assert f"{petition.slug}: delete 5 signatures (counts stay)" in out.getvalue()
    assert not Signature.objects.filter(petition=petition).exists()
    out = StringIO()
    call_command("purge-personal-data", stdout=out)
    assert "Nothing is due." in out.getvalue()


def test_it_is_scheduled_daily_and_runs_as_a_task(closed, now):
    petition, day0, _numbers = closed
    Petition.objects.filter(pk=petition.pk).update(retention_warned_at=day0)
    schedule = dict(runtime.SCHEDULE)
    assert schedule["hamseda.vault.tasks.purge_personal_data"] == 24 * 3600
    assert schedule["hamseda.vault.tasks.prune_erasure_mail_limits"] == 3600
    for path in schedule:
        import_string(path).enqueue()
    run_tasks()
    assert not Signature.objects.filter(petition=petition).exists()


def test_the_public_page_keeps_the_counts_and_says_the_data_was_deleted(
    closed, now, client, django_capture_on_commit_callbacks
):
    petition, day0, numbers = closed
    Petition.objects.filter(pk=petition.pk).update(retention_warned_at=day0)
    url = reverse("petitions:detail", args=[petition.slug])
    assert "under the retention policy" not in client.get(url).text  # Now cached.

    with django_capture_on_commit_callbacks(execute=True):
        retention.purge_personal_data(now=now)

    page = client.get(url).text  # The purge dropped the cached page.
    assert f'<strong class="number">{numbers["total"]}</strong>' in page
    assert "1 signature removed as invalid" in page
    day = formats.date_format(now, "DATE_FORMAT")
    assert f"Supporters' personal data was deleted on {day} under the retention policy" in page


def test_a_withdraw_link_after_the_purge_finds_nothing_left(closed, now, client):
    petition, day0, _numbers = closed
    signature = Signature.objects.filter(petition=petition).first()
    token = withdrawal.withdraw_token(petition.pk, signature.pk)
    Petition.objects.filter(pk=petition.pk).update(retention_warned_at=day0)
    retention.purge_personal_data(now=now)
    response = client.post(reverse("petitions:withdraw", args=[petition.slug, token]))
    assert response.status_code == 410
    assert "deleted under the retention policy" in response.text


def test_recount_leaves_a_purged_petitions_counts_alone(closed, now):
    petition, day0, numbers = closed
    Petition.objects.filter(pk=petition.pk).update(retention_warned_at=day0)
    retention.purge_personal_data(now=now)
    assert counting.recount(petition) == {
        "signature_count": 3,
        "countries": 2,
        "invalidated": 1,
    }
    call_command("recount", stdout=StringIO())
    assert counters(petition) == numbers


def test_closing_and_winning_set_the_closed_since_time(petition, now):
    services.close_petition(petition, now=now)
    services.mark_won(petition, now=now + DAY)
    petition.refresh_from_db()
    assert petition.closed_at == now  # Winning later does not restart the clock.
    assert petition.won_at == now + DAY


def test_the_migration_gives_old_closed_petitions_a_closed_since_time(org, now):
    migration = __import__(
        "hamseda.petitions.migrations.0002_retention", fromlist=["fill_closed_at"]
    )
    won = make_petition(org.organization, "won-by-hand")
    services.record_confirmed_signature(won, signer(1), now=now - 3 * DAY)
    quiet = make_petition(org.organization, "closed-by-hand")
    services.record_confirmed_signature(quiet, signer(2), now=now - 5 * DAY)
    Petition.objects.filter(pk=won.pk).update(state="won", won_at=now - DAY, closed_at=None)
    Petition.objects.filter(pk=quiet.pk).update(state="closed", closed_at=None)

    migration.fill_closed_at(apps, None)

    won.refresh_from_db()
    quiet.refresh_from_db()
    assert won.closed_at == now - DAY
    assert quiet.closed_at == now - 5 * DAY  # Its last signature.


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_warn_once_and_purge_once(now):
    keys = make_org()
    org_services.create_organizer(
        email="owner@example.org",
        password=PASSWORD,
        organization=keys.organization,
        role=Role.OWNER,
    )
    petitions = []
    for number in range(3):
        petition = make_petition(keys.organization, f"closed-{number}")
        fill(petition, now - 2 * YEAR)
        services.close_petition(petition, now=now - YEAR - DAY)
        petitions.append(petition)
    # The first is due for purge; the others for their warning.
    Petition.objects.filter(pk=petitions[0].pk).update(retention_warned_at=now - LEAD)
    Petition.objects.filter(pk__in=[p.pk for p in petitions[1:]]).update(closed_at=now - YEAR + DAY)

    reports = run_together([lambda: retention.purge_personal_data(now=now)] * 4)

    purged = Counter(slug for report in reports for slug in report.purged)
    warned = Counter(slug for report in reports for slug in report.warned)
    assert purged == {"closed-0": 1}
    assert warned == {"closed-1": 1, "closed-2": 1}
    assert len(retention_mails()) == 2
    assert AuditEvent.objects.filter(action=AuditAction.RETENTION_PURGE).count() == 1
    assert counters(petitions[0])["total"] == 3


def test_env_int_reads_whole_numbers_and_refuses_anything_else(monkeypatch):
    from hamseda.settings import env_int

    monkeypatch.setenv("HAMSEDA_TEST_NUMBER", " 30 ")
    assert env_int("HAMSEDA_TEST_NUMBER", 5) == 30
    monkeypatch.setenv("HAMSEDA_TEST_NUMBER", "")
    assert env_int("HAMSEDA_TEST_NUMBER", 5) == 5
    for bad in ("3O5", "1.5", "-1"):
        monkeypatch.setenv("HAMSEDA_TEST_NUMBER", bad)
        with pytest.raises(RuntimeError):
            env_int("HAMSEDA_TEST_NUMBER", 5)


def test_a_purge_takes_the_same_few_statements_for_any_number_of_signatures(
    org, now, django_assert_max_num_queries
):
    """Rows that point at signatures (a partner's consent copy, a mail-out's recipient)
    must not make the purge load every signature into memory: the shares go, the
    recipients keep their row without a signature, and it is a handful of statements."""
    from hamseda.mail import mailouts
    from hamseda.mail.models import MailoutRecipient
    from hamseda.petitions import updates
    from hamseda.petitions.models import SignatureShare
    from hamseda.vault import crypto

    petition = make_petition(org.organization, "purged-with-shares")
    partner = make_org("partner-with-key").organization
    for number in range(40):
        services.record_confirmed_signature(
            petition, signer(number, keep_updated=True), now=now - YEAR
        )
    for signature in Signature.objects.filter(petition=petition)[:10]:
        SignatureShare.objects.create(
            signature=signature,
            organization=partner,
            sealed=crypto.seal(partner.public_key, {"email": "x"}),
            key_id=crypto.key_id(partner.public_key),
            created_at=now,
        )
    update = updates.save_update(petition, texts={"en": {"title": "News", "body": "Text"}})
    updates.publish_update(update)
    mailouts.queue_mailout(mailouts.create_mailout(petition, update=update))
    services.close_petition(petition, now=now - YEAR - DAY)

    with django_assert_max_num_queries(12):
        assert retention.purge_petition(petition, now=now) == 40
    assert not Signature.objects.filter(petition=petition).exists()
    assert not SignatureShare.objects.exists()
    assert MailoutRecipient.objects.count() == 40
    assert not MailoutRecipient.objects.filter(signature__isnull=False).exists()


def test_expired_pending_signatures_go_in_a_few_statements(
    petition, now, django_assert_max_num_queries
):
    for number in range(30):
        services.sign_petition(petition, signer(number), now=now - 30 * DAY)
    with django_assert_max_num_queries(5):
        assert services.purge_unconfirmed(now=now) == 30
    assert not Signature.objects.exists()
