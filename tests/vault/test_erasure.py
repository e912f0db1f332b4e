"""Withdrawal and erasure (PRIVACY.md rule 8): a signer withdraws one signature from the
link in any mail, or erases everything held for their address from /privacy/erase/.

Every counter must equal what `recount` rebuilds afterwards; GET never changes anything
(mail scanners follow links); bad links get a clear 4xx page, never a 500.
"""

import html
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.mail.models import OutboundMessage
from hamseda.petitions import counting, services, withdrawal
from hamseda.petitions.models import CountryCount, DailyCount, Signature, SignatureState
from hamseda.vault import crypto, erasure
from hamseda.vault.models import ErasureMailLimit
from tests.conftest import confirmation_link, make_org, make_petition, run_tasks, signer
from tests.petitions.test_concurrency import run_together
from tests.vault.test_no_plaintext import every_value_in_every_table

HOST = "http://testserver"
MAIL_DIR = Path(services.__file__).parent / "templates" / "petitions" / "mail"


def link_with(message, marker: str) -> str:
    """The path of the first link in a mail that contains `marker`."""
    line = next(line for line in message.body.splitlines() if marker in line)
    return line.strip().removeprefix(HOST)


def withdraw_link(message) -> str:
    return link_with(message, "/withdraw/")


def erase_link(message) -> str:
    """The erasure link of an erasure mail (not the /privacy/erase/ form link)."""
    return next(
        line.strip().removeprefix(HOST)
        for line in message.body.splitlines()
        if "/privacy/erase/" in line and not line.strip().endswith("/privacy/erase/")
    )


def counters(petition) -> dict:
    petition.refresh_from_db()
    return {
        "total": petition.signature_count,
        "invalidated": petition.invalidated_count,
        "countries": dict(
            CountryCount.objects.filter(petition=petition).values_list("country", "count")
        ),
        "days": dict(DailyCount.objects.filter(petition=petition).values_list("day", "count")),
    }


def assert_counters_are_exact(petition) -> dict:
    """The maintained counters equal what recount() rebuilds from the rows."""
    maintained = counters(petition)
    counting.recount(petition)
    assert counters(petition) == maintained
    return maintained


@pytest.fixture
def signed(petition, outbox, now):
    """Five signers of `petition`: three confirmed (two on one day in SE, one the next
    day in AF), one pending, one invalidated. Returns {name: (signature, withdraw path)}."""
    yesterday = now - timedelta(days=1)
    plan = {
        "se-1": ("SE", yesterday, True),
        "se-2": ("SE", yesterday, True),
        "af": ("AF", now, True),
        "pending": ("GB", now, False),
        "invalid": ("DE", now, True),
    }
    for number, (_name, (country, when, _confirm)) in enumerate(plan.items()):
        services.sign_petition(petition, signer(number, country=country), now=when)
    run_tasks()
    found = {}
    for number, (name, (_country, when, confirm)) in enumerate(plan.items()):
        message = next(m for m in outbox if m.to == [f"signer{number}@example.org"])
        if confirm:
            token = confirmation_link(message).rsplit("/", 1)[1]
            assert services.confirm_signature(petition, token, now=when) == "confirmed"
        fingerprint = crypto.email_fingerprint(f"signer{number}@example.org")
        found[name] = (Signature.objects.get(email_fingerprint=fingerprint), withdraw_link(message))
    # Moderators invalidate one; the repair path brings the counters in line, as the
    # invalidation service does.
    Signature.objects.filter(pk=found["invalid"][0].pk).update(state=SignatureState.INVALIDATED)
    counting.recount(petition)
    assert counters(petition)["total"] == 3
    assert counters(petition)["invalidated"] == 1
    return found


# --- withdrawing one signature ---------------------------------------------------------------


def test_following_the_withdraw_link_changes_nothing_until_the_button(client, petition, signed):
    before = counters(petition)
    _signature, path = signed["se-1"]
    for _ in range(3):  # A mail scanner, a link preview, the signer.
        response = client.get(path)
        assert response.status_code == 200
        assert "Withdraw your signature?" in response.text
        assert '<form method="post">' in response.text
    assert Signature.objects.count() == 5
    assert counters(petition) == before


