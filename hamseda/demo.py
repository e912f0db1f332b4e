"""The demo: the founding scenario of DESIGN.md, with placeholder people and groups.

Idempotent: run twice, it finds what it made the first time and prints the same login.
"""

import io
import random
import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from hamseda.campaigns.models import Campaign, CampaignTranslation
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Organization, Role
from hamseda.petitions import services as petition_services
from hamseda.petitions.models import DecisionMaker, Petition
from hamseda.pulse.demo import add_demo_pulse

ORG_SLUG = "demo-alliance"
ORGANIZER_EMAIL = "organizer@demo.hamseda.invalid"
CAMPAIGN = {
    "en": (
        "Ban the Taliban from social media",
        "A coalition of diaspora groups asks social networks to stop hosting the "
        "accounts of a designated terrorist group.",
    ),
    "fa": (
        "طالبان را از شبکه‌های اجتماعی منع کنید",
        "ائتلافی از گروه‌های مهاجر از شبکه‌های اجتماعی می‌خواهد که میزبانی حساب‌های "
        "یک گروه تروریستی شناخته‌شده را متوقف کنند.",
    ),
    "ps": (
        "طالبان له ټولنیزو رسنیو منع کړئ",
        "د کډوالو ډلو یو ائتلاف له ټولنیزو شبکو غواړي چې د یوې نومول شوې ترهګرې "
        "ډلې حسابونه بند کړي.",
    ),
}
PETITION = {
    "en": (
        "ExampleSocial: suspend the accounts of the Taliban",
        "The Taliban use ExampleSocial to spread propaganda and threaten Afghans who speak "
        "out. We ask ExampleSocial and its owner to enforce their own rules.",
        "The Taliban are a designated terrorist group, yet their officials and spokesmen "
        "run verified accounts on **ExampleSocial** with hundreds of thousands of "
        "followers.\n\nThey use them to:\n\n- spread propaganda that hides the erasure of "
        "women from public life;\n- threaten journalists and activists, at home and in "
        "exile;\n- raise money.\n\nWe ask **ExampleSocial** and its owner to apply their "
        "own policy on violent organisations and suspend these accounts.\n\n"
        "*This is demo text with placeholder names.*",
    ),
    "fa": (
        "اگزمپل‌سوشیال: حساب‌های طالبان را مسدود کنید",
        "طالبان از اگزمپل‌سوشیال برای پخش تبلیغات و تهدید افغان‌هایی که صدای خود را بلند "
        "می‌کنند استفاده می‌کنند. ما از اگزمپل‌سوشیال و مالک آن می‌خواهیم قوانین خود را اجرا کنند.",
        "طالبان یک گروه تروریستی شناخته‌شده‌اند، با این حال مقام‌ها و سخنگویان آنان در "
        "**اگزمپل‌سوشیال** حساب‌های تأییدشده با صدها هزار دنبال‌کننده دارند.\n\n"
        "آنان از این حساب‌ها برای این کارها استفاده می‌کنند:\n\n"
        "- پخش تبلیغاتی که حذف زنان از زندگی عمومی را پنهان می‌کند؛\n"
        "- تهدید خبرنگاران و فعالان، در داخل و در تبعید؛\n- جمع‌آوری پول.\n\n"
        "ما از **اگزمپل‌سوشیال** و مالک آن می‌خواهیم سیاست خود دربارهٔ سازمان‌های "
        "خشونت‌آمیز را اجرا کرده و این حساب‌ها را مسدود کنند.\n\n"
        "*این متن نمایشی با نام‌های ساختگی است.*",
    ),
    "ps": (
        "اېګزامپل‌سوشیال: د طالبانو حسابونه وځنډوئ",
        "طالبان له اېګزامپل‌سوشیال څخه د تبلیغاتو د خپرولو او د هغو افغانانو د ګواښلو لپاره "
        "کار اخلي چې غږ پورته کوي. موږ له اېګزامپل‌سوشیال او د هغې له مالک څخه غواړو چې "
        "خپل قوانین پلي کړي.",
        "طالبان یوه نومول شوې ترهګره ډله ده، خو د هغوی چارواکي او ویاندان په "
        "**اېګزامپل‌سوشیال** کې د سلګونو زرو پیروانو سره تایید شوي حسابونه لري.\n\n"
        "هغوی له دې حسابونو څخه د دې کارونو لپاره ګټه اخلي:\n\n"
        "- د داسې تبلیغاتو خپرول چې له عامه ژوند څخه د ښځو ایستل پټوي؛\n"
        "- د خبریالانو او فعالانو ګواښل، په هېواد کې دننه او په جلاوطنۍ کې؛\n"
        "- د پیسو راټولول.\n\n"
        "موږ له **اېګزامپل‌سوشیال** او د هغې له مالک څخه غواړو چې د تاوتریخجن سازمانونو "
        "په اړه خپله پالیسي پلي کړي او دا حسابونه وځنډوي.\n\n"
        "*دا د نندارې متن دی چې جعلي نومونه لري.*",
    ),
}
# Placeholder first names in several scripts, and where supporters sign from.
FIRST_NAMES = [
    "Aria",
    "Sam",
    "Maryam",
    "Omid",
    "Lena",
    "Farid",
    "Nora",
    "Jonas",
    "Zahra",
    "Karim",
    "Elin",
    "Hamid",
    "مریم",
    "فرید",
    "زهرا",
    "احمد",
    "ملالۍ",
    "ښکلا",
]
COUNTRIES = [
    "AF",
    "US",
    "GB",
    "SE",
    "DE",
    "CA",
    "FR",
    "NL",
    "NO",
    "AU",
    "TR",
    "PK",
    "IR",
    "DK",
    "BE",
    "CH",
    "AT",
    "IT",
    "ES",
    "FI",
    "IN",
    "AE",
]
WEIGHTS = [30, 14, 12, 10, 9, 6, 4, 4, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
SIGNATURES = 420


def load_demo() -> str:
    """Create the demo data if missing; return a text with the organiser's login."""
    login_file = settings.DATA_DIR / "demo-login.txt"
    if Organization.objects.filter(slug=ORG_SLUG).exists() and login_file.exists():
        return login_file.read_text()
    with transaction.atomic():
        organization, _created = Organization.objects.get_or_create(
            slug=ORG_SLUG, defaults={"name": "Demo Diaspora Alliance"}
        )
        key_file = settings.DATA_DIR / "keys" / f"{ORG_SLUG}.key"
        warning = ""
        if not organization.public_key:
            if key_file.exists():
                key_file.unlink()
            org_services.generate_sealing_key(organization, out=key_file)
            warning = (
                f"WARNING: the demo organisation's SECRET key is in {key_file}.\n"
                "That is fine for a demo and never for real supporters: generate real keys "
                "with `hamseda keys generate` and keep the secret offline.\n"
            )
        password = secrets.token_urlsafe(12)
        org_services.create_organizer(
            email=ORGANIZER_EMAIL, password=password, organization=organization, role=Role.OWNER
        )
        _load_campaign(organization)
    text = (
        f"{warning}Organizer login: {ORGANIZER_EMAIL}\nPassword: {password}\n"
        f"Log in at {settings.BASE_URL}/accounts/login/\n"
    )
    Path(login_file).write_text(text)
    login_file.chmod(0o600)
    return text


def _demo_image() -> ContentFile:
    """A plain banner in the campaign's colour with its hashtag (no photo of anyone)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1200, 630), "#1f6f5c")
    draw = ImageDraw.Draw(image)
    for band in range(0, 630, 6):  # A soft vertical gradient.
        shade = 95 + band // 12
        draw.rectangle([0, band, 1200, band + 6], fill=(31, shade, 92))
    draw.text((80, 230), "#BanTaliban", fill="white", font=ImageFont.load_default(120))
    draw.text((84, 400), "Demo image", fill="#d7efe6", font=ImageFont.load_default(40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return ContentFile(buffer.getvalue(), name="demo-banner.png")


def _demo_logo() -> ContentFile:
    """The demo coalition's logo: a gold disc with sound waves (one voice becoming
    many, as "hamseda" says), on a transparent background, as kit images and frames
    must handle it."""
    from PIL import Image, ImageDraw

    scale = 4  # Drawn large, then scaled down: Pillow's arcs have no anti-aliasing.
    size = 512 * scale
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill="#f2c14e")
    ink = "#12352c"
    cx, cy = size * 0.34, size / 2
    dot = size * 0.07
    draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=ink)
    for number, radius in enumerate((0.17, 0.27, 0.37)):
        r = size * radius
        width = round(size * (0.05 - number * 0.008))
        draw.arc((cx - r, cy - r, cx + r, cy + r), -50, 50, fill=ink, width=width)
    image = image.resize((512, 512), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return ContentFile(buffer.getvalue(), name="demo-logo.png")


def _load_campaign(organization: Organization) -> None:
    from hamseda.kit import services as kit_services

    campaign, _ = Campaign.objects.get_or_create(
        slug="ban-taliban",
        defaults={
            "organization": organization,
            "hashtags": "BanTaliban",
            "colour": "#1f6f5c",
        },
    )
    if not campaign.logo:
        # The kit's design: the site's green, a warm gold for highlights, the bold
        # layout, and Eastern Arabic digits on the Dari and Pashto images.
        kit_services.update_design(
            campaign,
            colour="#1f6f5c",
            accent_colour="#f2c14e",
            layout="bold",
            eastern_digits=True,
            logo=_demo_logo(),
            by=None,
        )
    for language, (name, description) in CAMPAIGN.items():
        CampaignTranslation.objects.update_or_create(
            campaign=campaign,
            language=language,
            defaults={"name": name, "description": description},
        )
    if Petition.objects.filter(slug="suspend-taliban-accounts").exists():
        return
    targets = [
        DecisionMaker.objects.get_or_create(
            organization=organization,
            name=name,
            defaults={"position": position, "email": email, "language": "en"},
        )[0]
        for name, position, email in [
            ("ExampleSocial Inc.", "Trust & Safety", "trust-safety@examplesocial.invalid"),
            ("Alex Example", "Owner of ExampleSocial", ""),
        ]
    ]
    now = timezone.now()
    petition = Petition(
        organization=organization,
        campaign=campaign,
        slug="suspend-taliban-accounts",
        goal=500,
        closing_at=now + timedelta(days=60),
        image=_demo_image(),
    )
    texts = {
        lang: dict(zip(("title", "summary", "story"), value, strict=True))
        for lang, value in PETITION.items()
    }
    petition_services.save_petition(petition, texts=texts, targets=targets)
    petition_services.submit_petition(petition, now=now - timedelta(days=31))
    petition_services.approve_petition(petition, now=now - timedelta(days=30))
    petition.refresh_from_db()
    rng = random.Random(7)  # noqa: S311 - demo data, not security.
    for number in range(SIGNATURES):
        # More signatures in recent days, as a campaign gathers pace.
        age = timedelta(days=30 * rng.random() ** 2, seconds=rng.randrange(86_400))
        petition_services.record_confirmed_signature(
            petition,
            petition_services.Signer(
                first_name=rng.choice(FIRST_NAMES),
                last_name="Demo",
                email=f"supporter{number}@demo.hamseda.invalid",
                country=rng.choices(COUNTRIES, WEIGHTS)[0],
                show_name=rng.random() < 0.4,
                keep_updated=rng.random() < 0.5,
                language=rng.choices(("en", "fa", "ps"), (45, 35, 20))[0],
            ),
            now=now - age,
        )
    _load_outcomes(petition, targets[0], now)
    _load_coalition(organization, campaign, petition, now)
    add_demo_pulse(campaign, now=now)


# The story's next steps: an update to the signers, milestones, and a first answer.
UPDATE = {
    "en": (
        "Thank you: 400 signatures in a month",
        "In one month more than 400 people from 22 countries have signed.\n\n"
        "On the day of action we will protest in San Francisco, London and Stockholm. "
        "Please share the petition with your family and friends.",
    ),
    "fa": (
        "سپاس: ۴۰۰ امضا در یک ماه",
        "در یک ماه بیش از ۴۰۰ نفر از ۲۲ کشور این دادخواست را امضا کرده‌اند.\n\n"
        "در روز اقدام در سانفرانسیسکو، لندن و استکهلم اعتراض خواهیم کرد. "
        "لطفاً دادخواست را با خانواده و دوستان خود شریک بسازید.",
    ),
    "ps": (
        "مننه: په یوه میاشت کې ۴۰۰ لاسلیکونه",
        "په یوه میاشت کې له ۲۲ هېوادونو څخه تر ۴۰۰ ډېرو کسانو دا عریضه لاسلیک کړې ده.\n\n"
        "د اقدام په ورځ به په سان فرانسسکو، لندن او سټاکهولم کې لاریون وکړو. "
        "مهرباني وکړئ عریضه له خپلې کورنۍ او ملګرو سره شریک کړئ.",
    ),
}
RESPONSE = (
    "Thank you for your petition. Our Trust & Safety team has received it and is "
    "reviewing the accounts it names against our policy on violent organisations. "
    "We will publish our decision here."
)


def _load_outcomes(petition: Petition, company: DecisionMaker, now) -> None:
    """A published update, three milestones (the first one passed) and the company's
    first answer, recorded by the organisers."""
    from hamseda.petitions import responses, thresholds, updates
    from hamseda.petitions.models import ThresholdAction

    update = updates.save_update(
        petition,
        texts={lang: {"title": title, "body": body} for lang, (title, body) in UPDATE.items()},
        now=now - timedelta(days=2),
    )
    updates.publish_update(update, now=now - timedelta(days=2))
    for count, action, description, addresses in [
        (100, ThresholdAction.RECORD, "The first hundred", ""),
        (
            1_000,
            ThresholdAction.ASK_RESPONSE,
            "ExampleSocial will be asked to respond",
            "",
        ),
        (
            10_000,
            ThresholdAction.NOTIFY,
            "The press will be told",
            "newsdesk@press.invalid",
        ),
    ]:
        thresholds.add_threshold(
            petition,
            count=count,
            action=action,
            description=description,
            notify_addresses=addresses,
            now=now - timedelta(days=30),
        )
    thresholds.check_thresholds(now=now - timedelta(days=12))
    responses.record_response(
        petition,
        decision_maker=company,
        body=RESPONSE,
        language="en",
        responded_on=(now - timedelta(days=1)).date(),
        recorded_by=None,
        now=now,
    )


# The coalition and its day of action: partners (placeholder groups) host two of the
# three protests; a press release tells journalists about them.
PARTNERS = [
    (
        "demo-women-network",
        "Demo Afghan Women's Network",
        "Afghan women in exile, organising since 2021.",
    ),
    (
        "demo-stockholm-exiles",
        "Demo Stockholm Exile Group",
        "Afghans in Sweden speaking up for those at home.",
    ),
]
DAY = {
    "en": ("Day of action: ban the Taliban from social media", "Three cities, one voice"),
    "fa": ("روز اقدام: طالبان را از شبکه‌های اجتماعی منع کنید", "سه شهر، یک صدا"),
    "ps": ("د اقدام ورځ: طالبان له ټولنیزو رسنیو منع کړئ", "درې ښارونه، یو غږ"),
}
SAFETY = {
    "en": "Cover your face if you fear being photographed. The organisers will not film the crowd.",
    "fa": "اگر از عکس‌برداری می‌ترسید، صورت خود را بپوشانید. برگزارکنندگان از جمعیت فیلم نمی‌گیرند.",
    "ps": "که له عکس اخیستلو وېرېږئ، خپل مخ پټ کړئ. تنظیموونکي د خلکو فلم نه اخلي.",
}
EVENTS = [
    # slug, city, country, venue, zone, start hour, latitude, longitude, host index
    # (None: the alliance), titles per language.
    (
        "san-francisco-protest",
        "San Francisco",
        "US",
        "Outside ExampleSocial HQ, Market Street",
        "America/Los_Angeles",
        12,
        "37.77490",
        "-122.41940",
        None,
        {
            "en": "Protest at ExampleSocial's headquarters",
            "fa": "اعتراض در برابر دفتر مرکزی اگزمپل‌سوشیال",
            "ps": "د اګزامپل‌سوشیال د مرکزي دفتر مخې ته لاریون",
        },
    ),
    (
        "london-vigil",
        "London",
        "GB",
        "Outside ExampleSocial UK, King's Cross",
        "Europe/London",
        17,
        "51.53080",
        "-0.12380",
        0,
        {
            "en": "Vigil outside ExampleSocial's London office",
            "fa": "شمع‌افروزی در برابر دفتر لندن اگزمپل‌سوشیال",
            "ps": "د اګزامپل‌سوشیال د لندن دفتر مخې ته شمعې بلول",
        },
    ),
    (
        "stockholm-rally",
        "Stockholm",
        "SE",
        "Sergels torg",
        "Europe/Stockholm",
        14,
        "59.33260",
        "18.06490",
        1,
        {
            "en": "Rally at Sergels torg",
            "fa": "گردهمایی در سرگلز تورگ",
            "ps": "په سرګلز تورګ کې غونډه",
        },
    ),
]
RELEASE = {
    "en": (
        "Protests in San Francisco, London and Stockholm ask ExampleSocial to ban the Taliban",
        "Afghan diaspora groups will protest on the same day in three cities.",
        "Afghan diaspora groups will protest outside ExampleSocial's offices in San Francisco, "
        "London and Stockholm. They ask the company to apply its own policy on violent "
        "organisations and suspend the Taliban's accounts.\n\n"
        "*This is a demo press release with placeholder names.*",
    ),
    "fa": (
        "اعتراض‌ها در سانفرانسیسکو، لندن و استکهلم از اگزمپل‌سوشیال می‌خواهند طالبان را منع کند",
        "گروه‌های افغان در تبعید در یک روز در سه شهر اعتراض می‌کنند.",
        "گروه‌های افغان در تبعید در برابر دفترهای اگزمپل‌سوشیال در سانفرانسیسکو، لندن و استکهلم "
        "اعتراض می‌کنند. آن‌ها از این شرکت می‌خواهند قانون خودش را دربارهٔ سازمان‌های خشونت‌آمیز "
        "اجرا کند و حساب‌های طالبان را مسدود کند.",
    ),
    "ps": (
        "په سان فرانسسکو، لندن او سټاکهولم کې لاریونونه له اګزامپل‌سوشیال غواړي چې طالبان منع کړي",
        "په بهر کې مېشتې افغان ډلې په یوه ورځ په درېیو ښارونو کې لاریون کوي.",
        "په بهر کې مېشتې افغان ډلې په سان فرانسسکو، لندن او سټاکهولم کې د اګزامپل‌سوشیال د دفترونو "
        "مخې ته لاریون کوي. دوی له دې شرکت غواړي چې د تاوتریخجن سازمانونو په اړه خپل قانون پلی "
        "کړي او د طالبانو حسابونه وتړي.",
    ),
}


def _load_coalition(
    organization: Organization, campaign: Campaign, petition: Petition, now
) -> None:
    """Two partner groups (with their own sealing keys, in var/keys), the petition
    co-hosted by the first, a day of action three weeks ahead with three protests, and
    a published press release with a quote."""
    from datetime import datetime as naive_datetime
    from datetime import time as clock_time
    from decimal import Decimal

    from hamseda.actions import services as actions
    from hamseda.campaigns import partners as coalition
    from hamseda.newsroom import services as newsroom

    partner_orgs = []
    for slug, name, description in PARTNERS:
        partner, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name})
        if not partner.public_key:
            key_file = settings.DATA_DIR / "keys" / f"{slug}.key"
            if key_file.exists():
                key_file.unlink()
            org_services.generate_sealing_key(partner, out=key_file)
        coalition.add_partner(campaign, partner, description=description, now=now)
        partner_orgs.append(partner)
    coalition.set_co_hosts(petition, partner_orgs[:1])

    day_date = (now + timedelta(days=21)).date()
    day = actions.save_day(
        campaign,
        slug="day-of-action",
        date=day_date,
        texts={
            lang: {"title": t, "theme": theme, "description": ""}
            for lang, (t, theme) in DAY.items()
        },
        now=now,
    )
    for slug, city, country, venue, zone, hour, lat, lon, host, titles in EVENTS:
        # A wall-clock time of the event's own zone; save_event makes it aware.
        start = naive_datetime.combine(day_date, clock_time(hour=hour))
        event = actions.save_event(
            day,
            slug=slug,
            host=organization if host is None else partner_orgs[host],
            city=city,
            country=country,
            venue=venue,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            time_zone=zone,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
            capacity=300,
            texts={
                lang: {"title": title, "safety_notes": SAFETY[lang], "what_to_bring": ""}
                for lang, title in titles.items()
            },
            now=now,
        )
        # Publishing an event publishes its day of action with it.
        actions.publish_event(event, now=now)

    author = newsroom.save_author(
        organization,
        name="Demo Press Officer",
        texts={"en": {"role": "Spokesperson", "bio": "Speaks for the demo alliance."}},
        now=now,
    )
    release = newsroom.save_release(
        campaign,
        slug="three-cities-protest",
        kind="press_release",
        author=author,
        texts={
            lang: {"title": title, "summary": summary, "body": body, "image_caption": ""}
            for lang, (title, summary, body) in RELEASE.items()
        },
        quotes=[
            {
                "language": "en",
                "text": "We are asking ExampleSocial to follow its own rules.",
                "speaker": "Demo Press Officer",
                "speaker_role": "Spokesperson",
            }
        ],
        now=now - timedelta(days=1),
    )
    newsroom.publish_release(release, now=now - timedelta(days=1))
