"""The press kit zip: logos, pictures of public releases, a fact sheet with live numbers."""

import io
import zipfile
from datetime import timedelta

import pytest
from pypdf import PdfReader

from hamseda.actions.models import (
    DayOfAction,
    DayOfActionTranslation,
    Event,
    EventTranslation,
    PublicationState,
)
from hamseda.campaigns.models import Campaign, CampaignPartner
from hamseda.newsroom import presskit
from hamseda.petitions import services as petition_services
from hamseda.petitions.models import Petition
from tests.conftest import make_org, signer
from tests.newsroom.helpers import campaign_of, make_release, png_upload


@pytest.fixture
def campaign(org) -> Campaign:
    return campaign_of(org.organization)


def _day_with_events(campaign, now):
    day = DayOfAction.objects.create(
        campaign=campaign,
        slug="day",
        date=(now + timedelta(days=10)).date(),
        state=PublicationState.PUBLISHED,
        created_at=now,
        published_at=now,
    )
    DayOfActionTranslation.objects.create(day=day, language="en", title="Global day of action")
    for slug, city, country, zone, count, state in [
        ("sf", "San Francisco", "US", "America/Los_Angeles", 120, PublicationState.PUBLISHED),
        ("london", "London", "GB", "Europe/London", 85, PublicationState.PUBLISHED),
        ("secret", "Hiddenville", "SE", "Europe/Stockholm", 3, PublicationState.DRAFT),
    ]:
        event = Event.objects.create(
            day=day,
            slug=slug,
            host=campaign.organization,
            city=city,
            country=country,
            venue="Outside the office",
            starts_at=now + timedelta(days=10),
            ends_at=now + timedelta(days=10, hours=2),
            time_zone=zone,
            state=state,
            created_at=now,
            updated_at=now,
            published_at=now,
            attendee_count=count,
        )
        EventTranslation.objects.create(event=event, language="en", title=f"Protest in {city}")


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return " ".join(page.extract_text() for page in reader.pages)


def test_it_builds_a_zip_with_logos_pictures_and_a_fact_sheet(client, campaign, now):
    petition = Petition.objects.get(campaign=campaign)
    for number in range(3):
        petition_services.record_confirmed_signature(
            petition, signer(number, country="AF"), now=now
        )
    campaign.logo.save("logo.png", png_upload(), save=True)
    partner = make_org("partner-org").organization
    link = CampaignPartner.objects.create(campaign=campaign, organization=partner, created_at=now)
    link.logo.save("partner.png", png_upload(colour=(0, 0, 0)), save=True)
    make_release(campaign, "public", image=True)
    make_release(campaign, "draft", image=True, publish=False)
    make_release(campaign, "embargoed", image=True, now=now, embargo_until=now + timedelta(hours=1))
    _day_with_events(campaign, now)

    response = client.get(f"/c/{campaign.slug}/press-kit.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"{campaign.slug}-press-kit-en.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    folder = f"{campaign.slug}-press-kit/"
    names = set(archive.namelist())
    assert {
        folder + "README.txt",
        folder + "facts.txt",
        folder + "fact-sheet.pdf",
        folder + "logos/campaign-logo.png",
        folder + "logos/partners/partner-org.png",
        folder + "images/public.png",
    } == names
    text = _pdf_text(archive.read(folder + "fact-sheet.pdf"))
    assert "A campaign" in text
    assert "#BanTaliban" in text
    assert "3 confirmed signatures" in text
    assert "Afghanistan" in text
    assert "San Francisco" in text
    assert "London" in text
    assert "Hiddenville" not in text
    assert "120" in text
    assert "85" in text
    assert "1 press release" in text
    facts = archive.read(folder + "facts.txt").decode()
    assert "Confirmed signatures, all petitions: 3" in facts
    assert "Press releases: 1" in facts
    assert "Hiddenville" not in facts


def test_it_shows_the_live_count(campaign, now):
    petition = Petition.objects.get(campaign=campaign)
    petition_services.record_confirmed_signature(petition, signer(1), now=now)
    first = zipfile.ZipFile(io.BytesIO(presskit.press_kit_zip(campaign, "en", now=now)))
    name = f"{campaign.slug}-press-kit/fact-sheet.pdf"
    assert "1 confirmed signature" in _pdf_text(first.read(name))
    petition_services.record_confirmed_signature(petition, signer(2), now=now)
    second = zipfile.ZipFile(io.BytesIO(presskit.press_kit_zip(campaign, "en", now=now)))
    assert "2 confirmed signatures" in _pdf_text(second.read(name))


def test_it_makes_the_kit_in_dari(client, campaign):
    response = client.get(f"/fa/c/{campaign.slug}/press-kit.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    reader = PdfReader(io.BytesIO(archive.read(f"{campaign.slug}-press-kit/fact-sheet.pdf")))
    assert len(reader.pages) == 1
    assert "کمپاین" in reader.pages[0].extract_text()
    assert "-press-kit-fa.zip" in response["Content-Disposition"]


def test_it_answers_404_for_a_campaign_that_is_not_public(client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(is_public=False)
    assert client.get(f"/c/{campaign.slug}/press-kit.zip").status_code == 404


def test_it_makes_the_kit_without_a_logo_file_that_went_missing(campaign):
    campaign.logo.name = "campaigns/logos/gone.png"
    campaign.save()
    archive = zipfile.ZipFile(io.BytesIO(presskit.press_kit_zip(campaign, "en")))
    assert not any("logos/" in name for name in archive.namelist())
