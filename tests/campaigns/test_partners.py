"""Coalition partners of a campaign (campaigns.partners): adding and removing them, their
logos, the campaign page, co-hosts, and a partner's own page."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from hamseda.actions.models import DayOfAction, Event, PublicationState
from hamseda.campaigns import partners
from hamseda.campaigns.models import CampaignPartner
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Role
from hamseda.petitions import services
from tests.conftest import PASSWORD, make_org, make_petition


@pytest.fixture
def campaign(petition):
    return petition.campaign


@pytest.fixture
def voices(db):
    return make_org("voices")


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_it_adds_a_partner_and_refuses_the_campaigns_own_organisation(campaign, org, voices):
    partner = partners.add_partner(campaign, voices.organization, url="https://voices.example")
    assert list(partners.partners_of(campaign)) == [partner]
    with pytest.raises(partners.PartnerRefused, match="own organisation"):
        partners.add_partner(campaign, org.organization)


def test_it_refuses_a_partner_twice_with_a_clear_message(campaign, voices):
    partners.add_partner(campaign, voices.organization)
    with pytest.raises(partners.PartnerRefused, match="already a partner"):
        partners.add_partner(campaign, voices.organization)
    assert CampaignPartner.objects.count() == 1


def test_it_refuses_to_remove_a_co_host_of_an_open_petition(campaign, petition, voices):
    partner = partners.add_partner(campaign, voices.organization)
    partners.set_co_hosts(petition, [voices.organization])
    with pytest.raises(partners.PartnerRefused, match="open petition"):
        partners.remove_partner(partner)
    services.close_petition(petition)
    partners.remove_partner(partner)
    assert not CampaignPartner.objects.exists()
    # A closed petition keeps naming it: that is what its signers saw.
    assert list(petition.co_hosts.all()) == [voices.organization]


def test_it_refuses_to_remove_the_host_of_a_published_event(campaign, voices, now):
    partner = partners.add_partner(campaign, voices.organization)
    day = DayOfAction.objects.create(
        campaign=campaign, slug="day", date=(now + timedelta(days=9)).date(), created_at=now
    )
    event = Event.objects.create(
        day=day,
        slug="stockholm",
        host=voices.organization,
        city="Stockholm",
        country="SE",
        starts_at=now + timedelta(days=9),
        ends_at=now + timedelta(days=9, hours=2),
        time_zone="Europe/Stockholm",
        state=PublicationState.PUBLISHED,
        created_at=now,
        updated_at=now,
    )
    with pytest.raises(partners.PartnerRefused, match="published event"):
        partners.remove_partner(partner)
    Event.objects.filter(pk=event.pk).update(state=PublicationState.CANCELLED)
    partners.remove_partner(partner)


def test_removing_a_partner_drops_it_from_draft_petitions(org, campaign, voices):
    partner = partners.add_partner(campaign, voices.organization)
    draft = make_petition(org.organization, "a-draft", open_=False)
    partners.set_co_hosts(draft, [voices.organization])
    partners.remove_partner(partner)
    assert not draft.co_hosts.exists()


def test_co_hosts_must_be_partners_of_the_petitions_campaign(petition, voices):
    with pytest.raises(partners.PartnerRefused, match="Only partners"):
        partners.set_co_hosts(petition, [voices.organization])
    assert not petition.co_hosts.exists()


@pytest.fixture
def editor(client, org):
    user = org_services.create_organizer(
        email="editor@example.org", password=PASSWORD, organization=org.organization
    )
    client.force_login(user)
    return user


def test_the_add_form_re_encodes_the_logo(client, editor, campaign, voices, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("our-secret-plans.jpg", jpeg_with_exif(), "image/jpeg")
    response = client.post(
        reverse("partners:list", args=[campaign.slug]),
        {
            "organization": "voices",
            "url": "https://voices.example/",
            "description": "Diaspora voices",
            "position": "2",
            "logo": upload,
        },
    )
    assert response.status_code == 302
    partner = CampaignPartner.objects.get()
    assert (partner.position, partner.description) == (2, "Diaspora voices")
    assert "our-secret-plans" not in partner.logo.name
    data = partner.logo.read()
    assert b"SecretCameraMaker" not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"organization": "nobody-here"}, "There is no organisation"),
        ({"organization": "alliance"}, "own organisation"),
        ({"organization": "voices", "url": "javascript:alert(1)"}, "valid URL"),
        ({"organization": "voices", "position": "-3"}, "greater than or equal to 0"),
    ],
)
def test_bad_input_gets_a_clear_message(client, editor, campaign, voices, form, message):
    response = client.post(reverse("partners:list", args=[campaign.slug]), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CampaignPartner.objects.exists()


def test_the_edit_page_changes_and_the_remove_button_refuses_clearly(
    client, editor, campaign, petition, voices
):
    partner = partners.add_partner(campaign, voices.organization)
    response = client.post(
        reverse("partners:edit", args=[partner.pk]),
        {"url": "https://v.example", "description": "New", "position": "5"},
    )
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.url, partner.description, partner.position) == ("https://v.example", "New", 5)
    partners.set_co_hosts(petition, [voices.organization])
    response = client.post(reverse("partners:remove", args=[partner.pk]), follow=True)
    assert "co-hosts an open petition" in response.content.decode()
    assert CampaignPartner.objects.filter(pk=partner.pk).exists()


def test_the_campaign_page_shows_the_coalition(client, campaign, voices, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(image, format="PNG")
    logo = SimpleUploadedFile("l.png", image.getvalue(), "image/png")
    partners.add_partner(
        campaign,
        voices.organization,
        url="https://voices.example/",
        description="Diaspora voices for freedom",
        logo=logo,
    )
    for prefix in ("", "/fa", "/ps"):
        body = client.get(f"{prefix}/c/{campaign.slug}/").content.decode()
        assert "Diaspora voices for freedom" in body
        assert 'alt="Voices"' in body
        assert 'href="https://voices.example/" rel="noopener"' in body
        # Only its own media: no image, script or style from another host.
        assert 'src="https://' not in body
        assert 'src="http://' not in body


def test_a_campaign_without_partners_shows_no_coalition(client, campaign):
    assert "coalition" not in client.get(f"/c/{campaign.slug}/").content.decode()


def test_the_petition_form_offers_only_partners_of_the_campaign(client, editor, org, voices):
    draft = make_petition(org.organization, "a-draft", open_=False)
    stranger = make_org("stranger-org")
    partners.add_partner(draft.campaign, voices.organization)
    url = reverse("organize:edit", args=[draft.slug])
    body = client.get(url).content.decode()
    assert "Voices" in body
    assert "Stranger-Org" not in body
    form = {
        "slug": draft.slug,
        "campaign": draft.campaign.pk,
        "default_language": "en",
        "goal": "100",
        "co_hosts": [stranger.organization.pk],
        "text-en-title": "T",
        "text-en-summary": "S",
        "text-en-story": "Story",
    }
    assert client.post(url, form).status_code == 400
    assert client.post(url, {**form, "co_hosts": [voices.organization.pk]}).status_code == 302
    assert list(draft.co_hosts.all()) == [voices.organization]


def test_a_partners_members_see_their_partnerships(client, campaign, petition, voices):
    partners.add_partner(campaign, voices.organization)
    partners.set_co_hosts(petition, [voices.organization])
    analyst = org_services.create_organizer(
        email="analyst@voices.example",
        password=PASSWORD,
        organization=voices.organization,
        role=Role.ANALYST,
    )
    client.force_login(analyst)
    body = client.get(reverse("partners:mine")).content.decode()
    assert "Suspend the accounts" in body
    # An analyst sees counts, not the way to the contacts.
    assert "/contacts" not in body
