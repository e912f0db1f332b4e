"""Newsroom test data, made through the services."""

import io
from datetime import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from hamseda.campaigns.models import Campaign, CampaignTranslation
from hamseda.newsroom import services
from hamseda.newsroom.models import Author, PressRelease
from hamseda.petitions.organize_forms import reencode_image
from tests.conftest import make_petition

EN = {
    "title": "Protests in three cities",
    "summary": "Supporters gather in San Francisco, London and Stockholm.",
    "body": "On **Saturday**, people will gather. [More](https://example.org/more)",
    "image_caption": "The London protest",
}
FA = {
    "title": "اعتراض در سه شهر",
    "summary": "حامیان در سه شهر جمع می‌شوند.",
    "body": "روز **شنبه** مردم جمع می‌شوند.",
    "image_caption": "اعتراض لندن",
}
PS = {
    "title": "په درېیو ښارونو کې لاریونونه",
    "summary": "",
    "body": "د شنبې په ورځ",
    "image_caption": "",
}


def campaign_of(organization) -> Campaign:
    """The organisation's campaign (tests.conftest.make_petition), written in English,
    Dari and Pashto, with an open petition."""
    petition = make_petition(organization)
    campaign = petition.campaign
    CampaignTranslation.objects.get_or_create(
        campaign=campaign, language="fa", defaults={"name": "کمپاین", "description": "شرح"}
    )
    CampaignTranslation.objects.get_or_create(
        campaign=campaign, language="ps", defaults={"name": "کمپاین په پښتو"}
    )
    CampaignTranslation.objects.filter(campaign=campaign, language="en").update(
        description="Suspend the accounts of a designated terrorist group."
    )
    return Campaign.objects.get(pk=campaign.pk)


def png_upload(name: str = "photo.png", size=(40, 30), colour=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def jpeg_with_gps() -> SimpleUploadedFile:
    """A JPEG whose EXIF names a place (GPS IFD), as a phone photo would."""
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825)[2] = (34.0, 31.0, 0.0)  # GPSLatitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("gps.jpg", buffer.getvalue(), content_type="image/jpeg")


def make_author(organization, name: str = "Laila Ahmadi", **kwargs) -> Author:
    texts = kwargs.pop(
        "texts",
        {
            "en": {"role": "Spokesperson", "bio": "Laila campaigns for free speech."},
            "fa": {"role": "سخنگو", "bio": "لیلا برای آزادی بیان کار می‌کند."},
        },
    )
    return services.save_author(organization, name=name, texts=texts, **kwargs)


def make_release(
    campaign,
    slug: str = "three-cities",
    *,
    publish: bool = True,
    now: datetime | None = None,
    embargo_until: datetime | None = None,
    image: bool = False,
    texts: dict | None = None,
    quotes: list | None = None,
    author: Author | None = None,
    published_at: datetime | None = None,
) -> PressRelease:
    release = services.save_release(
        campaign,
        slug=slug,
        kind="press_release",
        author=author,
        image=reencode_image(png_upload()) if image else None,
        embargo_until=embargo_until,
        texts=texts if texts is not None else {"en": EN, "fa": FA},
        quotes=quotes
        if quotes is not None
        else [
            {
                "language": "en",
                "text": "We will not be silenced.",
                "speaker": "Laila Ahmadi",
                "speaker_role": "Spokesperson",
            },
            {"language": "fa", "text": "ما ساکت نمی‌شویم.", "speaker": "لیلا احمدی"},
        ],
        now=now,
    )
    if publish:
        release = services.publish_release(release, now=published_at or now)
    return release
