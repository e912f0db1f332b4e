"""Helpers for the browser tests: screenshots and a petition told in three languages."""

from pathlib import Path

from hamseda.campaigns.models import Campaign, CampaignTranslation
from hamseda.petitions import services
from hamseda.petitions.models import Petition

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def screenshot(page, name: str) -> Path:
    """A full-page PNG in tests/screenshots/ (gitignored); Playwright waits for the
    fonts. A page wider than the window scrolls sideways, which fails the test."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert png_width(path) == page.viewport_size["width"], f"{name} scrolls sideways"
    return path


def png_width(path: Path) -> int:
    """A PNG's width, from its IHDR header (a full-page shot is as wide as the page)."""
    return int.from_bytes(path.read_bytes()[16:20], "big")


TEXTS = {
    "en": {
        "title": "Suspend the Taliban's accounts",
        "summary": "The Taliban use social networks to threaten women and spread fear. "
        "Ask the company to enforce its own rules.",
        "story": "Since 2021 the Taliban have banned girls from school.\n\n"
        "Their official accounts **still post** every day. We ask the company to:\n\n"
        "- suspend the accounts of a designated terrorist group;\n"
        "- publish what it did and when.",
    },
    "fa": {
        "title": "حساب‌های طالبان را مسدود کنید",
        "summary": "طالبان از شبکه‌های اجتماعی برای تهدید زنان و پخش ترس استفاده می‌کنند. "
        "از شرکت بخواهید قوانین خودش را اجرا کند.",
        "story": "از سال ۲۰۲۱ طالبان مکتب را به روی دختران بسته‌اند.\n\n"
        "حساب‌های رسمی آن‌ها **هنوز هر روز** نشر می‌کنند. ما از شرکت می‌خواهیم:\n\n"
        "- حساب‌های یک گروه تروریستی شناخته‌شده را مسدود کند؛\n"
        "- بگوید چه کرد و چه وقت.",
    },
    "ps": {
        "title": "د طالبانو حسابونه بند کړئ",
        "summary": "طالبان ټولنیزې شبکې د ښځو د ګواښلو او د ویرې د خپرولو لپاره کاروي. "
        "له شرکت څخه وغواړئ چې خپل قوانین پلي کړي.",
        "story": "له ۲۰۲۱ راهیسې طالبانو نجونو ته ښوونځي تړلي دي.\n\n"
        "د هغوی رسمي حسابونه **اوس هم هره ورځ** خپرونې کوي.",
    },
}

CAMPAIGN_TEXTS = {
    "en": ("Ban the Taliban from social media", "A coalition of Afghan diaspora groups."),
    "fa": ("طالبان را از شبکه‌های اجتماعی منع کنید", "ائتلافی از گروه‌های مهاجر افغان."),
    "ps": ("طالبان له ټولنیزو رسنیو منع کړئ", "د افغان کډوالو ډلو یو ائتلاف."),
}

PUBLIC_SIGNERS = [
    ("Maryam", "SE"),
    ("زهرا", "AF"),
    ("ملالۍ", "DE"),
    ("Farid", "GB"),
    ("فرشته", "US"),
    ("Shabnam", "NL"),
]


def make_story_petition(organization, *, slug: str = "ban-accounts", signed: int = 0) -> Petition:
    """An open petition in English, Dari and Pashto, as the demo tells it, with
    `signed` confirmed signatures whose first names are public."""
    campaign = Campaign.objects.create(
        organization=organization, slug=f"{slug}-campaign", hashtags="BanTaliban FreeAfghanWomen"
    )
    for language, (name, description) in CAMPAIGN_TEXTS.items():
        CampaignTranslation.objects.create(
            campaign=campaign, language=language, name=name, description=description
        )
    petition = Petition(organization=organization, campaign=campaign, slug=slug, goal=100)
    services.save_petition(
        petition, texts=TEXTS, new_targets=[("Example Social Inc.", "Trust and Safety")]
    )
    services.submit_petition(petition)
    services.approve_petition(petition)
    for number in range(signed):
        first_name, country = PUBLIC_SIGNERS[number % len(PUBLIC_SIGNERS)]
        services.record_confirmed_signature(
            petition,
            services.Signer(
                first_name=first_name,
                last_name="Example",
                email=f"public{number}@example.org",
                country=country,
                show_name=True,
            ),
        )
    petition.refresh_from_db()
    return petition
