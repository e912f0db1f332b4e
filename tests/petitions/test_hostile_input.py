"""Hostile and odd input on the sign path: every refusal is a clear, translated message
with a 4xx, never a 500; names in any script are kept exactly (NFC) and shown back."""

import logging
import re
import unicodedata
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django.core.validators import EmailValidator, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.petitions import services
from hamseda.petitions.countries import CODES
from hamseda.petitions.models import Signature
from hamseda.vault import crypto
from tests.conftest import SIGN_FORM, confirmation_link, make_petition, run_tasks, signer

FORM = {**SIGN_FORM, "postcode": "1010"}
FIELDS = ["first_name", "last_name", "email", "country", "postcode", "reason"]
MAX_LENGTH = {"first_name": 100, "last_name": 100, "email": 254, "postcode": 20, "reason": 1000}
TOO_LONG = "This is too long: at most %(limit_value)d characters, please."
NOT_A_NAME = "Please use only letters and ordinary punctuation."
NO_NAME = "Please enter your name."
BAD_EMAIL = "Please enter a valid e-mail address, like name@example.org."
UNKNOWN_COUNTRY = "Please choose your country from the list."
HOST = "http://testserver"


@pytest.fixture(autouse=True)
def _no_integrity_limits(settings):
    """Hypothesis posts hundreds of forms from one test client: the network and domain
    limits (tested in tests/integrity) would answer 429 after the tenth. Here only the
    fields are under test, so those limits are off (a limit of 0 is no limit)."""
    rules = {"per_network_10min": 0, "per_network_day": 0, "per_domain_hour": 0}
    settings.HAMSEDA = {
        **settings.HAMSEDA,
        "INTEGRITY_RULES": {**rules, "refuse_disposable": False},
    }


def url(name: str, *args, language: str = "") -> str:
    """The address in a language ("" for English), whatever language is active now."""
    with translation.override(language or "en"):
        return reverse(name, args=args)


def sign_url(petition, language: str = "") -> str:
    return url("petitions:sign", petition.slug, language=language)


def confirm_url(petition, token: str, language: str = "") -> str:
    return url("petitions:confirm", petition.slug, token, language=language)


def message(msgid: str, language: str = "en", **params) -> str:
    """A message as the reader sees it: through our catalogue, in their language."""
    with translation.override(language):
        text = translation.gettext(msgid)
    return text % params if params else text


def assert_says(response, msgid: str, language: str = "en", **params) -> None:
    """The page shows the message in the reader's language (and, where the catalogue
    translates it, not in English)."""
    expected = message(msgid, language, **params)
    assert escape(expected) in response.text, expected
    english = message(msgid, "en", **params)
    if expected != english:
        assert escape(english) not in response.text
    if language in {"fa", "ps"}:
        assert f'lang="{language}"' in response.text
        assert 'dir="rtl"' in response.text


def field_errors(response) -> dict[str, str]:
    """The error shown next to each field of the sign form, as markup."""
    pattern = r'<span[^>]*class="error"[^>]*id="id_([a-z_]+?)[-_]error"[^>]*>(.*?)</span>'
    return dict(re.findall(pattern, response.text, flags=re.S))


def assert_refused(response, field: str, msgid: str, language: str = "en", **params) -> None:
    assert response.status_code == 400
    assert 'class="errors" role="alert"' in response.text
    assert_says(response, "Please correct the marked fields.", language)
    assert field in field_errors(response), field_errors(response)
    assert field_errors(response)[field] == escape(message(msgid, language, **params))
    assert_says(response, msgid, language, **params)
    assert not Signature.objects.exists()


def confirm_by_mail(client, outbox) -> None:
    run_tasks()
    response = client.get(confirmation_link(outbox[-1]).removeprefix(HOST))
    assert response.status_code == 200


