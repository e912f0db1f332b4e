"""Share-link sources: tagged links, sharer codes and their generations, the `?s=` value
on the cached pages, link-preview tags, and the organisers' sources table."""

import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.integrity.invalidation import invalidate_signatures
from hamseda.petitions import pagecache, services, sources, withdrawal
from hamseda.petitions.models import Petition, Signature, SignatureState
from hamseda.petitions.sharing import share_links
from tests.conftest import SIGN_FORM, make_org, signer

FORM_VALUE = re.compile(r"(|[a-z]{1,16}(\.[a-z2-7]{18})?)")
HOSTILE = [
    '"><script>alert(1)</script>',
    "whatsapp.<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    'whatsapp" onfocus="alert(1)',
    "x" * 10_000,
    "whatsapp." + "a" * 10_000,
    "واتس‌اپ",
    "ＷＨＡＴＳＡＰＰ",
    "whatsapp\x00.abc",
    "%3Cscript%3E",
    "{{ 7|add:7 }}",
    pagecache.SOURCE_PLACEHOLDER,
    pagecache.CSRF_PLACEHOLDER,
]


@pytest.fixture(autouse=True)
def _no_integrity_limits(settings):
    """Many signatures from one test client: the network limits (tested in
    tests/integrity) would refuse them; here only the sources are under test."""
    rules = {"per_network_10min": 0, "per_network_day": 0, "per_domain_hour": 0}
    settings.HAMSEDA = {
        **settings.HAMSEDA,
        "INTEGRITY_RULES": {**rules, "refuse_disposable": False},
    }


# --- helpers ---------------------------------------------------------------------------


class Tags(HTMLParser):
    """The <meta>, <input> and <link> tags of a page, and its <a> links."""

    def __init__(self, html: str):
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.inputs: dict[str, str] = {}
        self.links: list[str] = []
        self.canonical = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            key = attrs.get("property") or attrs.get("name")
            self.meta.setdefault(key, []).append(attrs.get("content", ""))
        elif tag == "input" and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs.get("value", "")
        elif tag == "input" and attrs.get("id") == "share-url":
            self.inputs["share-url"] = attrs.get("value", "")
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical = attrs["href"]


def one(tags: Tags, key: str) -> str:
    values = tags.meta.get(key, [])
    assert len(values) == 1, (key, values)
    return values[0]


def detail_url(petition, language: str = "") -> str:
    with translation.override(language or "en"):
        return reverse("petitions:detail", args=[petition.slug])


def sign_url(petition, language: str = "") -> str:
    with translation.override(language or "en"):
        return reverse("petitions:sign", args=[petition.slug])


def source_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)[sources.SOURCE_PARAMETER][0]


def shared_code(html: str) -> str:
    """The sharer code in a page's copy link (each share link carries the same)."""
    value = source_of(Tags(html).inputs["share-url"])
    channel, _, code = value.partition(".")
    assert channel == "copy"
    return code


def sign_through(client, petition, number: int, source: str = "") -> str:
    """Sign as signer `number` with the sign form's source field; the thank-you page."""
    form = {**SIGN_FORM, "email": f"signer{number}@example.org", "source": source}
    response = client.post(sign_url(petition), form)
    assert response.status_code == 200
    return response.text


def signature_of(number: int) -> Signature:
    from hamseda.vault import crypto

    return Signature.objects.get(
        email_fingerprint=crypto.email_fingerprint(f"signer{number}@example.org")
    )


# --- links and codes -------------------------------------------------------------------


def test_share_links_carry_their_channel(petition):
    share = share_links(petition, petition.text())
    assert source_of(share["url"]) == "copy"
    found = {}
    for name, link in share["links"]:
        # The petition's address is inside each network's own share URL.
        address = re.search(r"http://testserver/p/[^ &]+", unquote(link)).group(0)
        found[name] = source_of(address)
    assert found == {
        "WhatsApp": "whatsapp",
        "Telegram": "telegram",
        "X": "x",
        "Facebook": "facebook",
        "E-mail": "email",
    }


def test_share_links_carry_the_sharer_code(petition):
    code = sources.make_code(petition.pk, 0)
    share = share_links(petition, petition.text(), code)
    assert source_of(share["url"]) == f"copy.{code}"
    for _name, link in share["links"]:
        assert f"s%3D{code}" not in link  # Not the bare code: always after its channel.
        assert re.search(rf"s(=|%3D)[a-z]+\.{code}", link), link