@pytest.mark.parametrize(
    ("name", "total", "invalidated", "countries", "days"),
    [
        # Before: 3 confirmed (SE and SE yesterday, AF today), 1 invalidated.
        # Confirmed yesterday in SE: the total, SE and yesterday lose one.
        ("se-1", 2, 1, {"SE": 1, "AF": 1}, (1, 1)),
        # Confirmed alone in AF today: those rows go, as recount has none.
        ("af", 2, 1, {"SE": 2}, (2, None)),
        # Never counted.
        ("pending", 3, 1, {"SE": 2, "AF": 1}, (2, 1)),
        # Not counted, but it was one of the invalidated signatures held.
        ("invalid", 3, 0, {"SE": 2, "AF": 1}, (2, 1)),
    ],
)
def test_withdrawing_takes_a_signature_out_of_exactly_the_counts_it_was_in(
    client, petition, signed, now, name, total, invalidated, countries, days
):
    signature, path = signed[name]
    response = client.post(path)
    assert response.status_code == 200
    assert "Your signature has been withdrawn" in response.text

    assert not Signature.objects.filter(pk=signature.pk).exists()
    assert not Signature.objects.filter(email_fingerprint=signature.email_fingerprint).exists()
    assert Signature.objects.count() == 4
    by_day = dict(zip([(now - timedelta(days=1)).date(), now.date()], days, strict=True))
    assert assert_counters_are_exact(petition) == {
        "total": total,
        "invalidated": invalidated,
        "countries": countries,
        "days": {day: n for day, n in by_day.items() if n is not None},
    }


def test_the_day_counted_is_the_utc_day_whatever_the_zone_of_now(petition):
    """Two in the morning in Kabul is still yesterday in UTC, where recount counts it."""
    kabul = datetime(2026, 3, 1, 2, 0, tzinfo=ZoneInfo("Asia/Kabul"))
    services.record_confirmed_signature(petition, signer(1), now=kabul)
    assert assert_counters_are_exact(petition)["days"] == {date(2026, 2, 28): 1}
    signature = Signature.objects.get(petition=petition)
    token = withdrawal.withdraw_token(petition.pk, signature.pk)
    assert withdrawal.withdraw_signature(petition, token) == withdrawal.WithdrawOutcome.WITHDRAWN
    assert assert_counters_are_exact(petition)["days"] == {}


def test_a_second_withdrawal_is_told_there_is_nothing_left(client, petition, signed):
    _signature, path = signed["se-1"]
    assert client.post(path).status_code == 200
    before = counters(petition)
    for method in (client.post, client.get):
        response = method(path)
        assert response.status_code == 410
        assert "There is nothing left to withdraw" in response.text
    assert counters(petition) == before


def test_the_page_shows_the_count_without_the_withdrawn_signature(
    client, petition, signed, django_capture_on_commit_callbacks
):
    detail = reverse("petitions:detail", args=[petition.slug])
    assert '<strong class="number">3</strong>' in client.get(detail).text  # Now cached.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(signed["af"][1])
    assert '<strong class="number">2</strong>' in response.text
    assert '<strong class="number">2</strong>' in client.get(detail).text


def test_the_signer_is_answered_in_their_language(client, petition, outbox, now):
    services.sign_petition(petition, signer(1, language="fa"), now=now)
    run_tasks()
    path = withdraw_link(outbox[0])
    assert path.startswith("/fa/p/")
    for response in (client.get(path), client.post(path)):
        assert 'lang="fa"' in response.text
        assert 'dir="rtl"' in response.text
        assert "حساب‌ها را مسدود کنید" in response.text


def test_a_closed_petition_can_still_be_withdrawn_from(client, petition, signed):
    services.close_petition(petition)
    assert client.post(signed["se-2"][1]).status_code == 200
    assert_counters_are_exact(petition)


def test_the_withdraw_service_names_its_outcomes(petition, signed):
    _signature, path = signed["pending"]
    token = path.rsplit("/", 1)[1]
    assert withdrawal.check_withdrawal(petition, token) == withdrawal.WithdrawOutcome.READY
    assert withdrawal.withdraw_signature(petition, token) == withdrawal.WithdrawOutcome.WITHDRAWN
    assert withdrawal.check_withdrawal(petition, token) == withdrawal.WithdrawOutcome.GONE
    assert withdrawal.withdraw_signature(petition, token) == withdrawal.WithdrawOutcome.GONE
    assert withdrawal.withdraw_signature(petition, "x") == withdrawal.WithdrawOutcome.INVALID


