"""The organisers' pulse page: settings, sources (add, pause, remove, new token), and
the links to it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.pulse import sources
from hamseda.pulse.models import Pulse, Source, SourceState
from tests.conftest import make_petition

pytestmark = pytest.mark.django_db
TOKEN = "AAAAAAAAAAAAAAAAAAAAAsecret-bearer-token-value"


@pytest.fixture
def campaign(org):
    return make_petition(org.organization).campaign


def page_url(campaign) -> str:
    return reverse("pulse:organize", args=[campaign.slug])


def add_url(campaign) -> str:
    return reverse("pulse:add_source", args=[campaign.slug])


def test_the_page_shows_the_settings_and_sources(client, campaign, owner, now):
    source = sources.add_source(
        campaign, platform="mastodon", query="#BanTaliban", base_url="https://mastodon.social"
    )
    Source.objects.filter(pk=source.pk).update(
        last_error="The instance answered 503.",
        not_before=now + timedelta(minutes=15),
        last_fetched_at=now,
        posts_fetched=12,
    )
    client.force_login(owner)
    response = client.get(page_url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mastodon #BanTaliban" in html
    assert "https://mastodon.social" in html
    assert "The instance answered 503." in html
    assert "(rate limit)" in html
    assert 'value="1000 10000 40000 100000"' in html  # the defaults, before any save
    assert reverse("pulse:posts", args=[campaign.slug]) in html


def test_it_saves_the_settings(client, campaign, owner):
    client.force_login(owner)
    response = client.post(
        page_url(campaign),
        {"is_public": "", "show_wall": "on", "milestones": "40000, ۱۰۰۰۰", "keywords": "a\n\na"},
    )
    assert response.status_code == 302
    pulse = Pulse.objects.get(campaign=campaign)
    assert pulse.is_public is False
    assert pulse.show_wall is True
    assert pulse.milestones == "10000 40000"
    assert pulse.keywords == "a"


@pytest.mark.parametrize(
    ("milestones", "message"),
    [
        ("ten thousand", "whole numbers of posts"),
        ("0", "between 1 and"),
        ("99999999999", "between 1 and"),
        (" ".join(str(n) for n in range(1, 14)), "at most 12 milestones"),
    ],
)
def test_bad_milestones_get_a_clear_message(client, campaign, owner, milestones, message):
    client.force_login(owner)
    response = client.post(page_url(campaign), {"milestones": milestones})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Pulse.objects.filter(campaign=campaign).exists()


def test_it_connects_sources(client, campaign, owner):
    client.force_login(owner)
    response = client.post(
        add_url(campaign),
        {"platform": "x", "kind": "hashtag", "query": "#BanTaliban", "token": TOKEN},
    )
    assert response.status_code == 302
    source = Source.objects.get(campaign=campaign, platform="x")
    assert source.query == "BanTaliban"
    assert TOKEN.encode() not in bytes(source.locked_token)
    assert sources.token_of(source) == TOKEN
    # The token is never shown again.
    assert TOKEN not in client.get(page_url(campaign)).content.decode()
    response = client.post(
        add_url(campaign), {"platform": "bluesky", "kind": "keyword", "query": "Taliban ban"}
    )
    assert response.status_code == 302
    assert Source.objects.get(campaign=campaign, platform="bluesky").is_hashtag is False


def test_a_refused_source_gets_a_400_with_the_message_and_no_echoed_token(client, campaign, owner):
    client.force_login(owner)
    response = client.post(
        add_url(campaign), {"platform": "x", "kind": "hashtag", "query": "#Ban Taliban",
                            "token": TOKEN},
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "cannot contain spaces" in html
    assert TOKEN not in html
    response = client.post(add_url(campaign), {"platform": "x", "kind": "hashtag", "query": "A"})
    assert response.status_code == 400
    assert "bearer token" in response.content.decode()
    response = client.post(
        add_url(campaign),
        {"platform": "mastodon", "kind": "hashtag", "query": "A", "base_url": "http://10.0.0.1"},
    )
    assert response.status_code == 400
    assert not Source.objects.filter(campaign=campaign).exists()


def test_pause_resume_remove_and_a_new_token(client, campaign, owner):
    source = sources.add_source(campaign, platform="x", query="BanTaliban", token=TOKEN)
    client.force_login(owner)
    pause = reverse("pulse:pause_source", args=[source.pk])
    assert client.post(pause, {"paused": "1"}).status_code == 302
    source.refresh_from_db()
    assert source.state == SourceState.PAUSED
    client.post(pause, {"paused": "1"})  # a second click changes nothing
    source.refresh_from_db()
    assert source.state == SourceState.PAUSED
    client.post(pause)  # without the field: toggles
    source.refresh_from_db()
    assert source.state == SourceState.ACTIVE

    Source.objects.filter(pk=source.pk).update(state=SourceState.FAILING, last_error="401")
    token_url = reverse("pulse:replace_token", args=[source.pk])
    assert client.post(token_url, {"token": "new-token-123"}).status_code == 302
    source.refresh_from_db()
    assert source.state == SourceState.ACTIVE
    assert sources.token_of(source) == "new-token-123"
    assert client.post(token_url, {"token": "has spaces in it"}).status_code == 302
    assert sources.token_of(Source.objects.get(pk=source.pk)) == "new-token-123"

    assert client.post(reverse("pulse:remove_source", args=[source.pk])).status_code == 302
    assert not Source.objects.filter(pk=source.pk).exists()


def test_another_organisations_source_is_a_404(client, campaign, outsider):
    source = sources.add_source(campaign, platform="bluesky", query="BanTaliban")
    client.force_login(outsider)
    for name in ("pulse:pause_source", "pulse:remove_source", "pulse:replace_token"):
        assert client.post(reverse(name, args=[source.pk])).status_code == 404
    assert Source.objects.get(pk=source.pk).state == SourceState.ACTIVE


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "is_public": st.sampled_from(["on", "", "x"]),
            "show_wall": st.sampled_from(["on", ""]),
            "milestones": st.text(max_size=250),
            "keywords": st.text(max_size=400),
        },
    )
)
def test_the_settings_form_answers_302_or_400_never_500(client, campaign, owner, data):
    client.force_login(owner)
    assert client.post(page_url(campaign), data).status_code in (302, 400)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "platform": st.sampled_from(["x", "bluesky", "mastodon", "", "myspace"]),
            "kind": st.sampled_from(["hashtag", "keyword", "?"]),
            "query": st.one_of(st.text(max_size=320), st.just("#آزادی‌بیان"), st.just("#🙂")),
            "base_url": st.one_of(st.text(max_size=80), st.just("https://mastodon.social")),
            "token": st.text(max_size=60),
        },
    )
)
def test_the_source_form_answers_302_or_400_never_500(client, campaign, owner, data):
    client.force_login(owner)
    assert client.post(add_url(campaign), data).status_code in (302, 400)


def test_the_organisers_campaign_list_links_to_the_pulse_page(client, campaign, owner):
    client.force_login(owner)
    assert page_url(campaign) in client.get(reverse("organize:dashboard")).content.decode()