def test_tagged_url_refuses_an_unknown_channel():
    with pytest.raises(ValueError, match="unknown channel"):
        sources.tagged_url("http://testserver/p/x/", "myspace")


@pytest.mark.parametrize("generation", [0, 1, 2, 31, 32, 500, sources.MAX_GENERATION])
def test_a_code_reads_back_its_generation(generation):
    code = sources.make_code(7, generation)
    assert len(code) == sources.CODE_LENGTH
    assert re.fullmatch("[a-z2-7]+", code)
    found = sources.read_code(code, 7)
    assert found is not None
    assert found[0] == generation
    assert found[1] == code[2:10]


def test_a_deeper_chain_stays_at_the_top_generation():
    code = sources.make_code(7, sources.MAX_GENERATION + 5)
    assert sources.read_code(code, 7)[0] == sources.MAX_GENERATION
    assert sources.attribute(f"x.{code}", 7).generation == sources.MAX_GENERATION


def test_codes_are_fresh_each_time():
    assert sources.make_code(7, 1) != sources.make_code(7, 1)


def _flip(letter: str) -> str:
    return "b" if letter == "a" else "a"


def test_a_forged_code_is_refused(settings):
    code = sources.make_code(7, 1)
    higher = "bb" + code[2:]  # generation 1 ("ab") → 33, with the old MAC
    assert sources.read_code(higher, 7) is None
    assert sources.read_code(code[:-1] + _flip(code[-1]), 7) is None
    assert sources.read_code(code[:5] + _flip(code[5]) + code[6:], 7) is None
    assert sources.read_code(code, 8) is None  # made for another petition
    assert sources.read_code(code[:-1], 7) is None
    assert sources.read_code(code.upper(), 7) is None
    settings.SECRET_KEY = "another-secret-key-of-another-install-0123456789"
    assert sources.read_code(code, 7) is None  # another install's key


def test_a_forged_code_keeps_its_channel_and_gives_generation_zero():
    forged = "zz" + sources.make_code(7, 0)[2:]
    assert sources.attribute(f"telegram.{forged}", 7) == sources.Attribution("telegram", 0, "")


@pytest.mark.parametrize(
    ("raw", "channel", "code"),
    [
        ("", "", ""),
        ("whatsapp", "whatsapp", ""),
        ("WhatsApp", "whatsapp", ""),
        ("whatsapp.", "whatsapp", ""),
        ("instagram", "other", ""),
        ("whatsapp.short", "other", ""),
        ("what-sapp", "other", ""),
        ("whatsapp.abcdefghijklmnopq1", "other", ""),  # 1 is not base32
        ("x" * 41, "other", ""),
        ("واتساپ", "other", ""),
    ],
)
def test_parse_reads_only_what_it_knows(raw, channel, code):
    assert sources.parse(raw) == sources.Source(channel, code)


def test_an_unknown_channel_keeps_a_genuine_code():
    code = sources.make_code(7, 2)
    assert sources.attribute(f"instagram.{code}", 7) == sources.Attribution("other", 3, code[2:10])


@hypothesis_settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.text(max_size=60), st.text(max_size=20_000), st.sampled_from(HOSTILE)))
def test_any_source_value_parses_to_something_safe(raw):
    source = sources.parse(raw)
    assert source.channel in {*sources.CHANNELS, sources.OTHER, sources.DIRECT}
    assert FORM_VALUE.fullmatch(source.value)
    attribution = sources.attribute(raw, 7)
    assert attribution.generation == 0  # nothing random is a genuine code
    assert attribution.sharer == ""


# --- the pages -------------------------------------------------------------------------


def test_generations_increase_along_a_chain_of_sharers(client, petition):
    """A signs directly; B through A's WhatsApp link; C through B's; D through C's."""
    page = sign_through(client, petition, 1)
    assert signature_of(1).source_generation == 0
    for number, generation in ((2, 1), (3, 2), (4, 3)):
        code = shared_code(page)
        assert sources.read_code(code, petition.pk)[0] == generation - 1
        page = sign_through(client, petition, number, f"whatsapp.{code}")
        signature = signature_of(number)
        assert signature.source_channel == "whatsapp"
        assert signature.source_generation == generation
        assert signature.source_code == code[2:10]