def hostile_tokens(petition, signed) -> list[str]:
    real = signed["se-1"][1].rsplit("/", 1)[1]
    value, _, mac = real.rpartition(".")
    other = make_petition(petition.organization, "another-petition")
    services.sign_petition(other, signer(77))
    stranger = Signature.objects.get(petition=other)
    return [
        "garbage",
        real[:-1],  # Truncated.
        real[:20],
        real + "A",
        value + "." + mac[::-1],  # Right shape, wrong signature.
        f"{petition.pk}-{signed['af'][0].pk}.{mac}",  # Another signature's id, this MAC.
        withdrawal.withdraw_token(other.pk, stranger.pk),  # Another petition's link.
        signing.Signer(sep=".").sign(f"{petition.pk}-{signed['af'][0].pk}"),  # Other salt.
        signing.Signer(salt=withdrawal.WITHDRAW_SALT, sep=".").sign(f"{petition.pk}-x"),
        signing.Signer(salt=withdrawal.WITHDRAW_SALT, sep=".").sign(f"{petition.pk}-١٢"),
        "a" * 5000,  # Huge.
        ".",
        "%00",
        "%FF%FE",
        "زرغونه",
        "' OR 1=1",
    ]


def test_hostile_withdraw_links_get_a_clear_404_and_change_nothing(client, petition, signed):
    before = counters(petition)
    prefix = reverse("petitions:withdraw", args=[petition.slug, "x"]).removesuffix("x")
    for token in hostile_tokens(petition, signed):
        for method in (client.get, client.post):
            response = method(prefix + (token if "%" in token else quote(token, safe="")))
            assert response.status_code == 404, token
            assert "This withdraw link is not valid" in response.text
    assert counters(petition) == before
    assert Signature.objects.filter(petition=petition).count() == 5


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=300)
)
def test_any_withdraw_token_gets_a_clear_answer(client, petition, token):
    prefix = reverse("petitions:withdraw", args=[petition.slug, "x"]).removesuffix("x")
    assert client.post(prefix + quote(token, safe="")).status_code == 404


def test_an_unknown_petition_in_a_withdraw_link_is_not_found(client, signed):
    token = signed["se-1"][1].rsplit("/", 1)[1]
    assert client.post(f"/p/no-such-petition/withdraw/{token}").status_code == 404


# --- the links in every mail to a signer ------------------------------------------------


def test_every_supporter_mail_template_carries_the_withdraw_and_erase_links(petition):
    # Mail to organisers, decision-makers and the press lives in petitions/mail/staff/.
    templates = sorted(p.name for p in MAIL_DIR.glob("*.txt") if not p.name.startswith("_"))
    assert {"confirm.txt", "confirm_again.txt", "already_signed.txt"} <= set(templates)
    for name in templates:
        for language in ("en", "fa", "ps"):
            with translation.override(language):
                body = render_to_string(
                    f"petitions/mail/{name}",
                    {
                        "petition": petition,
                        "first_name": "Maryam",
                        "url": "CONFIRM-URL",
                        "withdraw_url": "WITHDRAW-URL",
                        "erase_url": "ERASE-URL",
                    },
                )
            assert "\nWITHDRAW-URL\n" in body, name
            assert "\nERASE-URL\n" in body, name


def test_every_mail_a_signer_gets_has_a_working_withdraw_link(client, petition, outbox, now):
    # confirm.txt
    services.sign_petition(petition, signer(1), now=now - timedelta(hours=1))
    # confirm_again.txt: signs again while pending, after the resend interval.
    services.sign_petition(petition, signer(1), now=now)
    # already_signed.txt: a confirmed signer signs again.
    services.sign_petition(petition, signer(2), now=now - timedelta(hours=1))
    run_tasks()
    second = next(m for m in outbox if m.to == ["signer2@example.org"])
    token = confirmation_link(second).rsplit("/", 1)[1]
    assert services.confirm_signature(petition, token, now=now - timedelta(hours=1)) == "confirmed"
    services.sign_petition(petition, signer(2), now=now)
    run_tasks()

    subjects = [m.subject for m in outbox]
    assert any("Please confirm" in s for s in subjects)
    assert any("Your confirmation link" in s for s in subjects)
    assert any("already signed" in s for s in subjects)
    for message in outbox:
        assert f"{HOST}/privacy/erase/" in message.body
        assert client.get(withdraw_link(message)).status_code == 200
    # Both links of signer 1 name the same signature; the first withdraws it.
    first, again = (withdraw_link(m) for m in outbox if m.to == ["signer1@example.org"])
    assert client.post(first).status_code == 200
    assert client.post(again).status_code == 410
    assert "already signed" in outbox[-1].subject
    assert client.post(withdraw_link(outbox[-1])).status_code == 200
    assert not Signature.objects.exists()
    assert_counters_are_exact(petition)


