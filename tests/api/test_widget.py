"""The embeddable sign form (api.widget): the frame's page in three languages, colours
that cannot inject anything, signing inside the frame without any cookie, clear errors,
framing allowed on the embed pages only, /widget.js and the snippets on the petition
page. The browser test (tests/browser/test_widget_in_browser.py) embeds it for real."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.api import widget
from hamseda.campaigns import partners
from hamseda.integrity.checks import form_started_stamp
from hamseda.middleware import CSP
from hamseda.petitions import services
from hamseda.petitions.models import Signature, SignatureState
from tests.conftest import SIGN_FORM, confirmation_link, make_org, make_petition, run_tasks

HOST = "http://testserver"
PARTNER = "https://partner.example"
ANCESTORS = re.compile(r"frame-ancestors ([^;]+)")


def url(name: str, *args, language: str = "en") -> str:
    with translation.override(language):
        return reverse(name, args=args)


def embed_url(petition, language: str = "en") -> str:
    return url("widget:embed", petition.slug, language=language)


def sign_url(petition, language: str = "en") -> str:
    return url("widget:sign", petition.slug, language=language)


def form(**extra) -> dict:
    """A filled-in embed form, served a minute ago (past the minimum fill time)."""
    started = form_started_stamp(timezone.now() - timedelta(minutes=1))
    return {**SIGN_FORM, "source": "widget", "started": started, **extra}


@pytest.fixture
def frame():
    """A browser inside a partner's page: no cookies, CSRF enforced as for a real one,
    and the Origin a browser sends with the frame's own POST (the frame is ours)."""
    return Client(enforce_csrf_checks=True, headers={"Origin": HOST})


def message(msgid: str, language: str) -> str:
    with translation.override(language):
        return translation.gettext(msgid)


def ancestors(response) -> str:
    match = ANCESTORS.search(response.headers["Content-Security-Policy"])
    return match.group(1) if match else ""


def assert_frameable(response) -> None:
    assert ancestors(response) == "*"
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert not response.cookies


# --- the page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "direction", "title"),
    [
        ("en", "ltr", "Suspend the accounts"),
        ("fa", "rtl", "حساب‌ها را مسدود کنید"),
        ("ps", "rtl", "Suspend the accounts"),
    ],
)
def test_the_frame_speaks_the_signers_language(frame, petition, language, direction, title):
    response = frame.get(embed_url(petition, language))
    assert response.status_code == 200
    assert f'<html lang="{language}" dir="{direction}">' in response.text
    assert escape(title) in response.text
    for name in ("first_name", "last_name", "email", "country", "postcode", "reason"):
        assert f'name="{name}"' in response.text
    assert 'name="started"' in response.text
    assert 'name="website"' in response.text  # The honeypot, as on the petition page.
    assert f'action="{sign_url(petition, language)}"' in response.text
    assert escape(message("Sign", language)) in response.text
    # Nothing per reader: no CSRF token, no session, no cookie.
    assert "csrfmiddlewaretoken" not in response.text
    assert_frameable(response)
    assert f'data-count-url="/api/v1/petitions/{petition.slug}/count"' in response.text
    # Only our own files, and only the small ones.
    assert "hamseda.css" not in response.text
    assert "/static/hamseda/embed.css" in response.text
    assert "/static/hamseda/embed.js" in response.text
    assert "<script>" not in response.text
    assert "style=" not in response.text


def test_it_offers_the_co_hosts_boxes_as_the_petition_page_does(frame, petition):
    voices = make_org("voices").organization
    partners.add_partner(petition.campaign, voices)
    partners.set_co_hosts(petition, [voices])
    response = frame.get(embed_url(petition))
    assert "Let Voices contact me about its work" in response.text
    assert 'name="share_with"' in response.text


def test_a_partner_who_guesses_lang_is_sent_to_the_address_in_that_language(frame, petition):
    response = frame.get(embed_url(petition) + "?lang=fa&colour=%23AA0000&evil=1")
    assert response.status_code == 302
    assert response["Location"] == embed_url(petition, "fa") + "?colour=aa0000"
    assert frame.get(embed_url(petition) + "?lang=xx").status_code == 200


