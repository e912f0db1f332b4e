"""The Atom feeds, parsed back with feedparser and checked against RFC 4287."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest
from django.urls import reverse
from django.utils import timezone

from hamseda.campaigns.models import Campaign
from hamseda.newsroom.models import PressRelease
from tests.newsroom.helpers import EN, campaign_of, make_author, make_release

ATOM = "{http://www.w3.org/2005/Atom}"
UNSAFE = {
    "title": "Safe title",
    "summary": "<script>alert(1)</script> summary",
    "body": (
        "Hello <script>alert('x')</script> [click](javascript:alert(1)) "
        '<img src="x" onerror="alert(2)"> <a href="https://ok.example/" onclick="evil()">ok</a>'
    ),
    "image_caption": '"><script>alert(3)</script>',
}


@pytest.fixture
def campaign(org) -> Campaign:
    return campaign_of(org.organization)


def fetch(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return response.content, feedparser.parse(response.content)


def test_it_lists_public_releases_with_absolute_links(client, campaign, org):
    author = make_author(org.organization)
    make_release(campaign, "first", now=timezone.now() - timedelta(hours=2), author=author)
    make_release(campaign, "draft", publish=False)
    _raw, feed = fetch(client, f"/c/{campaign.slug}/press.atom")
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.language == "en"
    assert [entry.title for entry in feed.entries] == [EN["title"]]
    entry = feed.entries[0]
    assert entry.link == f"http://testserver/c/{campaign.slug}/press/first/"
    assert entry.id.startswith("tag:testserver,")
    assert entry.author == "Laila Ahmadi"
    assert entry.tags[0].term == "Press release"
    assert entry.published_parsed
    assert entry.updated_parsed
    assert "<strong>Saturday</strong>" in entry.content[0].value
    assert "We will not be silenced." in entry.content[0].value
    assert feed.feed.link == f"http://testserver/c/{campaign.slug}/press/"
    for link in feed.feed.links + entry.links:
        assert link.href.startswith("http://testserver/")


def test_it_speaks_the_language_of_the_url_prefix(client, campaign):
    make_release(campaign)
    _raw, feed = fetch(client, f"/fa/c/{campaign.slug}/press.atom")
    assert feed.feed.language == "fa"
    assert feed.entries[0].title == "اعتراض در سه شهر"
    assert feed.entries[0].link == f"http://testserver/fa/c/{campaign.slug}/press/three-cities/"
    # Pashto: this release has no Pashto text, so the campaign's main language.
    _raw, feed = fetch(client, f"/ps/c/{campaign.slug}/press.atom")
    assert feed.entries[0].title == EN["title"]
    assert feed.entries[0].link.startswith("http://testserver/ps/")


def test_it_has_the_elements_rfc_4287_requires(client, campaign, org):
    make_release(campaign, "one")
    make_release(campaign, "two", author=make_author(org.organization))
    for url in (f"/c/{campaign.slug}/press.atom", "/press.atom", "/fa/press.atom"):
        raw, _feed = fetch(client, url)
        root = ET.fromstring(raw)  # noqa: S314 - our own feed, parsed in a test.
        assert root.tag == f"{ATOM}feed"
        for name in ("id", "title", "updated"):
            assert root.find(f"{ATOM}{name}").text, (url, name)
        # Without a feed-level author, every entry would need one (4.1.1).
        assert root.find(f"{ATOM}author/{ATOM}name").text
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == 2
        ids = set()
        for entry in entries:
            for name in ("id", "title", "updated"):
                assert entry.find(f"{ATOM}{name}").text, (url, name)
            ids.add(entry.find(f"{ATOM}id").text)
            link = entry.find(f"{ATOM}link[@rel='alternate']")
            assert link.get("href").startswith("http://testserver/")
        assert len(ids) == 2


def test_it_keeps_entry_ids_stable_across_corrections(client, campaign):
    release = make_release(campaign)
    _raw, before = fetch(client, f"/c/{campaign.slug}/press.atom")
    from hamseda.newsroom import services

    services.save_release(
        campaign,
        slug=release.slug,
        kind="statement",
        author=None,
        texts={"en": {**EN, "title": "Corrected"}},
        release=release,
    )
    _raw, after = fetch(client, f"/c/{campaign.slug}/press.atom")
    assert after.entries[0].title == "Corrected"
    assert after.entries[0].id == before.entries[0].id


def test_it_leaves_out_drafts_and_embargoed_releases_until_the_embargo_passes(client, campaign):
    now = timezone.now()
    make_release(campaign, "draft", publish=False)
    embargoed = make_release(campaign, "embargoed", now=now, embargo_until=now + timedelta(hours=1))
    for url in (f"/c/{campaign.slug}/press.atom", "/press.atom"):
        raw, feed = fetch(client, url)
        assert feed.entries == []
        assert b"embargoed" not in raw
        assert b"draft" not in raw
    # The embargo passes (moved into the past rather than waiting): the next fetch has it.
    PressRelease.objects.filter(pk=embargoed.pk).update(embargo_until=now - timedelta(seconds=1))
    for url in (f"/c/{campaign.slug}/press.atom", "/press.atom"):
        _raw, feed = fetch(client, url)
        assert [entry.link.rstrip("/").rsplit("/", 1)[1] for entry in feed.entries] == ["embargoed"]


def test_it_never_puts_unsafe_html_into_a_feed(client, campaign):
    make_release(
        campaign,
        texts={"en": UNSAFE},
        image=True,
        quotes=[
            {
                "language": "en",
                "text": "<script>alert(4)</script>",
                "speaker": '<img src=x onerror="alert(5)">',
            }
        ],
    )
    raw, feed = fetch(client, f"/c/{campaign.slug}/press.atom")
    # What a feed reader gets after unescaping the XML: the HTML of summary and content.
    root = ET.fromstring(raw)  # noqa: S314 - our own feed, parsed in a test.
    entry = root.find(f"{ATOM}entry")
    for name in ("summary", "content"):
        html = entry.find(f"{ATOM}{name}").text.lower()
        assert "<script" not in html
        assert "javascript:" not in html
        # No tag carries an event handler (escaped text that reads like one is harmless).
        assert not re.search(r"<[^>]*\bon\w+\s*=", html), html
    content = entry.find(f"{ATOM}content").text
    assert 'rel="nofollow noopener noreferrer"' in content
    assert '<img src="http://testserver/media/newsroom/images/' in content
    assert feed.entries[0].title == "Safe title"


def test_it_answers_404_for_a_campaign_that_is_not_public(client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(is_public=False)
    assert client.get(f"/c/{campaign.slug}/press.atom").status_code == 404
    assert client.get("/c/no-such-campaign/press.atom").status_code == 404


def test_it_has_the_contract_url(campaign):
    assert reverse("newsroom:campaign_feed", args=[campaign.slug]) == (
        f"/c/{campaign.slug}/press.atom"
    )
    assert reverse("newsroom:site_feed") == "/press.atom"