# --- refused fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "msgid", "params"),
    [
        ({"first_name": ""}, "first_name", "Please enter your first name.", {}),
        ({"first_name": "   \t "}, "first_name", "Please enter your first name.", {}),
        ({"last_name": ""}, "last_name", "Please enter your last name.", {}),
        ({"email": ""}, "email", "Please enter your e-mail address.", {}),
        ({"country": ""}, "country", "Please choose your country.", {}),
        ({"first_name": "x" * 101}, "first_name", TOO_LONG, {"limit_value": 100}),
        ({"last_name": "ز" * 101}, "last_name", TOO_LONG, {"limit_value": 100}),
        ({"email": "a" * 250 + "@example.org"}, "email", TOO_LONG, {"limit_value": 254}),
        ({"postcode": "1" * 21}, "postcode", TOO_LONG, {"limit_value": 20}),
        ({"reason": "ر" * 1001}, "reason", TOO_LONG, {"limit_value": 1000}),
        ({"email": "not-an-address"}, "email", BAD_EMAIL, {}),
        ({"email": "maryam@"}, "email", BAD_EMAIL, {}),
        ({"email": "@example.org"}, "email", BAD_EMAIL, {}),
        ({"email": "maryam@exa mple.org"}, "email", BAD_EMAIL, {}),
        ({"email": "maryam@example"}, "email", BAD_EMAIL, {}),
        # A header injection attempt: the form must not mail a second victim.
        ({"email": "maryam@example.org\r\nBcc: victim@example.org"}, "email", BAD_EMAIL, {}),
        ({"email": "maryam@example.org, victim@example.org"}, "email", BAD_EMAIL, {}),
        ({"country": "ZZ"}, "country", UNKNOWN_COUNTRY, {}),
        ({"country": "af"}, "country", UNKNOWN_COUNTRY, {}),
        ({"country": "AFG"}, "country", UNKNOWN_COUNTRY, {}),
        ({"country": "<script>"}, "country", UNKNOWN_COUNTRY, {}),
        # Invisible or reordering characters alone are not a name.
        ({"first_name": "\u0301\u0308\u0327"}, "first_name", NO_NAME, {}),
        ({"first_name": "\u200b\u200c\u200d"}, "first_name", NO_NAME, {}),
        ({"last_name": "\u200f\u200e\u202b\u202c"}, "last_name", NO_NAME, {}),
        ({"last_name": "\ufeff"}, "last_name", NO_NAME, {}),
        ({"first_name": "\u20dd\u0488"}, "first_name", NO_NAME, {}),
        # Control, private-use and unassigned characters are not a name either.
        ({"first_name": "Ali\x07"}, "first_name", NOT_A_NAME, {}),
        ({"first_name": "Ali\x00"}, "first_name", NOT_A_NAME, {}),
        ({"last_name": "\ue000Ahmadi"}, "last_name", NOT_A_NAME, {}),
        ({"last_name": "Ahmadi\u0378"}, "last_name", NOT_A_NAME, {}),
        ({"first_name": "Ali\nBcc: x"}, "first_name", NOT_A_NAME, {}),
        ({"postcode": "10\x0010"}, "postcode", "Null characters are not allowed.", {}),
        ({"reason": "why\x00"}, "reason", "Null characters are not allowed.", {}),
    ],
)
def test_it_refuses_bad_fields_with_a_clear_message(
    client, petition, changes, field, msgid, params
):
    response = client.post(sign_url(petition), {**FORM, **changes})
    assert_refused(response, field, msgid, **params)


@pytest.mark.parametrize(
    ("changes", "field", "msgid", "params"),
    [
        ({"email": "maryam@"}, "email", BAD_EMAIL, {}),
        ({"first_name": ""}, "first_name", "Please enter your first name.", {}),
        ({"first_name": "\u200c\u200c"}, "first_name", NO_NAME, {}),
        ({"last_name": "\x07"}, "last_name", NOT_A_NAME, {}),
        ({"country": "ZZ"}, "country", UNKNOWN_COUNTRY, {}),
        ({"reason": "ر" * 1001}, "reason", TOO_LONG, {"limit_value": 1000}),
    ],
)
def test_dari_readers_are_told_in_dari(client, petition, changes, field, msgid, params):
    response = client.post(sign_url(petition, "fa"), {**FORM, **changes})
    assert_refused(response, field, msgid, "fa", **params)