def test_an_unknown_or_unpublished_petition_is_said_inside_the_frame(frame, org):
    draft = make_petition(org.organization, "a-draft", open_=False)
    for path in (url("widget:embed", "no-such-petition"), embed_url(draft)):
        response = frame.get(path)
        assert response.status_code == 404
        assert "Page not found" in response.text
        assert_frameable(response)
    response = frame.post(sign_url(draft), form())
    assert response.status_code == 404
    assert Signature.objects.count() == 0


def test_a_closed_petition_shows_why_and_takes_no_signature(frame, petition):
    services.close_petition(petition)
    cache.clear()
    response = frame.get(embed_url(petition))
    assert "no longer accepts signatures" in response.text
    assert 'name="email"' not in response.text
    response = frame.post(sign_url(petition), form())
    assert response.status_code == 409
    assert "no longer accepts signatures" in response.text
    assert Signature.objects.count() == 0


# --- colours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("#1F6F5C", "1f6f5c"),
        ("1f6f5c", "1f6f5c"),
        ("#abc", "aabbcc"),
        (" #abc ", "aabbcc"),
        ("red", ""),
        ("#12345g", ""),
        ("#1234567", ""),
        ("", ""),
        (None, ""),
        ("1f6f5c;}body{display:none", ""),
        ("url(javascript:alert(1))", ""),
    ],
)
def test_only_hex_colours_are_taken(raw, parsed):
    assert widget.parse_hex(raw) == parsed


def test_the_theme_keeps_the_partners_colours_readable(client):
    response = client.get(url("widget:theme") + "?colour=%23f2c14e&accent=1f6f5c")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert "max-age=86400" in response["Cache-Control"]
    css = response.text
    assert "--brand: #f2c14e;" in css
    assert "--accent: #1f6f5c;" in css
    # Yellow is too light for white letters or for links on white: darker ones are used.
    assert "--brand-ink: #ffffff" not in css
    link = re.search(r"--link: (#[0-9a-f]{6});", css).group(1)
    assert link != "#f2c14e"
    # The default colours need no theme at all.
    assert client.get(url("widget:theme")).text.count("--") == 0


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(colour=st.text(max_size=40), accent=st.text(max_size=40))
def test_hostile_colours_are_ignored_never_reflected(client, petition, colour, accent):
    query = {"colour": colour, "accent": accent}
    css = client.get(url("widget:theme"), query)
    assert css.status_code == 200
    values = re.findall(r"--[a-z-]+: ([^;]*);", css.text)
    assert all(re.fullmatch(r"#[0-9a-f]{6}", value) for value in values)
    page = client.get(embed_url(petition), query)
    assert page.status_code == 200
    theme = re.findall(r'href="(/embed/theme\.css[^"]*)"', page.text)
    assert all(
        re.fullmatch(
            r"/embed/theme\.css\?colour=[0-9a-f]{6}(&amp;accent=[0-9a-f]{6})?"
            r"|/embed/theme\.css\?accent=[0-9a-f]{6}",
            t,
        )
        for t in theme
    )


def test_the_cached_page_gets_each_readers_own_colours(frame, petition):
    first = frame.get(embed_url(petition) + "?colour=aa0000&accent=00bb00")
    second = frame.get(embed_url(petition))  # From the cache.
    assert 'href="/embed/theme.css?colour=aa0000&amp;accent=00bb00"' in first.text
    assert f'action="{sign_url(petition)}?colour=aa0000&amp;accent=00bb00"' in first.text
    assert "theme.css" not in second.text
    assert f'action="{sign_url(petition)}"' in second.text
    assert "placeholder" not in second.text.replace('placeholder="', "")


# --- signing ---------------------------------------------------------------------------


