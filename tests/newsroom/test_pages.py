"""The public press pages and the campaign page's press section, in en/fa/ps."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hamseda.campaigns.models import Campaign
from hamseda.newsroom import services
from tests.newsroom.helpers import EN, FA, campaign_of, make_author, make_release
from tests.newsroom.test_feeds import UNSAFE


@pytest.fixture
def campaign(org) -> Campaign:
    return campaign_of(org.organization)


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_a_release_with_its_quotes_author_and_campaign(client, campaign, org):
    author = make_author(org.organization)
    make_release(campaign, image=True, author=author)
    html = html_of(client.get(f"/c/{campaign.slug}/press/three-cities/"))
    assert EN["title"] in html
    assert "<strong>Saturday</strong>" in html
    assert 'rel="nofollow noopener noreferrer"' in html
    assert re.search(r"<blockquote><p>We will not be silenced.</p></blockquote>", html)
    assert "<cite>Laila Ahmadi</cite>, Spokesperson" in html
    assert "Laila campaigns for free speech." in html
    assert f'alt="{EN["image_caption"]}"' in html
    assert "About the campaign" in html
    assert "Suspend the accounts of a designated terrorist group." in html
    assert "Contact for journalists: Alliance" in html
    feed = f'href="/c/{campaign.slug}/press.atom"'
    assert f'type="application/atom+xml" title="Press releases: A campaign" {feed}' in html


@pytest.mark.parametrize(
    ("prefix", "title", "lang", "direction"),
    [
        ("", EN["title"], "en", "ltr"),
        ("/fa", FA["title"], "fa", "rtl"),
        ("/ps", EN["title"], "en", "ltr"),
    ],
)
def test_it_shows_the_reader_language_or_falls_back(
    client, campaign, prefix, title, lang, direction
):
    make_release(campaign)
    response = client.get(f"{prefix}/c/{campaign.slug}/press/three-cities/")
    html = html_of(response)
    assert title in html
    assert f'<article class="release" lang="{lang}" dir="{direction}">' in html
    # The page itself is in the reader's language (Pashto: right to left), the text in
    # the best language the release has.
    assert response.context["item"]["in_reader_language"] is (prefix != "/ps")
    if prefix == "/ps":
        assert '<html lang="ps" dir="rtl">' in html
    listing = html_of(client.get(f"{prefix}/c/{campaign.slug}/press/"))
    assert title in listing
    assert f'href="{prefix}/c/{campaign.slug}/press.atom"' in listing
    site = html_of(client.get(f"{prefix}/press/"))
    assert title in site
    assert f'href="{prefix}/press.atom"' in site


def test_it_shows_quotes_in_the_language_of_the_text(client, campaign):
    make_release(campaign)
    html = html_of(client.get(f"/fa/c/{campaign.slug}/press/three-cities/"))
    assert "ما ساکت نمی‌شویم." in html
    assert "We will not be silenced." not in html


def test_it_hides_drafts_and_embargoed_releases_everywhere(client, campaign):
    now = timezone.now()
    make_release(campaign, "draft", publish=False)
    make_release(campaign, "embargoed", now=now, embargo_until=now + timedelta(hours=1))
    for path in (f"/c/{campaign.slug}/press/draft/", f"/c/{campaign.slug}/press/embargoed/"):
        assert client.get(path).status_code == 404
    for path in (f"/c/{campaign.slug}/press/", "/press/", f"/c/{campaign.slug}/"):
        html = html_of(client.get(path))
        assert "/press/draft/" not in html
        assert "/press/embargoed/" not in html


def test_it_lists_the_latest_three_on_the_campaign_page(client, campaign):
    now = timezone.now()
    for number in range(4):
        make_release(campaign, f"release-{number}", now=now - timedelta(hours=10 - number))
    html = html_of(client.get(f"/c/{campaign.slug}/"))
    assert "/press/release-3/" in html
    assert "/press/release-1/" in html
    assert "/press/release-0/" not in html
    assert f'href="/c/{campaign.slug}/press/"' in html
    assert f'href="/c/{campaign.slug}/press.atom"' in html
    assert f'href="/c/{campaign.slug}/press-kit.zip"' in html


def test_it_never_puts_unsafe_html_on_a_page(client, campaign, org):
    author = make_author(
        org.organization,
        name="<script>alert(1)</script>",
        texts={"en": {"role": '<img src=x onerror="alert(2)">', "bio": "<script>bio()</script>"}},
    )
    make_release(
        campaign,
        texts={"en": UNSAFE},
        image=True,
        author=author,
        quotes=[
            {"language": "en", "text": "<script>q()</script>", "speaker": "<b onclick=x>S</b>"}
        ],
    )
    for path in (
        f"/c/{campaign.slug}/press/three-cities/",
        f"/c/{campaign.slug}/press/",
        "/press/",
        f"/c/{campaign.slug}/",
    ):
        html = html_of(client.get(path)).lower()
        assert "<script>alert" not in html
        assert "<script>bio" not in html
        assert "<script>q" not in html
        assert "javascript:" not in html
        assert not re.search(r"<[^>]*\bon(error|click)\s*=", html), path


def test_it_answers_404_for_a_campaign_that_is_not_public(client, campaign):
    make_release(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(is_public=False)
    assert client.get(f"/c/{campaign.slug}/press/").status_code == 404
    assert client.get(f"/c/{campaign.slug}/press/three-cities/").status_code == 404
    assert "three-cities" not in client.get("/press/").content.decode()


def test_it_answers_404_for_a_release_of_another_campaign(client, campaign, db):
    make_release(campaign)
    other = Campaign.objects.create(organization=campaign.organization, slug="other")
    assert client.get(f"/c/{other.slug}/press/three-cities/").status_code == 404


def test_it_shows_an_unpublished_release_nowhere(client, campaign):
    release = make_release(campaign)
    services.unpublish_release(release)
    assert client.get(f"/c/{campaign.slug}/press/three-cities/").status_code == 404