def test_every_missing_field_is_marked_at_once(client, petition):
    response = client.post(sign_url(petition), {})
    assert response.status_code == 400
    assert set(field_errors(response)) == {"first_name", "last_name", "email", "country"}


def test_a_refused_form_shows_back_what_was_typed_exactly(client, petition):
    name = "زرغونه\u200cجان"
    response = client.post(sign_url(petition), {**FORM, "first_name": name, "email": "x"})
    assert response.status_code == 400
    assert f'value="{name}"' in response.text
    hostile = '"><script>x</script>'
    response = client.post(sign_url(petition), {**FORM, "last_name": hostile, "email": "x"})
    assert response.status_code == 400
    assert hostile not in response.text
    assert f'value="{escape(hostile)}"' in response.text


def test_a_file_instead_of_a_name_is_refused(client, petition):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("name.txt", b"Maryam")
    response = client.post(sign_url(petition), {**FORM, "first_name": upload})
    assert_refused(response, "first_name", "Please enter your first name.")


# --- names in any script -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Maryam",
        "زرغونه",  # Dari
        "ملالۍ\u200cجان",  # Pashto with a zero-width non-joiner inside
        "\u200fمریم",  # A right-to-left mark in front
        "Zoe\u0301",  # Decomposed: kept as NFC "Zoé"
        "\u1100\u1161\u11a8",  # Hangul jamo: NFC composes them to one syllable
        "Ｍａｒｙａｍ",  # Fullwidth: NFC (not NFKC) keeps it as typed
        "李小龍",
        "Ἀθηνᾶ",
        "Ørjan O'Brien-Smith",
        "👩\u200d👩\u200d👧 Family",  # An emoji joined with zero-width joiners
        "🕊️",
        "<b>Ali</b> & co",
    ],
)
def test_names_in_any_script_are_kept_exactly_and_shown_back(client, org, petition, outbox, typed):
    response = client.post(sign_url(petition), {**FORM, "first_name": typed, "show_name": "on"})
    assert response.status_code == 200, field_errors(response)
    confirm_by_mail(client, outbox)

    expected = unicodedata.normalize("NFC", typed).strip()
    signature = Signature.objects.get()
    assert org.unseal(signature.sealed)["first_name"] == expected
    assert signature.public_name == expected
    assert f"Hello {expected}," in outbox[0].body
    for language in ("", "fa"):
        page = client.get(url("petitions:detail", petition.slug, language=language))
        assert f"<bdi>{escape(expected)}</bdi>" in page.text
    assert "<b>Ali</b>" not in page.text


def test_every_field_is_sealed_in_nfc(org, petition):
    services.sign_petition(
        petition,
        signer(
            1,
            first_name="  Zoe\u0301  ",
            last_name="Ahmadi\u0301",
            email="  Ame\u0301lie@Example.ORG ",
            postcode=" 1e\u0301 ",
            reason="Pour la liberte\u0301",
        ),
    )
    record = org.unseal(Signature.objects.get().sealed)
    assert record["first_name"] == "Zoé"
    assert record["last_name"] == "Ahmadí"
    assert record["email"] == "Amélie@example.org"
    assert record["postcode"] == "1é"
    assert record["reason"] == "Pour la liberté"


# --- the petition's state ------------------------------------------------------------------


def test_it_refuses_a_closed_petition_in_the_readers_language(client, petition):
    services.close_petition(petition)
    for language in ("", "fa"):
        response = client.post(sign_url(petition, language), FORM)
        assert response.status_code == 409
        assert_says(
            response,
            "This petition is closed and no longer accepts signatures.",
            language or "en",
        )
    assert not Signature.objects.exists()


def test_it_refuses_a_won_petition(client, petition):
    services.mark_won(petition)
    response = client.post(sign_url(petition), FORM)
    assert response.status_code == 409
    assert_says(response, "This petition has won. Thank you to everyone who signed.")


