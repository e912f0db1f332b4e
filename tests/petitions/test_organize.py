"""The organiser and moderator pages: who may see and do what, and the whole life of a
petition through the pages (write, preview, submit, reject, resubmit, approve, close,
win), its live numbers, and refused input.

Personas (tests/conftest.py): `owner`, `organizer`, `moderator` and `analyst` of the
petition's organisation; `outsider`, the owner of another organisation; `stranger`, a
logged-in user of no organisation.
"""

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from hamseda.orgs import services as org_services
from hamseda.orgs.models import Role
from hamseda.petitions import services
from hamseda.petitions.countries import country_name
from hamseda.petitions.models import DecisionMaker, Petition, PetitionState
from hamseda.petitions.organize_forms import MAX_IMAGE_BYTES
from tests.conftest import PASSWORD, confirmation_link, make_org, make_petition, run_tasks, signer

LOGIN = reverse("account_login")


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _english():
    """A request to /fa/… leaves Dari active in this thread (LocaleMiddleware activates it
    and nothing deactivates it), which would make reverse() in the next test say /fa/."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def organizer(org):
    return org_services.create_organizer(
        email="organizer@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.ORGANIZER,
    )


@pytest.fixture
def stranger(db):
    return get_user_model().objects.create_user("stranger@example.org", password=PASSWORD)


@pytest.fixture
def draft(org):
    return make_petition(org.organization, "draft-petition", open_=False)


@pytest.fixture
def submitted(org):
    petition = make_petition(org.organization, "submitted-petition", open_=False)
    return services.submit_petition(petition)


@pytest.fixture
def uploads(db):
    """Deletes the images this test stored (in the real MEDIA_ROOT, which /media/ serves).

    Only the files of this test's petitions: other test processes share the folder.
    """
    yield
    for petition in Petition.objects.exclude(image=""):
        petition.image.storage.delete(petition.image.name)


def png(width: int = 40, height: int = 20, colour: str = "teal") -> SimpleUploadedFile:
    out = BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return SimpleUploadedFile("banner.png", out.getvalue(), content_type="image/png")


def jpeg_with_location() -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8825] = {1: "N", 2: (34.0, 31.0, 12.0)}  # GPS: somewhere in Kabul
    out = BytesIO()
    Image.new("RGB", (30, 30), "red").save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("IMG_2041 at my house.jpg", out.getvalue(), content_type="image/jpeg")


def petition_form(org, **overrides) -> dict:
    """A complete, valid create form: English, Dari and Pashto texts."""
    campaign = (
        org.organization.campaigns.first()
        or make_petition(org.organization, "seed-petition", open_=False).campaign
    )
    data = {
        "org": org.organization.slug,
        "slug": "ban-terror-accounts",
        "campaign": str(campaign.pk),
        "default_language": "en",
        "goal": "5000",
        "closing_at": "2099-03-01T12:00",
        "new_targets": "Jane Doe, Chief Executive\nThe Social Network",
        "text-en-title": "Suspend the terror accounts",
        "text-en-summary": "They use the network to threaten women.",
        "text-en-story": "Since **2021** the group has used the network.",
        "text-fa-title": "حساب‌های تروریستی را مسدود کنید",
        "text-fa-summary": "آنها از شبکه برای تهدید زنان استفاده می‌کنند.",
        "text-fa-story": "از سال ۲۰۲۱ این گروه از شبکه استفاده کرده است.",
        "text-ps-title": "د ترهګرو حسابونه وتړئ",
        "text-ps-summary": "دوی د ښځو ګواښلو لپاره شبکه کاروي.",
        "text-ps-story": "له ۲۰۲۱ راهیسې دا ډله شبکه کاروي.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def logged_in(client, user):
    client.force_login(user)
    return client


def url(name: str, *args) -> str:
    with translation.override("en"):
        return reverse(f"organize:{name}", args=args)


# --- who may do what -------------------------------------------------------------------

# (method, url name, needs a petition slug)
PETITION_URLS = [
    ("get", "petition", ()),
    ("get", "edit", ()),
    ("post", "edit", ()),
    ("get", "preview", ()),
    ("post", "submit", ()),
    ("post", "moderate", ("approve",)),
    ("post", "moderate", ("reject",)),
    ("post", "moderate", ("close",)),
    ("post", "moderate", ("won",)),
]
ORG_URLS = [("get", "dashboard"), ("get", "create"), ("post", "create"), ("get", "queue")]
EVERY_URL = [(m, n, ("draft-petition", *a)) for m, n, a in PETITION_URLS] + [
    (m, n, ()) for m, n in ORG_URLS
]


@pytest.mark.parametrize(("method", "name", "args"), EVERY_URL)
def test_it_sends_an_anonymous_user_to_the_login_page(client, draft, method, name, args):
    response = getattr(client, method)(url(name, *args))
    assert response.status_code == 302
    assert response.url.startswith(f"{LOGIN}?next=")
    draft.refresh_from_db()
    assert draft.state == PetitionState.DRAFT


@pytest.mark.parametrize(("method", "name", "args"), PETITION_URLS)
def test_it_hides_a_petition_from_another_organisation(client, draft, outsider, method, name, args):
    response = getattr(logged_in(client, outsider), method)(url(name, draft.slug, *args))
    assert response.status_code == 404
    assert "Suspend the accounts" not in response.text
    draft.refresh_from_db()
    assert draft.state == PetitionState.DRAFT


@pytest.mark.parametrize(("method", "name", "args"), PETITION_URLS)
def test_it_hides_a_petition_from_a_user_of_no_organisation(
    client, draft, stranger, method, name, args
):
    response = getattr(logged_in(client, stranger), method)(url(name, draft.slug, *args))
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "name"), ORG_URLS)
def test_it_refuses_a_user_of_no_organisation(client, stranger, method, name):
    response = getattr(logged_in(client, stranger), method)(url(name))
    assert response.status_code == 403


def test_an_outsider_sees_only_their_own_petitions(client, petition, draft, outsider):
    logged_in(client, outsider)
    response = client.get(url("dashboard"))
    assert response.status_code == 200
    assert "Suspend the accounts" not in response.text
    assert "No petitions yet." in response.text
    # They moderate their own organisation; ours is not in their queue.
    services.submit_petition(make_petition(petition.organization, "queued-petition", open_=False))
    response = client.get(url("queue"))
    assert response.status_code == 200
    assert "Suspend the accounts" not in response.text
    assert "queued-petition" not in response.text
    assert "Nothing is waiting." in response.text


def test_an_outsider_cannot_create_in_another_organisation(client, org, outsider):
    logged_in(client, outsider)
    assert client.get(url("create") + "?org=alliance").status_code == 404
    response = client.post(url("create"), petition_form(org))
    assert response.status_code == 404
    assert not Petition.objects.filter(slug="ban-terror-accounts").exists()


@pytest.mark.parametrize("name", ["petition", "preview"])
def test_an_analyst_sees_numbers_and_the_preview(client, draft, analyst, name):
    response = logged_in(client, analyst).get(url(name, draft.slug))
    assert response.status_code == 200
    assert "Suspend the accounts" in response.text


def test_an_analyst_sees_the_dashboard_without_the_create_button(client, draft, analyst):
    response = logged_in(client, analyst).get(url("dashboard"))
    assert response.status_code == 200
    assert "Suspend the accounts" in response.text
    assert url("create") not in response.text
    assert url("queue") not in response.text  # No moderation link for an analyst.


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "create", ()),
        ("post", "create", ()),
        ("get", "edit", ("draft-petition",)),
        ("post", "edit", ("draft-petition",)),
        ("post", "submit", ("draft-petition",)),
        ("get", "queue", ()),
        ("post", "moderate", ("submitted-petition", "approve")),
        ("post", "moderate", ("submitted-petition", "reject")),
        ("post", "moderate", ("free-speech", "close")),
        ("post", "moderate", ("free-speech", "won")),
    ],
)
def test_an_analyst_cannot_change_anything(
    client, org, petition, draft, submitted, analyst, method, name, args
):
    response = getattr(logged_in(client, analyst), method)(
        url(name, *args), {"reason": "no", **petition_form(org)} if method == "post" else None
    )
    assert response.status_code == 403
    states = dict(Petition.objects.values_list("slug", "state"))
    assert states["draft-petition"] == PetitionState.DRAFT
    assert states["submitted-petition"] == PetitionState.SUBMITTED
    assert states["free-speech"] == PetitionState.OPEN
    assert "ban-terror-accounts" not in states


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "create", ()),
        ("post", "create", ()),
        ("get", "edit", ("draft-petition",)),
        ("post", "edit", ("draft-petition",)),
        ("post", "submit", ("draft-petition",)),
    ],
)
def test_a_moderator_cannot_write_petitions(client, org, draft, moderator, method, name, args):
    response = getattr(logged_in(client, moderator), method)(
        url(name, *args), petition_form(org) if method == "post" else None
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == PetitionState.DRAFT
    assert not Petition.objects.filter(slug="ban-terror-accounts").exists()


@pytest.mark.parametrize(
    ("slug", "action", "state"),
    [
        ("submitted-petition", "approve", PetitionState.SUBMITTED),
        ("submitted-petition", "reject", PetitionState.SUBMITTED),
        ("free-speech", "close", PetitionState.OPEN),
        ("free-speech", "won", PetitionState.OPEN),
    ],
)
def test_an_organizer_cannot_moderate(client, petition, submitted, organizer, slug, action, state):
    logged_in(client, organizer)
    assert client.get(url("queue")).status_code == 403
    response = client.post(url("moderate", slug, action), {"reason": "Not good enough."})
    assert response.status_code == 403
    assert Petition.objects.get(slug=slug).state == state


@pytest.mark.parametrize(
    ("slug", "action", "state"),
    [
        ("submitted-petition", "approve", PetitionState.OPEN),
        ("submitted-petition", "reject", PetitionState.REJECTED),
        ("free-speech", "close", PetitionState.CLOSED),
        ("free-speech", "won", PetitionState.WON),
    ],
)
def test_a_moderator_moderates(client, petition, submitted, moderator, slug, action, state):
    logged_in(client, moderator)
    response = client.post(url("moderate", slug, action), {"reason": "Not good enough."})
    assert response.status_code == 302
    assert response.url == url("queue")
    assert Petition.objects.get(slug=slug).state == state


def test_an_organizer_creates_edits_and_submits(client, org, organizer, uploads):
    logged_in(client, organizer)
    assert client.get(url("create")).status_code == 200
    response = client.post(url("create"), petition_form(org))
    assert response.status_code == 302
    petition = Petition.objects.get(slug="ban-terror-accounts")
    assert petition.created_by == organizer
    response = client.post(
        url("edit", petition.slug), petition_form(org, **{"text-en-title": "A better title"})
    )
    assert response.status_code == 302
    assert client.post(url("submit", petition.slug)).status_code == 302
    petition.refresh_from_db()
    assert petition.state == PetitionState.SUBMITTED
    assert petition.translations.get(language="en").title == "A better title"


def test_moderation_actions_refuse_get_and_unknown_actions(client, submitted, moderator):
    logged_in(client, moderator)
    assert client.get(url("moderate", submitted.slug, "approve")).status_code == 405
    assert client.get(url("submit", submitted.slug)).status_code == 405
    assert client.post(url("moderate", submitted.slug, "delete")).status_code == 404
    submitted.refresh_from_db()
    assert submitted.state == PetitionState.SUBMITTED


def test_an_unknown_petition_is_a_404(client, owner):
    logged_in(client, owner)
    assert client.get(url("petition", "no-such-petition")).status_code == 404
    assert client.post(url("moderate", "no-such-petition", "approve")).status_code == 404


# --- the whole life of a petition, through the pages ----------------------------------


def test_a_petition_goes_from_draft_to_won_through_the_pages(
    client, org, owner, moderator, uploads
):
    # Log in through the login page, with the e-mail as user name.
    response = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == url("dashboard")
    response = client.get(url("dashboard"))
    assert response.status_code == 200
    assert url("create") in response.text

    form = client.get(url("create"))
    assert form.status_code == 200
    for field in ["slug", "goal", "closing_at", "image", "new_targets", "text-fa-title"]:
        assert f'name="{field}"' in form.text
    assert 'enctype="multipart/form-data"' in form.text

    response = client.post(url("create"), {**petition_form(org), "image": png()})
    assert response.status_code == 302
    petition = Petition.objects.get(slug="ban-terror-accounts")
    assert response.url == url("petition", petition.slug)
    assert petition.state == PetitionState.DRAFT
    assert petition.goal == 5000
    assert petition.closing_at.isoformat() == "2099-03-01T12:00:00+00:00"
    assert sorted(petition.languages) == ["en", "fa", "ps"]
    assert sorted(str(t) for t in petition.targets.all()) == [
        "Jane Doe, Chief Executive",
        "The Social Network",
    ]
    # The image lands under MEDIA_ROOT (in the data folder) and /media/ serves it.
    stored = Path(petition.image.path)
    assert stored.is_relative_to(settings.MEDIA_ROOT)
    assert Path(settings.MEDIA_ROOT).is_relative_to(settings.DATA_DIR)
    assert stored.exists()
    assert "banner" not in stored.name  # Renamed: the organiser's file name is not kept.
    served = client.get(petition.image.url)
    assert served.status_code == 200
    assert Image.open(BytesIO(b"".join(served.streaming_content))).size == (40, 20)

    page = client.get(url("petition", petition.slug))
    assert "Suspend the terror accounts" in page.text
    assert "Saved." in page.text

    # Preview shows the text in each language, the image and no sign form.
    preview = client.get(url("preview", petition.slug))
    assert preview.status_code == 200
    assert "Suspend the terror accounts" in preview.text
    assert "<strong>2021</strong>" in preview.text
    assert petition.image.url in preview.text
    assert "Jane Doe" in preview.text
    assert 'name="email"' not in preview.text
    assert (
        "حساب‌های تروریستی را مسدود کنید" in client.get("/fa" + url("preview", petition.slug)).text
    )
    assert "د ترهګرو حسابونه وتړئ" in client.get("/ps" + url("preview", petition.slug)).text
    # Not public yet.
    assert client.get(petition.get_absolute_url()).status_code == 404

    response = client.post(url("submit", petition.slug), follow=True)
    assert "Submitted for moderation." in response.text
    petition.refresh_from_db()
    assert petition.state == PetitionState.SUBMITTED
    # Submitted: the wording is frozen.
    response = client.get(url("edit", petition.slug), follow=True)
    assert "Only a draft or a rejected petition can be edited." in response.text

    # The moderator finds it in the queue.
    mod = client.__class__()
    mod.force_login(moderator)
    queue = mod.get(url("queue"))
    assert queue.status_code == 200
    assert "Suspend the terror accounts" in queue.text
    assert url("moderate", petition.slug, "approve") in queue.text

    # A rejection needs a reason.
    response = mod.post(url("moderate", petition.slug, "reject"), {"reason": "   "})
    assert response.status_code == 400
    assert "A rejection needs a reason" in response.text
    petition.refresh_from_db()
    assert petition.state == PetitionState.SUBMITTED

    reason = "Please name the company's exact policy that the accounts break."
    response = mod.post(url("moderate", petition.slug, "reject"), {"reason": reason}, follow=True)
    assert "Rejected." in response.text
    petition.refresh_from_db()
    assert petition.state == PetitionState.REJECTED

    # The organiser sees why, edits and submits again.
    page = client.get(url("petition", petition.slug))
    assert "Rejected because:" in page.text
    assert "Please name the company&#x27;s exact policy" in page.text
    assert url("edit", petition.slug) in page.text
    edit = client.get(url("edit", petition.slug))
    assert edit.status_code == 200
    assert "Suspend the terror accounts" in edit.text
    assert 'value="2099-03-01T12:00"' in edit.text  # The datetime-local input keeps its value.
    jane = DecisionMaker.objects.get(name="Jane Doe")
    response = client.post(
        url("edit", petition.slug),
        petition_form(
            org,
            new_targets="",
            targets=str(jane.pk),
            **{"text-en-story": "The group breaks policy 4.2 of the network."},
        ),
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.image  # Kept when no new image is uploaded.
    assert [t.name for t in petition.targets.all()] == ["Jane Doe"]
    assert client.post(url("submit", petition.slug)).status_code == 302
    petition.refresh_from_db()
    assert petition.state == PetitionState.SUBMITTED
    assert petition.rejection_reason == ""

    # Approved: it opens, and the public page works.
    response = mod.post(url("moderate", petition.slug, "approve"), follow=True)
    assert "Approved: the petition is open." in response.text
    petition.refresh_from_db()
    assert petition.state == PetitionState.OPEN
    assert petition.opened_at is not None
    public = client.get(petition.get_absolute_url())
    assert public.status_code == 200
    assert "policy 4.2" in public.text
    assert 'name="email"' in public.text

    # An open petition keeps its wording.
    response = client.post(
        url("edit", petition.slug), petition_form(org, **{"text-en-title": "Changed!"}), follow=True
    )
    assert "Only a draft or a rejected petition can be edited." in response.text
    assert petition.translations.get(language="en").title == "Suspend the terror accounts"
    response = client.post(url("submit", petition.slug), follow=True)
    assert "This petition cannot be submitted now." in response.text

    # Transitions that are not allowed: a message, not a 500.
    response = mod.post(url("moderate", petition.slug, "approve"), follow=True)
    assert response.status_code == 200
    assert "not possible in the petition" in response.text
    response = mod.post(
        url("moderate", petition.slug, "reject"), {"reason": "Too late."}, follow=True
    )
    assert "not possible in the petition" in response.text

    response = mod.post(url("moderate", petition.slug, "close"), follow=True)
    assert "Closed." in response.text
    petition.refresh_from_db()
    assert petition.state == PetitionState.CLOSED
    assert "no longer accepts signatures" in client.get(petition.get_absolute_url()).text
    response = mod.post(url("moderate", petition.slug, "close"), follow=True)
    assert "not possible in the petition" in response.text

    response = mod.post(url("moderate", petition.slug, "won"), follow=True)
    assert "Marked as won." in response.text
    petition.refresh_from_db()
    assert petition.state == PetitionState.WON
    assert "This petition has won." in client.get(petition.get_absolute_url()).text
    response = mod.post(url("moderate", petition.slug, "won"), follow=True)
    assert "not possible in the petition" in response.text


def test_a_moderator_can_act_from_the_petition_page(client, submitted, moderator):
    logged_in(client, moderator)
    page = client.get(url("petition", submitted.slug))
    assert url("moderate", submitted.slug, "approve") in page.text
    assert url("edit", submitted.slug) not in page.text
    response = client.post(url("moderate", submitted.slug, "approve"), {"return_to": "petition"})
    assert response.url == url("petition", submitted.slug)
    page = client.get(url("petition", submitted.slug))
    assert url("moderate", submitted.slug, "close") in page.text
    assert url("moderate", submitted.slug, "won") in page.text


def test_the_owner_may_write_and_moderate(client, org, owner, uploads):
    logged_in(client, owner)
    client.post(url("create"), petition_form(org))
    petition = Petition.objects.get(slug="ban-terror-accounts")
    client.post(url("submit", petition.slug))
    client.post(url("moderate", petition.slug, "approve"))
    petition.refresh_from_db()
    assert petition.state == PetitionState.OPEN


def test_a_member_of_two_organisations_chooses_where_to_create(client, org, owner):
    second = make_org("second-org")
    org_services.create_organizer(
        email=owner.email, password=PASSWORD, organization=second.organization
    )
    owner.refresh_from_db()  # create_organizer set the password again.
    logged_in(client, owner)
    response = client.get(url("create"))
    assert response.status_code == 200
    assert "?org=alliance" in response.text
    assert "?org=second-org" in response.text
    response = client.get(url("create") + "?org=second-org")
    assert response.status_code == 200
    assert 'value="second-org"' in response.text


def test_the_image_is_stored_without_its_metadata(client, org, owner, uploads):
    logged_in(client, owner)
    response = client.post(url("create"), {**petition_form(org), "image": jpeg_with_location()})
    assert response.status_code == 302
    petition = Petition.objects.get(slug="ban-terror-accounts")
    stored = Path(petition.image.path)
    assert stored.suffix == ".jpg"
    assert "IMG_2041" not in stored.name
    data = stored.read_bytes()
    assert b"SecretCameraMaker" not in data
    assert not Image.open(BytesIO(data)).getexif()


def test_replacing_the_image_deletes_the_old_file(client, org, owner, uploads):
    logged_in(client, owner)
    client.post(url("create"), {**petition_form(org), "image": png()})
    petition = Petition.objects.get(slug="ban-terror-accounts")
    first = Path(petition.image.path)
    client.post(url("edit", petition.slug), {**petition_form(org), "image": png(colour="red")})
    petition.refresh_from_db()
    assert Path(petition.image.path) != first
    assert Path(petition.image.path).exists()
    assert not first.exists()


# --- live numbers ---------------------------------------------------------------------


def test_the_numbers_page_shows_live_counts_and_no_personal_data(
    client, petition, analyst, outbox, now
):
    people = [
        signer(1, country="SE", first_name="Zarghuna", last_name="Uniqueone", show_name=True),
        signer(2, country="SE", last_name="Uniquetwo"),
        signer(3, country="AF", last_name="Uniquethree"),
        signer(4, country="GB", last_name="Uniquefour"),
    ]
    for person in people:
        services.sign_petition(petition, person, now=now)
    run_tasks()
    tokens = [confirmation_link(m).rsplit("/", 1)[1] for m in outbox]
    for token in tokens[:3]:  # Three confirmed (SE, SE, AF); GB still pending.
        assert services.confirm_signature(petition, token, now=now) == "confirmed"

    logged_in(client, analyst)
    page = client.get(url("petition", petition.slug))
    assert page.status_code == 200
    text = page.text
    assert "<dt>Confirmed</dt><dd>3</dd>" in text
    assert "<dt>Pending confirmation</dt><dd>1</dd>" in text
    assert "<dt>Countries</dt><dd>2</dd>" in text
    assert '<td><abbr title="SE">Sweden</abbr></td><td>2</td>' in text
    assert '<td><abbr title="AF">Afghanistan</abbr></td><td>1</td>' in text
    assert "United Kingdom" not in text  # Pending signatures are not counted by country.
    assert now.date().isoformat() in text  # Over time: today's confirmations.
    # Dari country names on the Dari page.
    assert country_name("SE", "fa") in client.get("/fa" + url("petition", petition.slug)).text

    # Counts only: no names, e-mails or anything that makes a list of people.
    for page_url in [
        url("dashboard"),
        url("petition", petition.slug),
        url("preview", petition.slug),
    ]:
        body = client.get(page_url).text
        for person in people:
            assert person.last_name not in body
            assert person.email not in body
        assert "Zarghuna" not in body


def test_the_numbers_page_keeps_a_running_total_over_days(client, petition, owner, now):
    for day in range(3):
        services.record_confirmed_signature(
            petition, signer(day, country="DE"), now=now - timedelta(days=2 - day)
        )
    services.record_confirmed_signature(petition, signer(9, country="DE"), now=now)
    page = logged_in(client, owner).get(url("petition", petition.slug)).text
    assert page.count('class="bar"') == 3
    assert f"<td>{now.date().isoformat()}</td>" in page
    assert "<td>4</td>" in page  # Running total on the last day.


def test_the_dashboard_lists_counts_per_petition(client, petition, draft, owner, now):
    services.record_confirmed_signature(petition, signer(1), now=now)
    page = logged_in(client, owner).get(url("dashboard")).text
    assert "Open" in page
    assert "Draft" in page
    assert "<td>1</td>" in page


# --- refused input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"goal": "a lot"}, "Enter a whole number."),
        ({"goal": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"goal": "-5"}, "Ensure this value is greater than or equal to 1."),
        ({"goal": "1" + "0" * 30}, "Ensure this value is less than or equal to"),
        ({"goal": ""}, "This field is required."),
        ({"closing_at": "next tuesday"}, "Enter a valid date/time."),
        ({"closing_at": "2099-02-31T10:00"}, "Enter a valid date/time."),
        ({"closing_at": "2001-01-01T10:00"}, "The closing date must be in the future."),
        ({"slug": ""}, "This field is required."),
        ({"slug": "has spaces/and slashes"}, "Enter a valid “slug”"),
        ({"slug": "x" * 81}, "Ensure this value has at most 80 characters"),
        ({"default_language": "xx"}, "Select a valid choice."),
        ({"default_language": "fa", "text-fa-title": ""}, "Fill in the title, summary"),
        ({"campaign": "999999"}, "Select a valid choice."),
        ({"campaign": "not-a-number"}, "Select a valid choice."),
        ({"targets": "abc"}, "is not a valid value"),
        ({"targets": "999999"}, "Select a valid choice."),
        ({"new_targets": "N" * 201}, "200 characters at most"),
        ({"new_targets": "\n".join(f"Person {i}" for i in range(21))}, "at most 20"),
        ({"new_targets": "x" * 6000}, "at most 5000 characters"),
        ({"text-en-title": "T" * 201}, "Ensure this value has at most 200 characters"),
        ({"text-en-summary": "S" * 501}, "Ensure this value has at most 500 characters"),
        ({"text-en-story": "S" * 20001}, "Ensure this value has at most 20000 characters"),
        ({"text-fa-title": "ع" * 300}, "Ensure this value has at most 200 characters"),
        ({"text-ps-story": ""}, "Fill in the title, summary and story together."),
        (
            {"text-en-title": "", "text-en-summary": "", "text-en-story": ""},
            "Write the title, summary and story in the main language.",
        ),
        ({"text-en-title": "Nul\x00byte"}, "Null characters are not allowed."),
    ],
)
def test_the_create_form_refuses_bad_input_with_a_message(client, org, owner, overrides, message):
    logged_in(client, owner)
    response = client.post(url("create"), petition_form(org, **overrides))
    assert response.status_code == 400
    assert message in response.text
    assert "Please correct the marked fields." in response.text
    assert not Petition.objects.filter(slug="ban-terror-accounts").exists()
    assert not DecisionMaker.objects.filter(name="Jane Doe").exists()


def test_a_taken_slug_is_a_form_error(client, org, petition, owner):
    response = logged_in(client, owner).post(url("create"), petition_form(org, slug=petition.slug))
    assert response.status_code == 400
    assert "already exists" in response.text
    # Case does not make a new address.
    response = client.post(url("create"), petition_form(org, slug=petition.slug.upper()))
    assert response.status_code == 400
    assert "already exists" in response.text


def test_a_campaign_of_another_organisation_is_refused(client, org, owner):
    other = make_org("rival")
    rival_campaign = make_petition(other.organization, "rival-petition").campaign
    response = logged_in(client, owner).post(
        url("create"), petition_form(org, campaign=str(rival_campaign.pk))
    )
    assert response.status_code == 400
    assert "Select a valid choice." in response.text


def test_a_file_that_is_not_an_image_is_refused(client, org, owner, uploads):
    fake = SimpleUploadedFile("photo.png", b"#!/bin/sh\necho not a picture\n", "image/png")
    response = logged_in(client, owner).post(url("create"), {**petition_form(org), "image": fake})
    assert response.status_code == 400
    assert "Upload a valid image." in response.text
    assert not Petition.objects.filter(slug="ban-terror-accounts").exists()


def test_an_image_over_5_mb_is_refused(client, org, owner, uploads):
    # Random pixels do not compress: a real PNG of just over 5 MB.
    import os

    side = 1400
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = BytesIO()
    noise.save(out, format="PNG", compress_level=0)
    assert out.tell() > MAX_IMAGE_BYTES
    big = SimpleUploadedFile("big.png", out.getvalue(), "image/png")
    response = logged_in(client, owner).post(url("create"), {**petition_form(org), "image": big})
    assert response.status_code == 400
    assert "The image is too large: at most 5 MB" in response.text
    assert not Petition.objects.filter(slug="ban-terror-accounts").exists()


def test_an_image_in_an_unusual_format_is_refused(client, org, owner, uploads):
    out = BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="TIFF")
    tiff = SimpleUploadedFile("scan.png", out.getvalue(), "image/png")
    response = logged_in(client, owner).post(url("create"), {**petition_form(org), "image": tiff})
    assert response.status_code == 400
    assert "Please upload a JPEG, PNG, WebP or GIF image." in response.text


def test_an_image_with_too_many_pixels_is_refused(client, org, owner, uploads):
    out = BytesIO()
    Image.new("1", (8000, 6000)).save(out, format="PNG")  # Tiny file, huge bitmap.
    bomb = SimpleUploadedFile("bomb.png", out.getvalue(), "image/png")
    response = logged_in(client, owner).post(url("create"), {**petition_form(org), "image": bomb})
    assert response.status_code == 400
    assert "at most 40 megapixels" in response.text


def test_a_huge_request_is_refused_with_a_400(client, org, owner):
    data = petition_form(org, **{"text-en-story": "x" * 400_000})
    response = logged_in(client, owner).post(url("create"), data)
    assert response.status_code == 400
    assert not Petition.objects.filter(slug="ban-terror-accounts").exists()


def test_the_edit_form_refuses_bad_input_and_keeps_the_petition(client, org, draft, owner):
    response = logged_in(client, owner).post(
        url("edit", draft.slug), petition_form(org, slug=draft.slug, goal="many")
    )
    assert response.status_code == 400
    assert "Enter a whole number." in response.text
    draft.refresh_from_db()
    assert draft.goal == 100
    assert draft.translations.get(language="en").title == "Suspend the accounts"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "This field is required."),
        ("x" * 2001, "Ensure this value has at most 2000 characters"),
        ("Nul\x00", "Null characters are not allowed."),
    ],
)
def test_the_reject_form_refuses_bad_input(client, submitted, moderator, reason, message):
    response = logged_in(client, moderator).post(
        url("moderate", submitted.slug, "reject"), {"reason": reason}
    )
    assert response.status_code == 400
    assert message in response.text
    assert "A rejection needs a reason" in response.text
    submitted.refresh_from_db()
    assert submitted.state == PetitionState.SUBMITTED


def test_submitting_a_petition_that_is_already_open_gives_a_message(client, petition, owner):
    response = logged_in(client, owner).post(url("submit", petition.slug), follow=True)
    assert response.status_code == 200
    assert "This petition cannot be submitted now." in response.text


def test_approving_without_a_sealing_key_says_why(client, submitted, moderator):
    organization = submitted.organization
    organization.public_key = ""
    organization.save()
    response = logged_in(client, moderator).post(
        url("moderate", submitted.slug, "approve"), follow=True
    )
    assert response.status_code == 200
    assert "no sealing key yet" in response.text
    submitted.refresh_from_db()
    assert submitted.state == PetitionState.SUBMITTED


@pytest.mark.parametrize(
    ("image_format", "mode", "suffix"),
    [
        ("GIF", "P", ".png"),
        ("WEBP", "RGBA", ".webp"),
        ("JPEG", "CMYK", ".jpg"),
        ("PNG", "LA", ".png"),
    ],
)
def test_common_image_formats_are_accepted(client, org, owner, uploads, image_format, mode, suffix):
    out = BytesIO()
    Image.new(mode, (12, 8)).save(out, format=image_format)
    upload = SimpleUploadedFile(f"picture.{image_format.lower()}", out.getvalue())
    response = logged_in(client, owner).post(url("create"), {**petition_form(org), "image": upload})
    assert response.status_code == 302
    stored = Path(Petition.objects.get(slug="ban-terror-accounts").image.path)
    assert stored.suffix == suffix
    assert Image.open(stored).size == (12, 8)