def test_the_reader_arriving_by_a_link_gets_its_source_in_the_sign_form(client, petition):
    code = sources.make_code(petition.pk, 4)
    readers = {
        "": "",
        "?s=whatsapp": "whatsapp",
        f"?s=telegram.{code}": f"telegram.{code}",
        "?s=%3Cscript%3E": "other",
        "?s=instagram": "other",
    }
    for query, expected in readers.items():
        response = Client().get(detail_url(petition) + query)
        assert response.status_code == 200
        assert Tags(response.text).inputs["source"] == expected, query
    # One rendering served them all: the cache holds the placeholder, not a source.
    cached = pagecache.cache.get(pagecache.petition_page_key(petition.slug, "en"))
    assert re.findall(r'name="source" value="([^"]*)"', cached) == [pagecache.SOURCE_PLACEHOLDER]


def test_a_signer_who_followed_a_link_is_attributed_to_it(petition):
    sharer = sources.make_code(petition.pk, 0)
    reader = Client()
    page = reader.get(detail_url(petition) + f"?s=telegram.{sharer}").text
    form = {**SIGN_FORM, "source": Tags(page).inputs["source"]}
    assert reader.post(sign_url(petition), form).status_code == 200
    signature = petition.signatures.get()
    assert (signature.source_channel, signature.source_generation) == ("telegram", 1)
    assert signature.source_code == sharer[2:10]


def test_a_form_with_errors_keeps_its_source(client, petition):
    response = client.post(sign_url(petition), {**SIGN_FORM, "email": "", "source": "qr"})
    assert response.status_code == 400
    assert Tags(response.text).inputs["source"] == "qr"


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_hostile_source_is_never_reflected(client, petition, raw):
    response = client.get(detail_url(petition), {"s": raw})
    assert response.status_code == 200
    assert Tags(response.text).inputs["source"] == "other"
    if len(raw) > 3:
        assert raw not in response.text.replace(
            Tags(response.text).inputs["csrfmiddlewaretoken"], ""
        )


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_hostile_source_field_signs_as_other(client, petition, raw):
    response = client.post(sign_url(petition), {**SIGN_FORM, "source": raw})
    assert response.status_code == 200
    signature = petition.signatures.get()
    assert (signature.source_channel, signature.source_code) == ("other", "")
    assert signature.source_generation == 0
    assert raw not in response.text


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.text(st.characters(codec="utf-8"), max_size=300))
@example(raw="<svg onload=alert(1)>")
@example(raw="a" * 10_240)
def test_any_source_in_the_address_gets_the_page(client, petition, raw):
    response = client.get(detail_url(petition, "fa"), {"s": raw})
    assert response.status_code == 200
    value = Tags(response.text).inputs["source"]
    assert FORM_VALUE.fullmatch(value)
    assert value == sources.form_value(raw)


def test_the_thank_you_page_is_the_same_for_a_new_and_a_repeated_signature(client, petition):
    sharer = sources.make_code(petition.pk, 1)
    first = client.post(sign_url(petition), {**SIGN_FORM, "source": f"x.{sharer}"})
    second = client.post(sign_url(petition), {**SIGN_FORM, "source": f"x.{sharer}"})
    assert petition.signatures.count() == 1  # the second is a duplicate
    codes = [shared_code(page.text) for page in (first, second)]
    assert codes[0] != codes[1]
    # Each carries the code of the signer's generation (2), and only that differs.
    assert [sources.read_code(code, petition.pk)[0] for code in codes] == [2, 2]
    assert first.text.replace(codes[0], "CODE") == second.text.replace(codes[1], "CODE")
    assert first.text.count(codes[0]) == 6  # copy, WhatsApp, Telegram, X, Facebook, e-mail


def test_the_thank_you_page_is_cached_without_anyones_code(client, petition):
    page = sign_through(client, petition, 1)
    cached = pagecache.cache.get(pagecache.thanks_page_key(petition.slug, "en"))
    assert cached.count(pagecache.SHARER_PLACEHOLDER) == 6
    assert shared_code(page) not in cached
    assert pagecache.SHARER_PLACEHOLDER not in page


def test_the_confirmation_page_shares_with_the_signers_own_generation(client, petition, outbox):
    from tests.conftest import confirmation_link, run_tasks

    sign_through(client, petition, 1, f"email.{sources.make_code(petition.pk, 2)}")
    run_tasks()
    response = client.get(confirmation_link(outbox[0]).removeprefix("http://testserver"))
    assert "your signature is confirmed" in response.text
    code = shared_code(response.text)
    assert sources.read_code(code, petition.pk)[0] == 3