def test_it_refuses_a_petition_past_its_closing_date(client, petition):
    type(petition).objects.filter(pk=petition.pk).update(
        closing_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.post(sign_url(petition), FORM)
    assert response.status_code == 409
    assert_says(response, "This petition is closed and no longer accepts signatures.")
    assert not Signature.objects.exists()


@pytest.mark.parametrize("state", ["draft", "submitted", "rejected"])
def test_an_unpublished_petition_cannot_be_signed(client, org, state):
    petition = make_petition(org.organization, "unpublished", open_=False)
    if state in {"submitted", "rejected"}:
        services.submit_petition(petition)
    if state == "rejected":
        services.reject_petition(petition, "Off topic")
    for language in ("", "fa"):
        response = client.post(sign_url(petition, language), FORM)
        assert response.status_code == 404
        assert_says(response, "Page not found", language or "en")
    assert not Signature.objects.exists()


def test_an_unknown_petition_is_not_found(client, db):
    response = client.post("/p/no-such-petition/sign", FORM)
    assert response.status_code == 404
    assert_says(response, "Page not found")


# --- confirmation tokens -------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "forged-token",
        "a" * 101,
        "a" * 5000,
        "%00",
        "%FF%FE",
        "%E2%80%AE",
        "..",
        "زرغونه",
        "' OR 1=1",
    ],
)
def test_a_forged_token_gets_a_clear_page(client, petition, token):
    for language in ("", "fa"):
        response = client.get(confirm_url(petition, "x", language).removesuffix("x") + token)
        assert response.status_code == 400
        assert_says(response, "This confirmation link is not valid", language or "en")
    petition.refresh_from_db()
    assert petition.signature_count == 0


def test_an_expired_token_gets_a_clear_page(client, petition, outbox):
    long_ago = timezone.now() - timedelta(days=15)
    services.sign_petition(petition, signer(1), now=long_ago)
    run_tasks()
    token = confirmation_link(outbox[0]).rsplit("/", 1)[1]
    for language in ("", "fa"):
        response = client.get(confirm_url(petition, token, language))
        assert response.status_code == 400
        assert_says(response, "This confirmation link has expired", language or "en")
    petition.refresh_from_db()
    assert petition.signature_count == 0


def test_a_token_for_another_petition_is_refused(client, org, petition, outbox):
    other = make_petition(org.organization, "other-petition")
    services.sign_petition(other, signer(1))
    run_tasks()
    token = confirmation_link(outbox[0]).rsplit("/", 1)[1]
    response = client.get(confirm_url(petition, token))
    assert response.status_code == 400
    assert_says(response, "This confirmation link is not valid")


# --- CSRF, methods, oversized and malformed requests -----------------------------------------


def csrf_token_from_page(client, petition) -> str:
    page = client.get(url("petitions:detail", petition.slug))
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]


def test_a_form_without_its_csrf_token_is_refused_kindly(petition):
    client = Client(enforce_csrf_checks=True)
    for language in ("", "fa"):
        response = client.post(sign_url(petition, language), FORM)
        assert response.status_code == 403
        assert_says(response, "Please try again", language or "en")
    assert not Signature.objects.exists()