def test_every_page_links_to_erasure(client, petition):
    page = client.get(reverse("petitions:detail", args=[petition.slug])).text
    assert 'href="/privacy/erase/"' in page
    assert 'href="/fa/privacy/erase/"' in client.get("/fa/").text


# --- erasure by e-mail address -----------------------------------------------------------


def ask_for_erasure(client, email: str, language: str = ""):
    prefix = f"/{language}" if language else ""
    response = client.post(f"{prefix}/privacy/erase/", {"email": email})
    assert response.status_code == 200
    # The same answer whether or not anything is held (the form must not tell).
    with translation.override(language or "en"):
        assert html.escape(translation.gettext("Check your inbox")) in response.text
    if not language:
        assert "If we hold any signature for this address, we have sent a link" in response.text
    return response


@pytest.fixture
def two_petitions(org, petition, outbox, now):
    """Maryam signed two petitions (confirmed on one, pending on the other); someone else
    signed both and must keep their signatures."""
    other = make_petition(org.organization, "second-petition")
    for target in (petition, other):
        services.sign_petition(target, signer(1, email="Maryam@Example.org"), now=now)
        services.record_confirmed_signature(target, signer(2, country="AF"), now=now)
    run_tasks()
    first = next(m for m in outbox if petition.slug in confirmation_link(m))
    services.confirm_signature(petition, confirmation_link(first).rsplit("/", 1)[1], now=now)
    outbox.clear()
    return petition, other


def test_erasure_by_address_deletes_every_signature_on_every_petition(
    client, two_petitions, outbox
):
    petition, other = two_petitions
    address = "maryam@example.org"
    fingerprint = crypto.email_fingerprint(address)
    assert Signature.objects.filter(email_fingerprint=fingerprint).count() == 2
    assert counters(petition)["total"] == 2

    ask_for_erasure(client, "  MARYAM@example.ORG ")  # Spelled differently.
    # The address waits encrypted in the outbox: not readable anywhere in the database.
    assert address.encode() not in every_value_in_every_table().lower()
    run_tasks()
    assert len(outbox) == 1
    assert outbox[0].to == ["MARYAM@example.org"]
    assert "Delete your data" in outbox[0].subject
    path = erase_link(outbox[0])

    response = client.get(path)
    assert response.status_code == 200
    assert "2 signatures" in response.text
    assert Signature.objects.filter(email_fingerprint=fingerprint).count() == 2

    response = client.post(path)
    assert response.status_code == 200
    assert "Your data has been deleted" in response.text
    assert "2 signatures" in response.text

    # Nothing holds the fingerprint or the address; the other signer is untouched.
    everything = every_value_in_every_table()
    assert fingerprint.encode() not in everything
    assert address.encode() not in everything.lower()
    assert Signature.objects.count() == 2
    for target in (petition, other):
        assert assert_counters_are_exact(target)["total"] == 1
        assert Signature.objects.get(petition=target).state == SignatureState.VALIDATED


def test_an_erasure_link_used_again_finds_nothing_left(client, two_petitions, outbox):
    ask_for_erasure(client, "maryam@example.org")
    run_tasks()
    path = erase_link(outbox[0])
    assert client.post(path).status_code == 200
    for method in (client.post, client.get):
        response = method(path)
        assert response.status_code == 200
        assert "There is nothing left to erase" in response.text
    assert Signature.objects.count() == 2


def test_the_answer_is_the_same_for_an_address_nobody_signed_with(client, two_petitions, outbox):
    signed_page = ask_for_erasure(client, "maryam@example.org")
    queued = OutboundMessage.objects.count()
    unknown_page = ask_for_erasure(client, "nobody@example.org")
    assert OutboundMessage.objects.count() == queued  # No mail for an unknown address.
    strip = lambda page: page.text.split("<main", 1)[1].split("</main>", 1)[0]  # noqa: E731
    assert strip(signed_page) == strip(unknown_page)
    run_tasks()
    assert [m.to for m in outbox] == [["maryam@example.org"]]