def test_the_sharers_own_signature_holds_nothing_that_links_to_recruits(client, petition):
    page = sign_through(client, petition, 1, "kit")
    code = shared_code(page)
    sign_through(client, petition, 2, f"copy.{code}")
    sharer = signature_of(1)
    assert (sharer.source_channel, sharer.source_generation, sharer.source_code) == ("kit", 0, "")
    # Nowhere in the sharer's row, nor the full code anywhere in the table.
    row = Signature.objects.filter(pk=sharer.pk).values().get()
    assert not any(code[2:10] in str(value) for value in row.values())
    for values in Signature.objects.values():
        assert not any(code in str(value) for value in values.values())


# --- link previews ---------------------------------------------------------------------

TEXTS = {
    "en": {
        "title": "Suspend the accounts",
        "summary": "Why it matters.",
        "story": "**Bold** words & <i>more</i>. " + "A long story of courage. " * 20,
    },
    "fa": {"title": "حساب‌ها را مسدود کنید", "summary": "چرا مهم است.", "story": "داستان **ما**"},
    "ps": {"title": "حسابونه بند کړئ", "summary": "ولې مهم دی.", "story": "زموږ کیسه"},
}
LOCALES = {"en": "en_GB", "fa": "fa_AF", "ps": "ps_AF"}


@pytest.fixture
def trilingual(db) -> Petition:
    organization = make_org("trio").organization
    petition = Petition(organization=organization, slug="three-languages")
    services.save_petition(petition, texts=TEXTS)
    services.submit_petition(petition)
    services.approve_petition(petition)
    return petition


@pytest.mark.parametrize("language", ["en", "fa", "ps"])
def test_the_link_preview_tags_are_in_the_pages_language(trilingual, language):
    prefix = "" if language == "en" else f"/{language}"
    response = Client().get(detail_url(trilingual, language) + "?s=whatsapp")
    tags = Tags(response.text)
    page = f"http://testserver{prefix}/p/three-languages/"
    assert one(tags, "og:type") == "website"
    assert one(tags, "og:title") == TEXTS[language]["title"]
    assert one(tags, "twitter:title") == TEXTS[language]["title"]
    assert one(tags, "og:url") == page  # canonical: no source
    assert tags.canonical == page
    with translation.override(language):
        image = reverse("kit:petition_image", kwargs={"slug": trilingual.slug, "size": "card"})
    assert image.startswith(f"{prefix}/p/three-languages/")
    assert one(tags, "og:image") == f"http://testserver{image}"
    assert one(tags, "twitter:image") == f"http://testserver{image}"
    assert one(tags, "og:image:width") == "1200"
    assert one(tags, "og:image:height") == "630"
    assert TEXTS[language]["title"] in one(tags, "og:image:alt")
    assert one(tags, "og:locale") == LOCALES[language]
    assert sorted(tags.meta["og:locale:alternate"]) == sorted(
        locale for code, locale in LOCALES.items() if code != language
    )
    assert one(tags, "twitter:card") == "summary_large_image"
    description = one(tags, "og:description")
    assert one(tags, "twitter:description") == description
    assert "<" not in description
    assert "**" not in description
    assert len(description) <= 200


def test_the_description_is_the_start_of_the_story_as_plain_text(trilingual):
    tags = Tags(Client().get(detail_url(trilingual)).text)
    description = one(tags, "og:description")
    assert description.startswith("Bold words & more. A long story of courage.")
    assert description.endswith("…")


def test_alternate_locales_are_the_languages_the_petition_is_written_in(db):
    organization = make_org("solo").organization
    petition = Petition(organization=organization, slug="only-english")
    services.save_petition(petition, texts={"en": TEXTS["en"]})
    services.submit_petition(petition)
    services.approve_petition(petition)
    tags = Tags(Client().get(detail_url(petition, "fa")).text)
    assert one(tags, "og:locale") == "fa_AF"
    assert tags.meta["og:locale:alternate"] == ["en_GB"]  # not ps_AF: no Pashto text
    assert one(tags, "og:title") == TEXTS["en"]["title"]  # the text it falls back to


# --- the organisers' sources table -----------------------------------------------------


def _sign(petition, number, channel="", generation=0, code="", *, confirm=False, **extra):
    person = signer(
        number,
        source_channel=channel,
        source_generation=generation,
        source_code=code,
        **extra,
    )
    if confirm:
        services.record_confirmed_signature(petition, person)
    else:
        services.sign_petition(petition, person)