def test_it_signs_in_the_frame_without_cookies_then_confirms_and_counts(frame, petition, outbox):
    response = frame.post(sign_url(petition, "fa") + "?colour=aa0000", form())
    assert response.status_code == 200
    assert escape(message("Almost done: check your inbox", "fa")) in response.text
    assert '<html lang="fa" dir="rtl">' in response.text
    assert 'href="/embed/theme.css?colour=aa0000"' in response.text  # Still in their colours.
    assert_frameable(response)
    signature = Signature.objects.get()
    assert signature.state == SignatureState.PENDING
    assert signature.source_channel == "widget"
    assert signature.language == "fa"
    assert "maryam" not in str(signature.sealed).lower()

    run_tasks()
    assert len(outbox) == 1
    assert outbox[0].to == ["maryam@example.org"]
    link = confirmation_link(outbox[0])
    assert link.startswith(f"{HOST}/fa/p/{petition.slug}/confirm/")
    assert Client().get(link.removeprefix(HOST)).status_code == 200
    petition.refresh_from_db()
    assert petition.signature_count == 1
    cache.clear()  # The frame's page may be a few seconds old (as the petition page).
    assert '<strong class="number" data-count>1</strong>' in frame.get(embed_url(petition)).text


def test_a_repeated_signature_gets_the_same_page_and_a_mail(frame, petition, outbox):
    first = frame.post(sign_url(petition), form())
    run_tasks()
    second = frame.post(sign_url(petition), form(email="MARYAM@example.org"))
    assert second.status_code == 200
    assert first.text == second.text
    assert Signature.objects.count() == 1


@pytest.mark.parametrize("language", ["en", "fa", "ps"])
def test_an_empty_form_gets_clear_messages_in_the_frame(frame, petition, language):
    response = frame.post(sign_url(petition, language), {"started": form()["started"]})
    assert response.status_code == 400
    for msgid in (
        "Please enter your first name.",
        "Please enter your e-mail address.",
        "Please choose your country.",
    ):
        assert escape(message(msgid, language)) in response.text
    assert_frameable(response)
    assert Signature.objects.count() == 0


def test_a_wrong_address_is_named_and_what_was_typed_is_kept(frame, petition):
    response = frame.post(sign_url(petition), form(email="maryam@"))
    assert response.status_code == 400
    assert "valid e-mail address" in response.text
    assert 'value="maryam@"' in response.text
    assert 'value="Maryam"' in response.text


def test_the_honeypot_and_the_fill_time_apply_as_on_the_petition_page(frame, petition):
    response = frame.post(sign_url(petition), form(website="http://spam.example"))
    assert response.status_code == 400
    assert "Leave this field empty" in response.text
    just_now = form_started_stamp(timezone.now())
    response = frame.post(sign_url(petition), form(started=just_now))
    assert response.status_code == 400
    assert "faster than a person" in response.text
    assert Signature.objects.count() == 0


@pytest.mark.parametrize(
    "stamp", ["", "forged", form_started_stamp(timezone.now() - timedelta(days=2))]
)
def test_a_form_we_did_not_serve_today_is_shown_again_with_a_fresh_stamp(frame, petition, stamp):
    response = frame.post(sign_url(petition), form(started=stamp))
    assert response.status_code == 400
    assert "This form could not be checked" in response.text
    fresh = re.search(r'name="started" value="([^"]+)"', response.text).group(1)
    assert fresh != stamp
    assert 'value="maryam@example.org"' in response.text
    assert Signature.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": PARTNER},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_it_refuses_a_post_sent_from_another_site(petition, headers):
    """Another website cannot make its visitors' browsers sign (api.widget, "CSRF")."""
    response = Client(headers=headers).post(sign_url(petition), form())
    assert response.status_code == 403
    assert "This form could not be checked" in response.text
    assert_frameable(response)
    assert Signature.objects.count() == 0


def test_without_origin_or_fetch_metadata_the_other_checks_decide(petition):
    """What an old browser or a script sends: it could post the same from anywhere."""
    assert Client().post(sign_url(petition), form()).status_code == 200
    browser = Client(headers={"Sec-Fetch-Site": "same-origin"})
    assert browser.post(sign_url(petition), form(email="b@example.org")).status_code == 200
    assert Signature.objects.count() == 2


