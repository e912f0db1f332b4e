"""Dari (fa) and Pashto (ps): the catalogues are complete and compiled, every string of the
code is in them, and signers really see their language: pages, errors and mails.

Expected texts come from the catalogues themselves (`translation.override`), and each
check also asserts that the translation differs from the English, so a missing or empty
translation fails the test instead of passing silently in English.
"""

import ast
import gettext
import html
import io
import re
import tokenize
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

from tests.conftest import PASSWORD, run_tasks

LANGUAGES = ["fa", "ps"]
LOCALE = Path(settings.BASE_DIR) / "locale"
PACKAGE = Path(settings.BASE_DIR)
PLURAL_FORMS = {"fa": "nplurals=2; plural=(n > 1);", "ps": "nplurals=2; plural=(n != 1);"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
LATIN = re.compile(r"[A-Za-z]")
# Letters that Pashto has and Dari does not: a Pashto page shows some, a Dari page none.
PASHTO_LETTERS = set("ځډړږښګڼۍې")


# --- a small .po reader ------------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (a list), flags, obsolete."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry = {"flags": set(), "msgstr": {}, "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(
                r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (\".*\")$", line
            ):
                key = ("msgstr" if match.group(2) else match.group(1), match.group(2))
                value = ast.literal_eval(match.group(3))
                if key[0] == "msgstr":
                    entry["msgstr"][int(key[1] or 0)] = value
                else:
                    entry[key[0]] = value
            elif line.startswith('"') and key:
                value = ast.literal_eval(line)
                if key[0] == "msgstr":
                    entry["msgstr"][int(key[1] or 0)] += value
                else:
                    entry[key[0]] += value
        entries.append(entry)
    return entries


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def messages(language: str) -> list[dict]:
    return [e for e in read_po(po_path(language)) if e.get("msgid")]


def header(language: str) -> dict:
    entry = next(e for e in read_po(po_path(language)) if e.get("msgid") == "")
    lines = entry["msgstr"][0].splitlines()
    return {**dict(line.split(": ", 1) for line in lines if ": " in line), "flags": entry["flags"]}


# --- the catalogues ----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_header_is_final(language):
    values = header(language)
    assert "fuzzy" not in values["flags"]
    assert values["Language"] == language
    assert values["Plural-Forms"] == PLURAL_FORMS[language]
    assert values["Content-Type"] == "text/plain; charset=UTF-8"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    entries = messages(language)
    assert len(entries) > 100
    for entry in entries:
        msgid = entry["msgid"]
        assert not entry["obsolete"], msgid
        assert "fuzzy" not in entry["flags"], msgid
        forms = 2 if "msgid_plural" in entry else 1
        assert sorted(entry["msgstr"]) == list(range(forms)), msgid
        for text in entry["msgstr"].values():
            assert text.strip(), f"{language}: no translation for {msgid!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language):
    for entry in messages(language):
        expected = set(PLACEHOLDER.findall(entry["msgid"] + entry.get("msgid_plural", "")))
        for text in entry["msgstr"].values():
            assert set(PLACEHOLDER.findall(text)) == expected, (entry["msgid"], text)
        if "{{" in entry["msgid"] or "{%" in entry["msgid"]:
            pytest.fail(f"template syntax leaked into a msgid: {entry['msgid']!r}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_are_in_the_right_script(language):
    """Dari and Pashto share the Arabic script; the letters tell them apart."""
    for entry in messages(language):
        for text in entry["msgstr"].values():
            pashto = PASHTO_LETTERS & set(text)
            if language == "fa":
                assert not pashto, (entry["msgid"], text)
            # Arabic kaf and the Arabic yeh with dots belong to neither language's
            # Afghan spelling of these words; Pashto gaf is ګ, not the Persian گ.
            assert "ك" not in text, text
            if language == "ps":
                assert "گ" not in text, text
            if language == "fa":
                assert "ي" not in text, text


ALLAUTH_LOCALE = Path(settings.BASE_DIR) / "locale_allauth"


@pytest.mark.parametrize("folder", [LOCALE, ALLAUTH_LOCALE], ids=["ours", "allauth"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(language, folder):
    """The .mo files are committed too: they must hold what the .po files say."""
    with (folder / language / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    entries = [e for e in read_po(folder / language / "LC_MESSAGES" / "django.po") if e["msgid"]]
    for entry in entries:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            for n, index in ((1, 0), (2, 1)):
                got = (
                    catalogue.npgettext(context, entry["msgid"], entry["msgid_plural"], n)
                    if context
                    else catalogue.ngettext(entry["msgid"], entry["msgid_plural"], n)
                )
                assert got == entry["msgstr"][index], entry["msgid"]
        else:
            got = (
                catalogue.pgettext(context, entry["msgid"])
                if context
                else catalogue.gettext(entry["msgid"])
            )
            assert got == entry["msgstr"][0], entry["msgid"]


# --- every string in the code is in the catalogues ---------------------------------------

GETTEXT_FUNCTIONS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}


def _msgid(function: str, strings: list[str]) -> str | None:
    """The msgid of a call: the context of pgettext comes first."""
    index = 1 if function.startswith(("pgettext", "npgettext")) else 0
    return strings[index] if len(strings) > index else None


def python_msgids() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in GETTEXT_FUNCTIONS:
                continue
            strings = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if (msgid := _msgid(name, [s for s in strings if isinstance(s, str)])) is not None:
                found.add(msgid)
    return found


def template_msgids() -> set[str]:
    """Messages of every template, found the way makemessages finds them (templatize)."""
    found = set()
    templates = [p for p in PACKAGE.rglob("*") if "templates" in p.parts and p.is_file()]
    for path in templates:
        if path.suffix not in {".html", ".txt"}:
            continue
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
        for i, token in enumerate(tokens):
            if token.type != tokenize.NAME or token.string not in GETTEXT_FUNCTIONS:
                continue
            if i + 1 >= len(tokens) or tokens[i + 1].string != "(":
                continue
            strings = []
            for following in tokens[i + 2 :]:
                if following.type == tokenize.STRING:
                    strings.append(ast.literal_eval(following.string))
                elif following.string == ")":
                    break
            if (msgid := _msgid(token.string, strings)) is not None:
                found.add(msgid)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_of_the_code_is_in_the_catalogue(language):
    """Fails when a new string was added without `make messages` and a translation."""
    in_catalogue = {entry["msgid"] for entry in messages(language)}
    in_code = python_msgids() | template_msgids()
    assert {"Sign", "Please enter your first name.", "Pashto"} <= in_code  # the finder works
    assert sorted(in_code - in_catalogue) == []


def django_message_msgids() -> set[str]:
    """The msgids that hamseda/django_messages.py marks (singular forms)."""
    source = (PACKAGE / "django_messages.py").read_text(encoding="utf-8")
    return {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
    }


def test_the_django_messages_we_translate_are_still_djangos():
    """hamseda/django_messages.py copies Django's msgids; an upgrade may reword them."""
    django_locale = Path(django.__file__).parent / "conf" / "locale"
    with (django_locale / "fa" / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        djangos = gettext.GNUTranslations(compiled)
    ours = django_message_msgids()
    entries = [e for e in messages("ps") if e["msgid"] in ours]
    assert len(entries) == len(ours) >= 20
    for entry in entries:
        if "msgid_plural" in entry:
            translated = djangos.ngettext(entry["msgid"], entry["msgid_plural"], 2)
            assert translated != entry["msgid_plural"], entry["msgid"]
        else:
            assert djangos.gettext(entry["msgid"]) != entry["msgid"], entry["msgid"]


# --- what signers see --------------------------------------------------------------------


def translated(language: str, msgid: str) -> str:
    with translation.override(language):
        text = translation.gettext(msgid)
    assert text != msgid, f"{msgid!r} has no {language} translation"
    return text


def shown(text: str) -> str:
    """The text as it appears in the HTML (quotes and ampersands escaped)."""
    return html.escape(text)


def error_messages(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<span class="error"[^>]*>(.*?)</span>', page)]


PAGE_STRINGS = [
    "Sign this petition",
    "Sign",
    "First name",
    "Last name",
    "E-mail",
    "Country",
    "Choose your country",
    "Postcode (optional)",
    "Why are you signing? (optional)",
    "Show my first name publicly",
    "Keep me updated about this petition",
    "Progress toward the goal",
    "Organizer login",
    "Skip to content",
]


@pytest.mark.parametrize(
    ("language", "sign_button"), [("fa", "امضا کنید"), ("ps", "لاسلیک کړئ")], ids=LANGUAGES
)
def test_the_petition_page_speaks_the_readers_language(client, petition, language, sign_button):
    response = client.get(f"/{language}/p/{petition.slug}/")
    assert response.status_code == 200
    page = response.text
    assert f'<html lang="{language}" dir="rtl">' in page
    assert f'<button type="submit">{sign_button}</button>' in page
    for msgid in PAGE_STRINGS:
        assert shown(translated(language, msgid)) in page, msgid
        assert f">{msgid}<" not in page, f"English {msgid!r} on the {language} page"
    assert "افغانستان" in page  # country names come translated too
    # The language menu names Pashto in Pashto on every page; the rest tells the languages apart.
    letters = PASHTO_LETTERS & set(re.sub(r'<nav class="languages".*?</nav>', "", page, flags=re.S))
    assert bool(letters) == (language == "ps"), letters


def test_the_english_page_stays_english_and_left_to_right(client, petition):
    page = client.get(f"/p/{petition.slug}/").text
    assert '<html lang="en" dir="ltr">' in page
    assert '<button type="submit">Sign</button>' in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_empty_sign_form_is_refused_in_the_readers_language(client, petition, language):
    response = client.post(f"/{language}/p/{petition.slug}/sign", {})
    assert response.status_code == 400
    page = response.text
    errors = error_messages(page)
    assert errors == [
        translated(language, "Please enter your first name."),
        translated(language, "Please enter your last name."),
        translated(language, "Please enter your e-mail address."),
        translated(language, "Please choose your country."),
    ]
    assert not any(LATIN.search(error) for error in errors), errors
    assert shown(translated(language, "Please correct the marked fields.")) in page
    assert "This field is required" not in page
    assert "Please enter" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_bad_values_are_refused_in_the_readers_language(client, petition, language):
    form = {
        "first_name": "\u200c",  # only an invisible joiner
        "last_name": "Ahmadi",
        "email": "not-an-address",
        "country": "XX",
        "postcode": "1" * 21,
        "reason": "\x00",  # a NUL character: Django's own message, translated by us
    }
    response = client.post(f"/{language}/p/{petition.slug}/sign", form)
    assert response.status_code == 400
    errors = error_messages(response.text)
    assert errors == [
        translated(language, "Please enter your name."),
        translated(language, "Please enter a valid e-mail address, like name@example.org."),
        translated(language, "Please choose your country from the list."),
        translated(language, "This is too long: at most %(limit_value)d characters, please.")
        % {"limit_value": 20},
        translated(language, "Null characters are not allowed."),
    ]


def test_the_confirmation_mail_is_in_pashto(client, petition, outbox):
    form = {
        "first_name": "ملالۍ",
        "last_name": "Ahmadzai",
        "email": "malalai@example.org",
        "country": "AF",
    }
    response = client.post(f"/ps/p/{petition.slug}/sign", form)
    assert response.status_code == 200
    assert shown(translated("ps", "Almost done: check your inbox")) in response.text
    run_tasks()
    [message] = outbox
    title = petition.text().title
    assert message.subject == translated("ps", "Please confirm your signature: %(title)s") % {
        "title": title
    }
    assert translated("ps", "Hello %(first_name)s,") % {"first_name": "ملالۍ"} in message.body
    assert f"/ps/p/{petition.slug}/confirm/" in message.body
    assert "Please confirm" not in message.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages_are_translated(client, db, language):
    response = client.get(f"/{language}/p/no-such-petition/")
    assert response.status_code == 404
    assert shown(translated(language, "Page not found")) in response.text
    assert "Page not found" not in response.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_login_and_two_factor_pages_are_fully_translated(language):
    """django-allauth's strings on our pages (hamseda/locale_allauth): none left empty."""
    entries = read_po(ALLAUTH_LOCALE / language / "LC_MESSAGES" / "django.po")
    untranslated = [e["msgid"] for e in entries if e["msgid"] and not all(e["msgstr"].values())]
    assert untranslated == []
    assert not any("fuzzy" in e["flags"] for e in entries if e["msgid"])


def test_a_failed_organizer_login_is_told_in_pashto(client, owner):
    response = client.post(
        "/ps/accounts/login/",
        {"login": "owner@example.org", "password": PASSWORD + "-wrong"},
    )
    message = "The email address and/or password you specified are not correct."
    assert shown(translated("ps", message)) in response.text
    assert message not in response.text


def test_djangos_own_messages_on_organizer_forms_are_in_pashto(client, owner, org):
    client.login(username="owner@example.org", password=PASSWORD)
    response = client.post(
        f"/ps/organize/petitions/new?org={org.organization.slug}",
        {"org": org.organization.slug, "slug": "not a slug!", "goal": "many"},
    )
    assert response.status_code in {200, 400}
    page = html.unescape(response.text)
    for msgid in [
        "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        "Enter a whole number.",
    ]:
        assert translated("ps", msgid) in page, msgid
        assert msgid not in page
    assert "This field is required." not in page


def test_the_language_names_are_translated():
    for language in LANGUAGES:
        for code, name in settings.LANGUAGES:
            with translation.override(language):
                assert str(name) != {"en": "English", "fa": "Dari", "ps": "Pashto"}[code]


@pytest.mark.parametrize(
    ("language", "expected"), [("ps", "29 نومبر 2026"), ("fa", "29 نومبر 2026")]
)
def test_dates_name_the_month_as_afghans_write_it(language, expected):
    """Django has no Pashto date formats (hamseda/formats/ps) and Iranian month names for
    Persian; our catalogue gives the months as they are written in Afghanistan."""
    from datetime import date

    from django.utils.formats import date_format

    with translation.override(language):
        assert date_format(date(2026, 11, 29), "DATE_FORMAT") == expected