@pytest.fixture
def signed(petition, now):
    """Signatures of known sources; one invalidated and one withdrawn, which count
    nowhere."""
    _sign(petition, 1, confirm=True)
    _sign(petition, 2)
    _sign(petition, 3, "whatsapp", 1, "aaaaaaaa", confirm=True)
    _sign(petition, 4, "whatsapp", 1, "aaaaaaaa", confirm=True)
    _sign(petition, 5, "whatsapp", 2, "bbbbbbbb")
    _sign(petition, 6, "telegram", 3, "cccccccc", confirm=True)
    _sign(petition, 7, "telegram", 5, "aaaaaaaa", confirm=True)
    _sign(petition, 8, "other")
    _sign(petition, 9, "whatsapp", 1, "aaaaaaaa", confirm=True, email="bot@spam.example")
    invalidate_signatures(petition, domain="spam.example", reason="A flood", now=now)
    _sign(petition, 10, "telegram", 1, "dddddddd", confirm=True)
    withdrawal.remove_signature(signature_of(10).pk)
    return petition


def rows(report_rows):
    return [(row.key, row.signed, row.confirmed, row.rate) for row in report_rows]


def test_the_sources_table_counts_exactly(signed):
    report = sources.sources_report(signed)
    assert rows(report.channels) == [
        ("whatsapp", 3, 2, 66),
        ("", 2, 1, 50),
        ("telegram", 2, 2, 100),
        ("other", 1, 0, 0),
    ]
    assert rows(report.generations) == [
        ("0", 3, 1, 33),
        ("1", 2, 2, 100),
        ("2", 1, 0, 0),
        ("3+", 2, 2, 100),
    ]
    assert rows(report.sharers) == [
        ("aaaaaaaa", 3, 3, 100),
        ("cccccccc", 1, 1, 100),  # more confirmed, first
        ("bbbbbbbb", 1, 0, 0),
    ]
    assert (report.signed, report.confirmed, report.through_sharers) == (8, 5, 5)


def test_the_sources_table_takes_one_query_per_table(signed, django_assert_num_queries):
    with django_assert_num_queries(2):
        sources.sources_report(signed)


def test_the_top_sharers_are_ten(petition):
    for number in range(12):
        _sign(petition, number, "x", 1, f"{'abcdefghijkl'[number]}aaaaaaa")
    assert len(sources.sources_report(petition).sharers) == sources.TOP_SHARERS


def test_the_organisers_see_the_sources_with_a_chart(client, analyst, signed):
    client.force_login(analyst)
    response = client.get(reverse("organize:petition", args=[signed.slug]))
    assert response.status_code == 200
    html = response.text
    section = html[html.index('id="sources-h"') :]
    assert "WhatsApp" in section
    assert "Direct (no source)" in section
    assert "<code>aaaaaaaa</code>" in section
    assert section.count("<svg") == 2
    assert section.count('role="img"') == 2
    assert section.count("<title") == section.count("<desc") == 2
    assert " style=" not in section  # the CSP forbids inline styles
    assert "<script" not in section


def test_the_chart_is_mirrored_in_dari(client, analyst, signed):
    client.force_login(analyst)
    with translation.override("fa"):
        url = reverse("organize:petition", args=[signed.slug])
    html = client.get(url).text
    assert 'direction="rtl"' in html[html.index('id="sources-h"') :]


def test_the_sources_table_downloads_as_csv(client, analyst, signed):
    client.force_login(analyst)
    response = client.get(reverse("organize:petition", args=[signed.slug]) + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == ["table", "key", "label", "signed", "confirmed", "confirmed_percent"]
    assert ["channel", "whatsapp", "WhatsApp", "3", "2", "66"] in table
    assert ["generation", "3+", "3 or more", "2", "2", "100"] in table
    assert ["sharer", "aaaaaaaa", "aaaaaaaa", "3", "3", "100"] in table
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)


@pytest.mark.parametrize("query", ["", "?format=csv"])
def test_the_sources_are_for_the_petitions_organisation_only(client, outsider, petition, query):
    url = reverse("organize:petition", args=[petition.slug]) + query
    assert client.get(url).status_code == 302  # anonymous: to the login
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_an_invalidated_signature_leaves_the_table(signed, now):
    before = sources.sources_report(signed)
    invalidate_signatures(signed, domain="example.org", reason="All of them", now=now)
    after = sources.sources_report(signed)
    assert before.signed == 8
    assert (after.signed, after.channels, after.sharers) == (0, [], [])
    assert [row.signed for row in after.generations] == [0, 0, 0, 0]
    assert Signature.objects.filter(state=SignatureState.INVALIDATED).count() == 9