def test_the_form_cannot_mail_bomb_an_address(client, two_petitions, outbox, now):
    for spelling in ["maryam@example.org", "Maryam@EXAMPLE.org", " maryam@example.org"] * 3:
        ask_for_erasure(client, spelling)
    run_tasks()
    assert len(outbox) == 1
    # After the interval, one more.
    later = now + timedelta(minutes=11)
    assert erasure.request_erasure("maryam@example.org", language="en", now=later)
    assert not erasure.request_erasure("maryam@example.org", language="en", now=later)
    # The limit rows hold neither the address nor its fingerprint, and are pruned.
    keys = list(ErasureMailLimit.objects.values_list("key", flat=True))
    assert crypto.email_fingerprint("maryam@example.org") not in keys
    assert erasure.prune_mail_limits(now=later + timedelta(minutes=11)) == len(keys)


def test_an_expired_erasure_link_says_so_and_offers_a_new_one(client, two_petitions, outbox, now):
    erasure.request_erasure("maryam@example.org", language="en", now=now - timedelta(hours=49))
    run_tasks()
    path = erase_link(outbox[0])
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 410
        assert "This link has expired" in response.text
        assert 'href="/privacy/erase/"' in response.text
    assert Signature.objects.count() == 4
    token = path.rsplit("/", 1)[1]
    assert erasure.check_erasure(token, now=now - timedelta(hours=2)).total_held == 2


def test_an_erasure_link_comes_in_the_language_it_was_asked_in(client, two_petitions, outbox):
    ask_for_erasure(client, "maryam@example.org", "ps")
    run_tasks()
    path = erase_link(outbox[0])
    assert path.startswith("/ps/privacy/erase/")
    assert outbox[0].extra_headers["Content-Language"] == "ps"
    response = client.get(path)
    assert 'lang="ps"' in response.text
    assert 'dir="rtl"' in response.text


@pytest.mark.parametrize(
    "email", ["", "not-an-address", "a@b@c", "x" * 300 + "@example.org", "زرغونه"]
)
def test_a_bad_address_gets_a_clear_400(client, db, email):
    response = client.post("/privacy/erase/", {"email": email})
    assert response.status_code == 400
    assert "Please correct the marked fields." in response.text
    assert not OutboundMessage.objects.exists()


def test_the_erasure_form_is_a_plain_page(client, db):
    response = client.get("/privacy/erase/")
    assert response.status_code == 200
    assert 'name="email"' in response.text
    assert client.put("/privacy/erase/").status_code == 405


def hostile_erasure_tokens(now) -> list[str]:
    real = erasure.erasure_token(crypto.email_fingerprint("maryam@example.org"), now=now)
    return [
        "garbage",
        real[:-1],
        real[:40],
        real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"),
        real + "A",
        "A" * len(real),
        "a" * 5000,
        "%00",
        "%FF%FE",
        "زرغونه",
        "==",
        signing.dumps({"f": crypto.email_fingerprint("maryam@example.org")}),
    ]


def test_hostile_erasure_links_get_a_clear_404_and_erase_nothing(client, two_petitions, now):
    for token in hostile_erasure_tokens(now):
        for method in (client.get, client.post):
            path = "/privacy/erase/" + (token if "%" in token else quote(token, safe=""))
            response = method(path)
            assert response.status_code == 404, token
            assert "This link is not valid" in response.text
    assert Signature.objects.count() == 4


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=300)
)
def test_any_erasure_token_gets_a_clear_answer(client, db, token):
    assert client.post("/privacy/erase/" + quote(token, safe="")).status_code == 404


def test_other_apps_can_register_what_they_erase(client, two_petitions, outbox, monkeypatch):
    """A later app (RSVPs to events) registers an eraser; erasure covers it unchanged."""
    rsvps = {crypto.email_fingerprint("maryam@example.org"): 3}

    def erase_rsvps(fingerprint, *, now):
        return rsvps.pop(fingerprint, 0)

    monkeypatch.setattr(erasure, "_erasers", dict(erasure._erasers))
    erasure.register_eraser(
        "actions.rsvps",
        count=lambda fingerprint: rsvps.get(fingerprint, 0),
        erase=erase_rsvps,
        describe=lambda n: f"{n} RSVPs",
    )
    assert "petitions.signatures" in erasure._erasers
    ask_for_erasure(client, "maryam@example.org")
    run_tasks()
    path = erase_link(outbox[0])
    assert "3 RSVPs" in client.get(path).text
    response = client.post(path)
    assert "2 signatures" in response.text
    assert "3 RSVPs" in response.text
    assert rsvps == {}


