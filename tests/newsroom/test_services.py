"""Newsroom services: saving, publishing, embargoes, what is public."""

from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from hamseda.campaigns.models import Campaign
from hamseda.newsroom import services
from hamseda.newsroom.models import PressRelease, Quote
from hamseda.petitions.organize_forms import reencode_image
from tests.conftest import make_org
from tests.newsroom.helpers import EN, FA, campaign_of, jpeg_with_gps, make_author, make_release


@pytest.fixture
def campaign(org) -> Campaign:
    return campaign_of(org.organization)


def test_it_keeps_a_draft_off_the_public_list(campaign):
    release = make_release(campaign, publish=False)
    assert services.state_of(release) == "draft"
    assert not services.is_public(release)
    assert list(services.public_releases(campaign)) == []


def test_it_lists_published_releases_newest_first(campaign, now):
    older = make_release(campaign, "older", now=now - timedelta(days=2))
    newer = make_release(campaign, "newer", now=now - timedelta(days=1))
    assert list(services.public_releases(campaign)) == [newer, older]
    assert list(services.public_releases()) == [newer, older]
    assert services.state_of(newer) == "published"


def test_it_hides_an_embargoed_release_until_its_time_then_shows_it_by_itself(campaign, now):
    embargo = now + timedelta(hours=3)
    release = make_release(campaign, now=now, embargo_until=embargo)
    assert release.published_at == now
    assert services.state_of(release, now) == "embargoed"
    assert not services.is_public(release, now)
    assert list(services.public_releases(campaign, now=now)) == []
    assert list(services.public_releases(now=embargo - timedelta(seconds=1))) == []
    # No job runs: the same query a moment after the embargo finds it.
    assert list(services.public_releases(campaign, now=embargo)) == [release]
    assert services.is_public(release, embargo)
    assert services.released_at(release) == embargo


def test_it_orders_an_embargoed_release_by_its_embargo_time(campaign, now):
    embargoed = make_release(campaign, "embargoed", now=now, embargo_until=now + timedelta(hours=1))
    later = make_release(campaign, "later", now=now + timedelta(minutes=30))
    at = now + timedelta(hours=2)
    assert list(services.public_releases(campaign, now=at)) == [embargoed, later]


def test_it_refuses_an_embargo_in_the_past(campaign, now):
    with pytest.raises(services.NewsroomRefused, match="already passed"):
        make_release(campaign, now=now, embargo_until=now - timedelta(minutes=1))


def test_it_keeps_a_passed_embargo_when_a_correction_is_saved(campaign, now):
    embargo = now + timedelta(hours=1)
    release = make_release(campaign, now=now, embargo_until=embargo)
    later = now + timedelta(hours=2)
    corrected = services.save_release(
        campaign,
        slug=release.slug,
        kind=release.kind,
        author=None,
        embargo_until=embargo,
        texts={"en": {**EN, "title": "Corrected"}},
        release=release,
        now=later,
    )
    assert corrected.embargo_until == embargo
    assert corrected.text().title == "Corrected"
    assert services.is_public(corrected, later)


def test_it_refuses_a_naive_embargo(campaign, now):
    with pytest.raises(services.NewsroomRefused, match="time zone"):
        make_release(
            campaign, now=now, embargo_until=(now + timedelta(hours=1)).replace(tzinfo=None)
        )


def test_it_unpublishes_and_publishes_again_once(campaign, now):
    release = make_release(campaign, now=now)
    services.unpublish_release(release)
    assert release.published_at is None
    assert list(services.public_releases(campaign)) == []
    first = services.publish_release(release, now=now + timedelta(minutes=1))
    second = services.publish_release(release, now=now + timedelta(minutes=2))
    assert first.published_at == second.published_at == now + timedelta(minutes=1)


def test_it_refuses_a_taken_slug_with_a_clear_message(campaign):
    make_release(campaign, "taken")
    with pytest.raises(services.NewsroomRefused, match="already taken"):
        make_release(campaign, "taken")
    assert PressRelease.objects.count() == 1


def test_it_refuses_a_bad_slug(campaign):
    with pytest.raises(services.NewsroomRefused, match="letters, digits"):
        make_release(campaign, "not a slug!")


def test_it_keeps_a_published_release_at_its_address(campaign):
    release = make_release(campaign)
    with pytest.raises(services.NewsroomRefused, match="keeps its web address"):
        services.save_release(
            campaign,
            slug="renamed",
            kind="statement",
            author=None,
            texts={"en": EN},
            release=release,
        )


def test_it_needs_a_title_and_text_in_a_campaign_language(campaign, db):
    with pytest.raises(services.NewsroomRefused, match="at least one"):
        make_release(campaign, texts={})
    with pytest.raises(services.NewsroomRefused, match="title and a text"):
        make_release(campaign, texts={"en": {**EN, "title": "  "}})
    bare = Campaign.objects.create(organization=campaign.organization, slug="english-only")
    with pytest.raises(services.NewsroomRefused, match="not written in that language"):
        make_release(bare, texts={"fa": FA}, quotes=[])


def test_it_checks_quotes_and_keeps_their_order(campaign):
    with pytest.raises(services.NewsroomRefused, match="who said them"):
        make_release(campaign, quotes=[{"language": "en", "text": "Words", "speaker": ""}])
    release = make_release(
        campaign,
        quotes=[
            {"language": "en", "text": "First", "speaker": "A"},
            {"language": "en", "text": "", "speaker": "", "speaker_role": ""},  # empty row
            {"language": "fa", "text": "دوم", "speaker": "ب"},
        ],
    )
    assert [q.text for q in Quote.objects.filter(release=release)] == ["First", "دوم"]


def test_it_refuses_another_organisations_author(campaign):
    stranger = make_author(make_org("elsewhere").organization)
    with pytest.raises(services.NewsroomRefused, match="author of the campaign"):
        make_release(campaign, author=stranger)


def test_it_strips_photo_metadata_from_a_release_image(campaign):
    release = services.save_release(
        campaign,
        slug="with-photo",
        kind="press_release",
        author=None,
        image=reencode_image(jpeg_with_gps()),
        texts={"en": EN},
    )
    with release.image.open("rb") as handle, Image.open(handle) as image:
        assert not image.getexif()
    assert "gps" not in release.image.name


def test_it_saves_an_author_with_texts_per_language(org):
    author = make_author(org.organization)
    assert author.text().role == "Spokesperson"
    author = services.save_author(
        org.organization, name=" Laila A. ", texts={"en": {"role": "", "bio": ""}}, author=author
    )
    assert author.name == "Laila A."
    assert author.translations.count() == 0
    with pytest.raises(services.NewsroomRefused, match="name"):
        services.save_author(org.organization, name="  ", texts={})


def test_it_hides_releases_of_a_campaign_that_is_not_public(campaign):
    make_release(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(is_public=False)
    assert list(services.public_releases()) == []


def test_it_is_public_only_after_publication(campaign):
    now = timezone.now()
    release = make_release(campaign, now=now + timedelta(hours=1))
    assert not services.is_public(release, now)
