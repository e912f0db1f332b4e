"""Integrity trends: the per-minute buckets count exactly the signatures that exist, are
pruned and rolled up, fingerprints expire, and the integrity page shows the numbers and
flags bursts (docs/integrity.md, "Integrity trends")."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.db import connection
from django.db.models import Sum
from django.urls import NoReverseMatch, reverse

from hamseda.integrity import trends
from hamseda.integrity.models import TrendBucket, TrendKind, TrendResolution, TrendWatermark
from hamseda.petitions import services
from hamseda.petitions.models import Signature
from tests.conftest import confirmation_link, make_org, make_petition, run_tasks, signer

# A fixed clock, half a minute past a whole minute, in the past: mail queued "now" must
# be due for the real clock of run_tasks().
NOW = datetime.now(tz=UTC).replace(second=30, microsecond=0) - timedelta(hours=2)
_numbers = count(1)


def sign(petition, at, *, domain="example.org", network="", country="SE", n=1):
    """Sign `n` times through the service, at `at`, from `domain` and `network`."""
    for _ in range(n):
        number = next(_numbers)
        services.sign_petition(
            petition,
            signer(
                number,
                email=f"signer{number}@{domain}",
                country=country,
                network_fingerprint=network,
            ),
            now=at,
        )


def confirm_all(petition, outbox, at):
    """Confirm every signature whose mail is in the outbox, at `at`."""
    run_tasks()
    for message in outbox:
        token = confirmation_link(message).rsplit("/", 1)[1]
        services.confirm_signature(petition, token, now=at)
    outbox.clear()


def bucket_totals(petition, kind) -> dict[str, int]:
    rows = (
        TrendBucket.objects.filter(petition=petition, kind=kind)
        .values_list("key")
        .annotate(n=Sum("count"))
    )
    return dict(rows)


def actual(petition, field) -> dict[str, int]:
    return dict(
        Counter(
            v
            for v in Signature.objects.filter(petition=petition).values_list(field, flat=True)
            if v
        )
    )


# --- aggregation ----------------------------------------------------------------------


def test_it_counts_every_signature_exactly_once_across_runs(petition):
    sign(petition, NOW, domain="gmail.com", network="aaaa000000000001", country="AF", n=3)
    sign(petition, NOW + timedelta(minutes=1), domain="proton.me", network="bbbb", n=2)
    trends.aggregate_trends(now=NOW + timedelta(minutes=3))
    trends.aggregate_trends(now=NOW + timedelta(minutes=3))  # a repeated run adds nothing
    sign(petition, NOW + timedelta(minutes=4), domain="gmail.com", country="GB", n=4)
    trends.aggregate_trends(now=NOW + timedelta(minutes=6))
    trends.aggregate_trends(now=NOW + timedelta(minutes=7))

    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 9}
    assert bucket_totals(petition, TrendKind.DOMAIN) == actual(petition, "email_domain")
    assert bucket_totals(petition, TrendKind.DOMAIN) == {"gmail.com": 7, "proton.me": 2}
    assert bucket_totals(petition, TrendKind.NETWORK) == {"aaaa000000000001": 3, "bbbb": 2}
    assert bucket_totals(petition, TrendKind.COUNTRY) == actual(petition, "country")
    per_minute = dict(
        TrendBucket.objects.filter(petition=petition, kind=TrendKind.SIGNED).values_list(
            "start", "count"
        )
    )
    assert per_minute == {
        NOW.replace(second=0): 3,
        NOW.replace(second=0) + timedelta(minutes=1): 2,
        NOW.replace(second=0) + timedelta(minutes=4): 4,
    }
    assert TrendWatermark.objects.get().last_signature_id == Signature.objects.latest("pk").pk


def test_it_keeps_separate_petitions_apart(org, petition):
    other = make_petition(org.organization, "second-petition")
    sign(petition, NOW, n=2)
    sign(other, NOW, n=5)
    trends.aggregate_trends(now=NOW + timedelta(minutes=2))
    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 2}
    assert bucket_totals(other, TrendKind.SIGNED) == {"": 5}


def test_it_waits_for_signatures_to_settle(petition):
    sign(petition, NOW, n=2)
    trends.aggregate_trends(now=NOW + timedelta(seconds=10))
    assert not TrendBucket.objects.exists()
    trends.aggregate_trends(now=NOW + timedelta(minutes=2))
    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 2}


def test_it_never_moves_the_watermark_past_an_unsettled_signature(petition):
    # The lower key was made later (its request took its time before inserting): the
    # aggregation must stop there, not count the higher key and skip the lower one.
    sign(petition, NOW + timedelta(seconds=50), n=1)
    sign(petition, NOW, n=1)
    trends.aggregate_trends(now=NOW + timedelta(seconds=70))
    assert not TrendBucket.objects.exists()
    trends.aggregate_trends(now=NOW + timedelta(minutes=3))
    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 2}


@pytest.mark.django_db(transaction=True)
def test_two_racing_runs_count_each_signature_once():
    petition = make_petition(make_org().organization)
    sign(petition, NOW, domain="gmail.com", network="abcd", n=6)
    barrier = threading.Barrier(3)
    errors = []

    def run():
        try:
            barrier.wait(timeout=30)
            trends.aggregate_trends(now=NOW + timedelta(minutes=2))
        except Exception as error:  # noqa: BLE001 - reported below.
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 6}
    assert bucket_totals(petition, TrendKind.NETWORK) == {"abcd": 6}


def test_it_catches_up_in_batches(petition, monkeypatch):
    monkeypatch.setattr(trends, "BATCH_SIZE", 2)
    sign(petition, NOW, n=5)
    result = trends.aggregate_trends(now=NOW + timedelta(minutes=2))
    assert result.signatures == 5
    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 5}


def test_it_counts_confirmations_by_the_minute_they_happened(petition, outbox):
    sign(petition, NOW, n=3)
    trends.aggregate_trends(now=NOW + timedelta(minutes=2))
    run_tasks()
    for message in outbox[:2]:
        token = confirmation_link(message).rsplit("/", 1)[1]
        services.confirm_signature(petition, token, now=NOW + timedelta(minutes=5))
    trends.aggregate_trends(now=NOW + timedelta(minutes=5, seconds=30))  # not settled yet
    assert bucket_totals(petition, TrendKind.CONFIRMED) == {}
    trends.aggregate_trends(now=NOW + timedelta(minutes=8))
    trends.aggregate_trends(now=NOW + timedelta(minutes=9))
    assert list(
        TrendBucket.objects.filter(kind=TrendKind.CONFIRMED).values_list("start", "count")
    ) == [(NOW.replace(second=0) + timedelta(minutes=5), 2)]


def test_it_rolls_old_minutes_into_hours_and_prunes(petition):
    # At the start of an hour, so that both old minutes roll into the same hour.
    old = (NOW - timedelta(hours=50)).replace(minute=0, second=0, microsecond=0)
    sign(petition, old, domain="gmail.com", network="cccc", n=2)
    sign(petition, old + timedelta(minutes=7), domain="gmail.com", network="cccc", n=1)
    sign(petition, NOW, n=1)
    trends.aggregate_trends(now=old + timedelta(minutes=10))
    assert TrendBucket.objects.filter(resolution=TrendResolution.MINUTE, kind="signed").count() == 2

    trends.aggregate_trends(now=NOW + timedelta(minutes=2))
    minutes = TrendBucket.objects.filter(resolution=TrendResolution.MINUTE)
    assert all(b.start >= NOW - timedelta(hours=48) for b in minutes)
    hours = TrendBucket.objects.filter(resolution=TrendResolution.HOUR)
    assert {(b.kind, b.key): b.count for b in hours} == {
        ("signed", ""): 3,
        ("domain", "gmail.com"): 3,
        ("country", "SE"): 3,
    }  # network fingerprints are not rolled up
    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 4}

    trends.aggregate_trends(now=NOW + timedelta(days=91))
    assert not TrendBucket.objects.filter(resolution=TrendResolution.HOUR).exists()


def test_network_buckets_do_not_outlive_the_fingerprint_retention(petition, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "NETWORK_FINGERPRINT_DAYS": 1}
    sign(petition, NOW, network="dddd", n=2)
    trends.aggregate_trends(now=NOW + timedelta(minutes=2))
    assert bucket_totals(petition, TrendKind.NETWORK) == {"dddd": 2}
    trends.aggregate_trends(now=NOW + timedelta(hours=25))
    assert bucket_totals(petition, TrendKind.NETWORK) == {}
    assert bucket_totals(petition, TrendKind.SIGNED) == {"": 2}


def test_it_blanks_network_fingerprints_after_the_retention(petition):
    sign(petition, NOW - timedelta(days=31), network="eeee", n=2)
    sign(petition, NOW - timedelta(days=29), network="ffff", n=1)
    assert trends.blank_old_network_fingerprints(now=NOW) == 2
    assert sorted(Signature.objects.values_list("network_fingerprint", flat=True)) == [
        "",
        "",
        "ffff",
    ]
    assert trends.blank_old_network_fingerprints(now=NOW) == 0


def test_the_tasks_are_scheduled():
    from hamseda.runtime import SCHEDULE

    paths = dict(SCHEDULE)
    assert paths["hamseda.integrity.tasks.aggregate_trends"] <= 60
    assert "hamseda.integrity.tasks.blank_network_fingerprints" in paths


# --- the page's numbers and flags -----------------------------------------------------

# A usual mix of providers: half gmail, a quarter each yahoo and proton.
MIX = ["gmail.com", "gmail.com", "yahoo.com", "proton.me"]


def normal_day(petition, outbox, *, per_hour=8, hours=23, last_hour=8):
    """A day of ordinary signing: `per_hour` in each of the 23 hours before the last
    one, `last_hour` spread over the last hour, each from its own network, nearly all
    confirmed a few minutes later."""
    for h in range(hours, 0, -1):
        for i in range(per_hour):
            at = NOW - timedelta(hours=h, minutes=50 - i * 6)
            sign(petition, at, domain=MIX[i % 4], network=f"n{h:02d}{i:02d}")
    for i in range(last_hour):
        at = NOW - timedelta(minutes=58 - i * 60 // max(1, last_hour))
        sign(petition, at, domain=MIX[i % 4], network=f"last{i:02d}", country="AF")
    confirm_all(petition, outbox, NOW - timedelta(minutes=1, seconds=30))


def report(petition):
    trends.aggregate_trends(now=NOW)
    petition.refresh_from_db()
    return trends.integrity_report(petition, now=NOW)


def test_the_report_has_the_numbers_of_a_crafted_scenario(petition, outbox):
    minute = NOW.replace(second=0)
    # In time order, so that the confirmation mails are delivered in this order too.
    sign(petition, minute - timedelta(hours=3), domain="gmail.com", network="cc", n=2)
    sign(petition, minute - timedelta(minutes=10), domain="gmail.com", network="aa", n=3)
    sign(petition, minute - timedelta(minutes=2), domain="proton.me", network="bb", country="AF")
    run_tasks()
    tokens = [confirmation_link(m).rsplit("/", 1)[1] for m in outbox]
    # Two of the three made 10 minutes ago confirm after 30 s and after 4 minutes; the
    # rest stay pending.
    services.confirm_signature(petition, tokens[2], now=minute - timedelta(minutes=9, seconds=30))
    services.confirm_signature(petition, tokens[3], now=minute - timedelta(minutes=6))
    got = report(petition)

    assert len(got.per_minute) == 60
    assert got.per_minute[-10] == (minute - timedelta(minutes=10), 3)
    assert got.per_minute[-2] == (minute - timedelta(minutes=2), 1)
    assert sum(n for _start, n in got.per_minute) == got.signed_hour == 4
    assert got.signed_day == 6
    assert got.confirmed_day == 2
    assert (got.confirmed_total, got.pending_total) == (2, 4)
    assert got.pending_share == pytest.approx(4 / 6)
    assert [(s.key, s.count, s.share) for s in got.domains_hour] == [
        ("gmail.com", 3, 0.75),
        ("proton.me", 1, 0.25),
    ]
    assert [(s.key, s.count) for s in got.domains_day] == [("gmail.com", 5), ("proton.me", 1)]
    assert [(s.key, s.count) for s in got.networks_hour] == [("aa", 3), ("bb", 1)]
    assert [(s.key, s.count) for s in got.countries_day] == [("SE", 5), ("AF", 1)]
    assert got.delays["sample"] == 2
    assert got.delays["median_seconds"] == pytest.approx((30 + 240) / 2)
    assert [c["count"] for c in got.delays["classes"]] == [0, 1, 1, 0, 0, 0, 0]


def test_a_normal_mix_raises_no_flag(petition, outbox):
    normal_day(petition, outbox)
    got = report(petition)
    assert got.signed_day == 23 * 8 + 8
    assert got.flags == []


def test_a_burst_from_one_domain_is_flagged(petition, outbox):
    normal_day(petition, outbox)
    for i in range(30):  # each from its own network: a slow drip across fingerprints
        sign(petition, NOW - timedelta(minutes=50 - i), domain="burst.example", network=f"x{i}")
    got = report(petition)
    flagged = [(f.kind, f.key) for f in got.flags]
    assert ("domain", "burst.example") in flagged
    assert not any(kind == "network" for kind, _key in flagged)
    source = next(s for s in got.domains_hour if s.key == "burst.example")
    assert source.flagged
    assert source.count == 30
    assert source.usual_share == 0


def test_a_burst_from_one_network_is_flagged(petition, outbox):
    normal_day(petition, outbox)
    for i in range(12):  # ordinary domains, one network
        sign(petition, NOW - timedelta(minutes=40 - i), domain=MIX[i % 4], network="f00dfeed")
    got = report(petition)
    assert [(f.kind, f.key) for f in got.flags if f.kind in {"domain", "network"}] == [
        ("network", "f00dfeed")
    ]
    assert next(s for s in got.networks_hour if s.key == "f00dfeed").flagged


def test_a_spike_is_flagged(petition, outbox):
    normal_day(petition, outbox)
    for i in range(60):  # 60 in the last 3 minutes, from varied sources
        minute = NOW.replace(second=0) - timedelta(minutes=1 + i % 3)
        sign(petition, minute, domain=f"d{i}.example", network=f"s{i}")
    got = report(petition)
    assert [f.kind for f in got.flags] == ["spike"]
    assert got.flags[0].detail["per_minute"] == 60 / 5


def test_missing_confirmations_are_flagged(petition, outbox):
    for i in range(20):
        sign(petition, NOW - timedelta(hours=6, minutes=i), domain=MIX[i % 4], network=f"c{i}")
    confirm_all(petition, outbox, NOW - timedelta(hours=5))
    for i in range(60):  # addresses that never confirm, spread over the day
        sign(petition, NOW - timedelta(hours=1 + i % 20, minutes=i), domain=f"e{i}.example")
    got = report(petition)
    assert [f.kind for f in got.flags] == ["pending"]
    assert got.flags[0].detail == {"signed": 80, "confirmed": 20}


def test_share_rule_without_a_usual_day():
    rule = trends.DOMAIN_RULE
    hour = {"gmail.com": 30, "other.org": 10}
    assert trends.share_flags(hour, 40, {}, 0, rule) == {"gmail.com": None}
    assert trends.share_flags({"gmail.com": 5}, 5, {}, 0, rule) == {}  # below min_count


# --- the page -------------------------------------------------------------------------


def url(petition, **query):
    base = reverse("integrity:page", args=[petition.slug])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_anonymous_is_sent_to_log_in(client, petition):
    response = client.get(url(petition))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_another_organisation_does_not_learn_the_petition_exists(client, petition, outsider):
    client.force_login(outsider)
    assert client.get(url(petition)).status_code == 404
    assert client.get(url(petition, format="json")).status_code == 404


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("moderator", 200), ("analyst", 403)])
def test_roles(client, petition, request, role, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url(petition)).status_code == status


def test_an_organizer_may_not_see_it(client, org, petition):
    from hamseda.orgs import services as org_services
    from tests.conftest import PASSWORD

    user = org_services.create_organizer(
        email="organizer@example.org",
        password=PASSWORD,
        organization=org.organization,
        role="organizer",
    )
    client.force_login(user)
    assert client.get(url(petition)).status_code == 403


def test_the_page_shows_flags_chart_and_tables(client, petition, moderator, outbox, monkeypatch):
    normal_day(petition, outbox)
    for i in range(30):
        sign(petition, NOW - timedelta(minutes=50 - i), domain="burst.example", network=f"x{i}")
    trends.aggregate_trends(now=NOW)
    # The view reads the clock: make it NOW.
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    client.force_login(moderator)
    response = client.get(url(petition))
    body = response.content.decode()
    assert response.status_code == 200
    assert "burst.example" in body
    assert "<svg" in body
    assert "<rect" in body
    assert "Table of minutes" in body
    assert "30 signatures in the last hour, 79% of all" in body
    assert 'http-equiv="refresh"' in body
    try:
        invalidate = reverse("integrity:invalidate", args=[petition.slug])
    except NoReverseMatch:
        invalidate = None
    if invalidate:
        assert f"{invalidate}?domain=burst.example" in body

    data = client.get(url(petition, format="json")).json()
    assert data["signed_hour"] == 8 + 30
    assert any(f["kind"] == "domain" and f["key"] == "burst.example" for f in data["flags"])


def test_the_organizer_petition_page_links_to_it(client, petition, moderator):
    client.force_login(moderator)
    body = client.get(reverse("organize:petition", args=[petition.slug])).content.decode()
    assert url(petition) in body


def test_it_needs_no_signature_scan_of_other_petitions(petition, org):
    # A quiet petition's report is empty even while another one is busy.
    other = make_petition(make_org("third-org").organization, "busy")
    sign(other, NOW - timedelta(minutes=5), n=5)
    got = report(petition)
    assert got.signed_hour == 0
    assert got.flags == []
