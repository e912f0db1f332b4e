"""Country names Afghan signers recognise: our Dari and Pashto lists cover every ISO 3166-1
code, are in Arabic script with the right letters, and the sign form's list follows the
Dari/Pashto alphabet."""

import json
import re

import pytest
from django.utils import translation

from hamseda.petitions import countries, services
from hamseda.petitions.countries import CODES, collation_key, country_choices, country_name
from tests.conftest import signer

LANGUAGES = ["fa", "ps"]
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# Arabic letters that have a Persian form: Arabic kaf and yeh never belong in Dari.
NOT_DARI = set("كيىة") | set("ټډړږښځڅګڼېۍ")
# Pashto writes its own gaf (ګ), never the Dari one (گ), and never the Arabic kaf.
NOT_PASHTO = set("گكىة")


def our_list(language: str) -> dict[str, str]:
    with (countries.NAMES_DIR / f"{language}.json").open(encoding="utf-8") as file:
        return json.load(file)


@pytest.mark.parametrize("language", LANGUAGES)
def test_our_lists_name_every_country(language):
    names = our_list(language)
    assert set(names) == CODES
    assert len(CODES) == 249
    assert all(isinstance(name, str) and name.strip() == name and name for name in names.values())
    # And the module serves them.
    assert all(country_name(code, language) == names[code] for code in CODES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_name_is_in_latin_script(language):
    latin = {code: name for code, name in our_list(language).items() if LATIN.search(name)}
    assert latin == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_names_are_unique(language):
    names = list(our_list(language).values())
    duplicates = {name for name in names if names.count(name) > 1}
    assert duplicates == set()


@pytest.mark.parametrize(("language", "wrong"), [("fa", NOT_DARI), ("ps", NOT_PASHTO)])
def test_the_letters_are_of_the_language(language, wrong):
    found = {code: name for code, name in our_list(language).items() if set(name) & wrong}
    assert found == {}


def test_dari_names_are_afghan_not_iranian():
    expected = {
        "SE": "سویدن",
        "NL": "هالند",
        "JP": "جاپان",
        "BE": "بلجیم",
        "PL": "پولند",
        "NO": "ناروی",
        "IR": "ایران",
        "AF": "افغانستان",
        "TR": "ترکیه",
        "DE": "آلمان",
    }
    assert {code: country_name(code, "fa") for code in expected} == expected
    assert "امریکا" in country_name("US", "fa")
    assert "آمریکا" not in " ".join(our_list("fa").values())


def test_pashto_names_include_those_pycountry_lacks():
    expected = {
        "AF": "افغانستان",
        "PK": "پاکستان",
        "IR": "ایران",
        "TR": "ترکیه",
        "RU": "روسیه",
        "US": "امریکا",
        "GB": "برتانیه",
        "SE": "سویډن",
        "NL": "هالنډ",
        "NO": "ناروې",
        "DK": "ډنمارک",
        "CA": "کاناډا",
    }
    assert {code: country_name(code, "ps") for code in expected} == expected
    assert "ج" in country_name("DE", "ps")  # جرمني, not the Dari آلمان
    for code in ["MX", "KR"]:
        assert not LATIN.search(country_name(code, "ps"))


def test_english_names_are_the_common_ones():
    assert country_name("SE", "en") == "Sweden"
    assert country_name("IR", "en") == "Iran"
    assert country_name("KR", "en") == "South Korea"


def test_without_a_list_of_ours_pycountrys_catalogue_is_used(monkeypatch):
    # A language we have no list for: pycountry's own catalogue, common names first.
    monkeypatch.setattr(countries, "NAMES_DIR", countries.NAMES_DIR / "missing")
    countries._our_names.cache_clear()
    countries._names.cache_clear()
    try:
        assert country_name("SE", "fa") == "سوئد"
        assert country_name("IR", "fa") == "ایران، جمهوری اسلامی"
        assert country_name("IR", "ps") == "Iran"  # Not in pycountry's Pashto: English.
    finally:
        countries._our_names.cache_clear()
        countries._names.cache_clear()


def test_the_dari_list_follows_the_persian_alphabet():
    names = [name for _code, name in country_choices("fa")]
    assert len(names) == len(CODES)
    assert names.index("ایران") < names.index("پاکستان") < names.index("ترکیه")
    # Code point order would put پ چ ژ ک گ ی after every Arabic letter.
    assert names.index("چین") < names.index("دنمارک")
    assert names.index("کانادا") < names.index("گرجستان") < names.index("لبنان")
    assert names[-1] == "یونان"
    # آ is found under alef: آلمان among the names in ال…
    assert names.index("الجزایر") < names.index("آلمان") < names.index("امارات متحده عربی")


def test_the_pashto_list_follows_the_pashto_alphabet():
    names = [name for _code, name in country_choices("ps")]
    assert names.index("تونس") < names.index("ټوګو") < names.index("جاپان")
    assert names.index("کیوبا") < names.index("ګانا") < names.index("لاتویا")
    assert names.index("چین") < names.index("ډنمارک") < names.index("روسیه")


def test_the_collation_key():
    assert sorted(["ی", "ک", "گ", "پ", "ب", "ا"], key=collation_key) == list("ابپکگی")
    # Arabic kaf and yeh sort as the Persian letters they look like.
    assert collation_key("كي")[0] == collation_key("کی")[0]
    # A shorter word first; the zero-width non-joiner and vowel marks are ignored.
    assert sorted(["گینه بیسائو", "گینه", "گینه استوایی"], key=collation_key) == [
        "گینه",
        "گینه استوایی",
        "گینه بیسائو",
    ]
    assert collation_key("بنگله\u200cدیش")[0] == collation_key("بنگلهدیش")[0]
    # English too: accents do not send Åland to the end.
    english = [name for _code, name in country_choices("en")]
    assert english.index("Afghanistan") < english.index("Åland Islands") < english.index("Albania")


def test_the_sign_form_lists_countries_in_the_readers_language(client, petition):
    with translation.override("fa"):
        choices = dict(country_choices())
    assert choices["SE"] == "سویدن"
    text = client.get(f"/ps/p/{petition.slug}/").text
    assert "سویډن" in text
    assert "جرمني" in text


def test_the_api_names_countries_in_pashto(client, petition):
    services.record_confirmed_signature(petition, signer(1, country="IR"))
    services.record_confirmed_signature(petition, signer(2, country="TR"))
    services.record_confirmed_signature(petition, signer(3, country="TR"))
    data = client.get(f"/api/v1/petitions/{petition.slug}?lang=ps").json()
    assert data["signatures_by_country"] == [
        {"code": "TR", "name": "ترکیه", "count": 2},
        {"code": "IR", "name": "ایران", "count": 1},
    ]
    data = client.get(f"/api/v1/petitions/{petition.slug}?lang=fa").json()
    assert [c["name"] for c in data["signatures_by_country"]] == ["ترکیه", "ایران"]