def test_a_wrong_csrf_token_is_refused(petition):
    client = Client(enforce_csrf_checks=True)
    client.get(url("petitions:detail", petition.slug))
    assert "csrftoken" in client.cookies
    response = client.post(sign_url(petition), {**FORM, "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    assert_says(response, "Please try again")
    assert not Signature.objects.exists()


def test_a_csrf_token_from_another_browser_is_refused(petition):
    token = csrf_token_from_page(Client(enforce_csrf_checks=True), petition)
    client = Client(enforce_csrf_checks=True)
    response = client.post(sign_url(petition), {**FORM, "csrfmiddlewaretoken": token})
    assert response.status_code == 403


def test_the_token_from_the_page_lets_the_form_through(petition):
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from_page(client, petition)
    response = client.post(sign_url(petition), {**FORM, "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert Signature.objects.count() == 1


@pytest.mark.parametrize("enforce_csrf", [False, True])
@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
@pytest.mark.parametrize("language", ["", "fa"])
def test_a_one_megabyte_body_gets_a_400_page(petition, enforce_csrf, encoding, language):
    """Also with CSRF checks on and a good token: the middleware reads the body first."""
    client = Client(enforce_csrf_checks=enforce_csrf)
    data = {**FORM, "reason": "x" * (1024 * 1024)}
    if enforce_csrf:
        data["csrfmiddlewaretoken"] = csrf_token_from_page(client, petition)
    url = sign_url(petition, language)
    if encoding == "multipart":
        response = client.post(url, data)
    else:
        response = client.post(url, urlencode(data), "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert_says(response, "This request could not be understood", language or "en")
    assert not Signature.objects.exists()


def test_too_many_fields_get_a_400_page(client, petition):
    data = {**FORM, **{f"extra{n}": "x" for n in range(500)}}
    response = client.post(sign_url(petition), urlencode(data), "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert_says(response, "This request could not be understood")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"first_name=%FF%FE&last_name=\xff\xfe\xfd", "application/x-www-form-urlencoded"),
        (b"first_name=Maryam&email=a", "application/x-www-form-urlencoded; charset=klingon"),
        (b"%%%&&&===", "application/x-www-form-urlencoded"),
        (b'{"first_name": "Maryam"}', "application/json"),
        (b"garbage", "multipart/form-data; boundary=nothing"),
        (b"garbage", "multipart/form-data"),
        (b"\x00" * 1000, "text/plain"),
    ],
)
def test_malformed_bodies_never_get_a_500(client, petition, body, content_type):
    response = client.generic("POST", sign_url(petition), body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert not Signature.objects.exists()


def test_invalid_utf8_in_a_name_is_not_a_crash(client, petition):
    body = urlencode({**FORM, "first_name": "x"}).replace("first_name=x", "first_name=%FF%FEAli")
    response = client.post(sign_url(petition), body, "application/x-www-form-urlencoded")
    assert response.status_code in {200, 400}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head", "options"])
def test_the_sign_address_only_takes_post(client, petition, method):
    response = getattr(client, method)(sign_url(petition))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not Signature.objects.exists()


def test_a_put_to_the_detail_page_is_not_allowed(client, petition):
    response = client.put(url("petitions:detail", petition.slug), "x=1")
    assert response.status_code == 405


# --- nothing personal in the logs ----------------------------------------------------------


def test_signing_logs_no_personal_data(client, petition, outbox, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.security", "hamseda"):
        caplog.set_level(logging.DEBUG, logger=name)
    secrets_typed = {
        "first_name": "Zarghuna-log-5521",
        "last_name": "زرغونه‌لاگ",
        "email": "log-needle-9043@example.org",
        "country": "AF",
        "postcode": "PC-7781",
        "reason": "reason-needle-3319",
    }
    client.post(sign_url(petition), secrets_typed)  # Accepted
    confirm_by_mail(client, outbox)
    client.post(sign_url(petition), secrets_typed)  # A duplicate
    client.post(sign_url(petition), {**secrets_typed, "country": "ZZ"})  # Refused
    client.post(sign_url(petition), {**secrets_typed, "reason": "x" * 300_000})  # Too big
    client.post(sign_url(petition, "fa"), {**secrets_typed, "email": "log-needle-9043@"})
    Client(enforce_csrf_checks=True).post(sign_url(petition), secrets_typed)  # No token
    run_tasks()

    captured = capsys.readouterr()
    formatter = logging.Formatter("%(name)s %(message)s")
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    haystack = logged + captured.out + captured.err
    assert caplog.records  # The logging was really captured.
    needles = [v for k, v in secrets_typed.items() if k != "country"] + ["log-needle-9043"]
    for needle in needles:
        assert needle not in haystack


# --- property-based: whatever is sent, a 4xx or a committed signature --------------------------


def _valid_name(value: str) -> bool:
    if any(unicodedata.category(char) in {"Cc", "Cs", "Co", "Cn"} for char in value):
        return False
    invisible = {"Cf", "Mn", "Me", "Zs", "Cc", "Zl", "Zp"}
    return not all(unicodedata.category(char) in invisible for char in value)


def _valid_email(value: str) -> bool:
    try:
        EmailValidator()(unicodedata.normalize("NFC", value))
    except ValidationError:
        return False
    return True


def expected_valid(data: dict) -> bool:
    """An independent statement of what the sign form accepts."""
    if any(len(value) >= 300_000 for value in data.values()):
        return False  # Past DATA_UPLOAD_MAX_MEMORY_SIZE: refused before the form.
    cleaned = {}
    for field in ("first_name", "last_name", "email", "postcode", "reason"):
        value = data.get(field, "").strip()
        if "\x00" in value or len(value) > MAX_LENGTH[field]:
            return False
        cleaned[field] = value
    return (
        bool(cleaned["first_name"] and cleaned["last_name"] and cleaned["email"])
        and _valid_name(cleaned["first_name"])
        and _valid_name(cleaned["last_name"])
        and _valid_email(cleaned["email"])
        and data.get("country", "") in CODES
    )


any_text = st.text(st.characters(codec="utf-8"), max_size=130)
huge_text = st.integers(300_000, 330_000).map(lambda n: "ز" * (n // 2) + "x" * (n - n // 2))
# Lengths around the limits of the postcode (20) and the reason (1000), in two scripts.
around_limits = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["x", "ز", "🕊"]),
    st.sampled_from([19, 20, 21, 999, 1000, 1001]),
)
field_value = st.one_of(
    any_text,
    around_limits,
    st.sampled_from(
        ["", " ", "\u200c", "\u0301", "\u200f", "\ufeff", "\x00", "Maryam", "زرغونه", "🕊️"]
    ),
)
form_data = st.fixed_dictionaries(
    {
        "first_name": st.one_of(
            any_text, st.sampled_from(["Maryam", "ملالۍ\u200cجان", "Zoe\u0301"])
        ),
        "last_name": st.one_of(any_text, st.sampled_from(["Ahmadi", "احمدی", "\u200b"])),
        "email": st.one_of(st.emails(), any_text, st.sampled_from(["maryam@example.org"])),
        "country": st.one_of(
            st.sampled_from(sorted(CODES)), st.sampled_from(["", "ZZ", "af"]), any_text
        ),
    },
    optional={
        "postcode": field_value,
        "reason": field_value,
        "show_name": st.sampled_from(["on", "", "false", "0", "يes"]),
        "keep_updated": st.sampled_from(["on", "", "false"]),
        "csrfmiddlewaretoken": any_text,
        "honeypot": st.one_of(any_text, huge_text),
    },
)
arbitrary_data = st.dictionaries(
    st.sampled_from([*FIELDS, "show_name", "junk"]),
    st.one_of(field_value, huge_text),
    max_size=8,
)
HYPOTHESIS = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


def _post_and_check(client, petition, org, data: dict, language: str = "") -> None:
    before = set(Signature.objects.values_list("email_fingerprint", flat=True))
    body = urlencode(data)
    response = client.post(sign_url(petition, language), body, "application/x-www-form-urlencoded")
    assert response.status_code < 500
    valid = expected_valid(data)
    assert response.status_code == (200 if valid else 400), (data, field_errors(response))
    if not valid:
        return
    fingerprint = crypto.email_fingerprint(data["email"].strip())
    signature = Signature.objects.get(petition=petition, email_fingerprint=fingerprint)
    if fingerprint not in before:  # A new signature, not a repeat of an earlier example.
        record = org.unseal(signature.sealed)
        for field in ("first_name", "last_name", "postcode", "reason"):
            typed = data.get(field, "").strip()
            assert record[field] == unicodedata.normalize("NFC", typed).strip()


@HYPOTHESIS
@given(data=form_data)
def test_any_sign_form_gets_a_signature_or_a_4xx(client, org, petition, data):
    _post_and_check(client, petition, org, data)


@HYPOTHESIS
@given(data=arbitrary_data)
def test_arbitrary_fields_get_a_signature_or_a_4xx(client, org, petition, data):
    _post_and_check(client, petition, org, data)


@HYPOTHESIS
@given(data=form_data)
def test_any_dari_sign_form_gets_a_signature_or_a_4xx(client, org, petition, data):
    _post_and_check(client, petition, org, data, "fa")


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.text(st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=300)
)
def test_any_confirmation_token_gets_a_clear_answer(client, petition, token):
    response = client.get(confirm_url(petition, "x").removesuffix("x") + quote(token, safe=""))
    assert response.status_code in {400, 404}