def test_over_the_network_limit_the_frame_offers_the_browser_check(frame, petition, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_RULES": {"per_network_10min": 1}}
    frame.post(sign_url(petition), form())
    response = frame.post(sign_url(petition), form(email="second@example.org"))
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "data-pow-challenge" in response.text
    assert "/static/hamseda/pow.js" in response.text
    assert_frameable(response)


def test_it_answers_only_post_to_sign_and_only_get_to_the_page(frame, petition):
    assert frame.get(sign_url(petition)).status_code == 405
    # (Django's CSRF check, which the page itself keeps, answers first.)
    assert frame.post(embed_url(petition)).status_code in {403, 405}
    assert Client().post(embed_url(petition)).status_code == 405


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.dictionaries(
        st.sampled_from(
            [
                *SIGN_FORM,
                "started",
                "website",
                "share_with",
                "source",
                "pow_challenge",
                "pow_counter",
                "show_name",
            ]
        ),
        st.text(max_size=300),
    ),
    language=st.sampled_from(["en", "fa", "ps"]),
)
def test_hostile_posts_get_a_4xx_or_the_inbox_page_never_a_500(frame, petition, data, language):
    cache.clear()
    response = frame.post(sign_url(petition, language), data)
    assert response.status_code in {200, 400, 403, 429}
    assert ancestors(response) == "*"


# --- headers, the script, the snippets ---------------------------------------------------


def test_the_embed_policy_differs_from_the_sites_in_frame_ancestors_only():
    assert widget.SITE_ANCESTORS in CSP
    assert widget.embed_csp().replace("frame-ancestors *", widget.SITE_ANCESTORS) == CSP
    assert "script-src 'self'" in widget.embed_csp()
    assert "form-action 'self'" in widget.embed_csp()


def test_an_operator_may_list_who_may_frame(frame, petition, settings):
    settings.HAMSEDA = {**settings.HAMSEDA, "EMBED_FRAME_ANCESTORS": PARTNER}
    assert ancestors(frame.get(embed_url(petition))) == PARTNER


@pytest.mark.parametrize("path", ["/", "/p/{slug}/", "/fa/p/{slug}/", "/privacy/", "/widget.js"])
def test_the_rest_of_the_site_still_refuses_to_be_framed(client, petition, path):
    response = client.get(path.format(slug=petition.slug))
    assert response.status_code == 200
    assert ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_script_has_a_stable_address_and_is_cached_for_an_hour(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "public, max-age=3600"
    assert b"hamseda:embed-height" in response.content
    assert b"eval(" not in response.content
    assert b"innerHTML" not in response.content
    again = client.get("/widget.js", headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    assert client.head("/widget.js").status_code == 200
    assert client.get("/fa/widget.js").status_code == 404


def test_the_petition_page_shows_both_snippets_in_its_language(client, petition):
    response = client.get(f"/p/{petition.slug}/")
    assert "Embed this petition on your website" in response.text
    snippets = widget.snippets(petition, "en")
    assert escape(snippets.script) in response.text
    assert escape(snippets.frame) in response.text
    assert f'href="{HOST}/p/{petition.slug}/"' in snippets.script
    assert f'data-petition="{petition.slug}" data-lang="en"' in snippets.script
    assert 'data-colour="#1f6f5c" data-accent="#f2c14e"' in snippets.script
    assert f'<script src="{HOST}/widget.js" async></script>' in snippets.script
    assert (
        f'src="{HOST}/embed/p/{petition.slug}/?colour=1f6f5c&amp;accent=f2c14e"' in snippets.frame
    )

    dari = client.get(f"/fa/p/{petition.slug}/")
    fa = widget.snippets(petition, "fa")
    assert escape(fa.script) in dari.text
    assert 'data-lang="fa"' in fa.script
    assert f"{HOST}/fa/embed/p/{petition.slug}/" in fa.frame


def test_a_closed_petition_offers_no_snippet(client, petition):
    services.close_petition(petition)
    cache.clear()
    assert "Embed this petition" not in client.get(f"/p/{petition.slug}/").text