def test_an_address_that_only_has_other_records_is_mailed_too(two_petitions, monkeypatch, outbox):
    monkeypatch.setattr(erasure, "_erasers", dict(erasure._erasers))
    erasure.register_eraser(
        "actions.rsvps",
        count=lambda fingerprint: 1,
        erase=lambda fingerprint, *, now: 1,
        describe=lambda n: f"{n} RSVPs",
    )
    assert erasure.request_erasure("only-rsvped@example.org", language="en")


# --- under concurrency, on the real database ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_withdraw_decrements_once(now):
    petition = make_petition(make_org().organization)
    for number in range(3):
        services.record_confirmed_signature(petition, signer(number, country="AF"), now=now)
    victim = Signature.objects.filter(petition=petition).order_by("pk").first()
    token = withdrawal.withdraw_token(petition.pk, victim.pk)

    outcomes = run_together([lambda: withdrawal.withdraw_signature(petition, token)] * 6)

    assert Counter(outcomes) == {
        withdrawal.WithdrawOutcome.WITHDRAWN: 1,
        withdrawal.WithdrawOutcome.GONE: 5,
    }
    assert counters(petition)["total"] == 2
    assert counters(petition)["countries"] == {"AF": 2}
    assert_counters_are_exact(petition)


@pytest.mark.django_db(transaction=True)
def test_withdrawals_racing_confirmations_leave_exact_counts(now, outbox):
    """Each signature is confirmed and withdrawn at the same moment: whichever wins,
    the withdrawn signature counts nowhere afterwards."""
    petition = make_petition(make_org().organization)
    for number in range(12):
        services.sign_petition(petition, signer(number, country="SE"), now=now)
    run_tasks()
    work = []
    for message in outbox:
        confirm_token = confirmation_link(message).rsplit("/", 1)[1]
        withdraw_token = withdraw_link(message).rsplit("/", 1)[1]
        work.append(lambda t=confirm_token: services.confirm_signature(petition, t, now=now))
        work.append(lambda t=withdraw_token: withdrawal.withdraw_signature(petition, t, now=now))

    outcomes = run_together(work)

    assert Counter(outcomes)[withdrawal.WithdrawOutcome.WITHDRAWN] == 12
    assert not Signature.objects.filter(petition=petition).exists()
    assert assert_counters_are_exact(petition) == {
        "total": 0,
        "invalidated": 0,
        "countries": {},
        "days": {},
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_erasure_requests_mail_once(now):
    """Round one races for an address never mailed (the INSERT decides); round two,
    past the interval, for one mailed before (the conditional UPDATE decides)."""
    petition = make_petition(make_org().organization)
    services.record_confirmed_signature(petition, signer(1), now=now)
    for round_, when in enumerate([now, now + timedelta(minutes=11)], start=1):
        sent = run_together(
            [
                lambda when=when: erasure.request_erasure(
                    "signer1@example.org", language="en", now=when
                )
                for _ in range(8)
            ]
        )
        assert Counter(sent) == {True: 1, False: 7}
        assert OutboundMessage.objects.filter(kind="erasure-link").count() == round_


@pytest.mark.django_db(transaction=True)
def test_erasure_racing_withdrawal_decrements_once(now):
    petition = make_petition(make_org().organization)
    services.record_confirmed_signature(petition, signer(1), now=now)
    services.record_confirmed_signature(petition, signer(2), now=now)
    victim = Signature.objects.filter(petition=petition).order_by("pk").first()
    token = withdrawal.withdraw_token(petition.pk, victim.pk)
    fingerprint = victim.email_fingerprint

    run_together(
        [
            lambda: withdrawal.withdraw_signature(petition, token),
            lambda: erasure.erase_fingerprint(fingerprint, now=now),
        ]
        * 2
    )

    assert counters(petition)["total"] == 1
    assert_counters_are_exact(petition)
