"""The organisers' kit design page: who gets in, validation, preview without saving,
saving through kit.services, and what happens to uploaded files."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from hamseda.campaigns.models import Campaign
from hamseda.kit import services
from hamseda.kit.content import design_key
from hamseda.kit.design import LAYOUTS, SIZES
from hamseda.orgs.models import Role
from hamseda.orgs.services import create_organizer
from tests.conftest import PASSWORD, make_petition

pytestmark = pytest.mark.django_db

VALID = {"colour": "#1f6f5c", "accent_colour": "#f2c14e", "kit_layout": "bold"}


@pytest.fixture
def campaign(petition) -> Campaign:
    return petition.campaign


@pytest.fixture
def editor(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what a service does once its transaction commits (deleting replaced files,
    forgetting cached image addresses), which the test's own transaction holds back:
    `with committed(): …`."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def design_url(campaign) -> str:
    return f"/organize/campaigns/{campaign.slug}/design"


def image_file(fmt="PNG", size=(300, 200), mode="RGBA", *, exif_gps=False, name="logo.png"):
    image = Image.new(mode, size, (200, 30, 30, 0) if mode == "RGBA" else "#c81e1e")
    if mode == "RGBA":
        image.paste((200, 30, 30, 255), (50, 50, 250, 150))
    out = io.BytesIO()
    extra = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make.
        exif[0x8825] = {1: "N", 2: (34.0, 31.0, 0.0)}  # GPS: somewhere in Kabul.
        extra["exif"] = exif.tobytes()
    image.save(out, format=fmt, **extra)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


def test_an_editor_sees_the_form_and_previews_of_every_size_and_language(editor, campaign):
    petition = campaign.petitions.get()
    response = editor.get(design_url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    for description in LAYOUTS.values():
        assert str(description) in html
    assert 'type="color"' in html
    for language in ("en", "fa"):
        for size, spec in SIZES.items():
            src = f"{design_url(campaign)}/preview/{petition.slug}/{size}-{language}.png"
            assert f'<img src="{src}" width="{spec.width}" height="{spec.height}"' in html
    assert "/design/preview/free-speech/card-ps.png" not in html


def test_the_preview_image_is_the_saved_design_for_drafts_too(editor, campaign, org):
    draft = make_petition(org.organization, "a-draft", open_=False)
    url = f"/organize/campaigns/{campaign.slug}/design/preview/{draft.slug}/square-fa.png"
    response = editor.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (1080, 1080)
    # Public addresses still refuse the draft.
    assert editor.get(f"/p/{draft.slug}/kit/square.png").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "design/preview/free-speech/huge-en.png",
        "design/preview/free-speech/card-xx.png",
        "design/preview/no-such-petition/card-en.png",
    ],
)
def test_unknown_previews_are_404(editor, campaign, path):
    assert editor.get(f"/organize/campaigns/{campaign.slug}/{path}").status_code == 404


def test_a_petition_of_another_campaign_is_not_previewed(editor, campaign, org):
    other = Campaign.objects.create(organization=org.organization, slug="other-campaign")
    url = f"/organize/campaigns/{other.slug}/design/preview/free-speech/card-en.png"
    assert editor.get(url).status_code == 404
    assert (
        editor.get(
            f"/organize/campaigns/{campaign.slug}/design/preview/free-speech/card-en.png"
        ).status_code
        == 200
    )


def test_only_editors_of_the_campaigns_organisation_get_in(client, campaign, org, outsider):
    url = design_url(campaign)
    assert client.get(url).status_code == 302  # To the login page.
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {**VALID, "action": "save"}).status_code == 404
    for role, status in [(Role.ANALYST, 403), (Role.MODERATOR, 403), (Role.ORGANIZER, 200)]:
        user = create_organizer(
            email=f"{role}@example.org", password=PASSWORD, organization=org.organization, role=role
        )
        client.force_login(user)
        assert client.get(url).status_code == status, role
    assert client.get("/organize/campaigns/no-such-campaign/design").status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("colour", "red"),
        ("colour", "#12345"),
        ("accent_colour", "#gggggg"),
        ("accent_colour", ""),
        ("kit_layout", "fancy"),
    ],
)
def test_bad_values_are_refused_with_a_message(editor, campaign, field, value):
    before = design_key(campaign)
    response = editor.post(design_url(campaign), {**VALID, field: value, "action": "save"})
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert response.context["form"].errors[field]
    campaign.refresh_from_db()
    assert design_key(campaign) == before


def test_preview_renders_the_unsaved_design_without_saving(editor, campaign):
    before = design_key(campaign)
    response = editor.post(
        design_url(campaign),
        {**VALID, "colour": "#7a1f5c", "kit_layout": "minimal", "action": "preview"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('src="data:image/jpeg;base64,') == len(SIZES) * 2  # en and fa.
    assert "not saved yet" in html
    campaign.refresh_from_db()
    assert design_key(campaign) == before
    assert campaign.colour == "#1f6f5c"


def test_poor_contrast_is_a_warning_not_an_error(editor, campaign):
    values = {**VALID, "colour": "#1f6f5c", "accent_colour": "#1f6f5d"}
    preview = editor.post(design_url(campaign), {**values, "action": "preview"})
    assert preview.status_code == 200
    assert "hard to tell apart" in preview.content.decode()
    saved = editor.post(design_url(campaign), {**values, "action": "save"}, follow=True)
    assert saved.status_code == 200
    assert "hard to tell apart" in saved.content.decode()
    campaign.refresh_from_db()
    assert campaign.accent_colour == "#1f6f5d"


def test_save_changes_the_design_and_the_public_images(editor, campaign, committed):
    petition = campaign.petitions.get()
    image_url = f"/p/{petition.slug}/kit/card.png"
    before = editor.get(image_url)["ETag"]
    with committed():
        response = editor.post(
            design_url(campaign),
            {
                "colour": "#0B3D91",
                "accent_colour": "#FFCC00",
                "kit_layout": "minimal",
                "eastern_digits": "on",
                "action": "save",
            },
        )
    assert response.status_code == 302
    assert response.url == f"{design_url(campaign)}?petition={petition.slug}"
    campaign.refresh_from_db()
    assert (campaign.colour, campaign.accent_colour) == ("#0b3d91", "#ffcc00")
    assert campaign.kit_layout == "minimal"
    assert campaign.eastern_digits is True
    # At once, although the address remembered its image for a few seconds.
    assert editor.get(image_url)["ETag"] != before


def test_a_logo_is_checked_reencoded_and_kept_transparent(editor, campaign):
    response = editor.post(
        design_url(campaign), {**VALID, "logo": image_file(exif_gps=True), "action": "save"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.logo.name.startswith("campaigns/logos/")
    assert "logo" not in campaign.logo.name.rsplit("/", 1)[1]  # A random name.
    with campaign.logo.open("rb") as handle, Image.open(handle) as stored:
        assert stored.format == "PNG"
        assert stored.mode == "RGBA"
        assert stored.getpixel((0, 0))[3] == 0
        assert not stored.getexif()
        data = handle.seek(0) or handle.read()
    assert b"SecretCam" not in data


def test_a_large_background_is_scaled_down(editor, campaign):
    big = image_file("JPEG", (3000, 2000), "RGB", name="protest.jpg")
    response = editor.post(
        design_url(campaign), {**VALID, "background": big, "kit_layout": "photo", "action": "save"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    with campaign.background.open("rb") as handle, Image.open(handle) as stored:
        assert max(stored.size) == 2400
        assert stored.format == "JPEG"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"not an image", "image/png"), "Upload a valid image"),
        (
            SimpleUploadedFile("logo.png", b"\x89PNG" + b"\0" * (5 * 1024 * 1024 + 1), "image/png"),
            "at most 5 MB",
        ),
    ],
)
def test_a_bad_logo_is_refused(editor, campaign, upload, message):
    response = editor.post(design_url(campaign), {**VALID, "logo": upload, "action": "save"})
    assert response.status_code == 400
    assert message in response.content.decode()
    campaign.refresh_from_db()
    assert not campaign.logo


def test_a_logo_chosen_for_preview_is_saved_by_save(editor, campaign):
    preview = editor.post(
        design_url(campaign), {**VALID, "logo": image_file(), "action": "preview"}
    )
    assert preview.status_code == 200
    token = preview.context["form"]["pending_logo"].value()
    assert len(token) == 32
    assert f'value="{token}"' in preview.content.decode()
    campaign.refresh_from_db()
    assert not campaign.logo  # Not yet.
    saved = editor.post(design_url(campaign), {**VALID, "pending_logo": token, "action": "save"})
    assert saved.status_code == 302
    campaign.refresh_from_db()
    assert campaign.logo


def test_someone_elses_pending_logo_is_not_used(client, editor, campaign, org):
    preview = editor.post(
        design_url(campaign), {**VALID, "logo": image_file(), "action": "preview"}
    )
    token = preview.context["form"]["pending_logo"].value()
    colleague = create_organizer(
        email="colleague@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.ORGANIZER,
    )
    client.force_login(colleague)
    client.post(design_url(campaign), {**VALID, "pending_logo": token, "action": "save"})
    campaign.refresh_from_db()
    assert not campaign.logo


def test_clearing_the_logo_removes_its_file(editor, campaign, committed):
    editor.post(design_url(campaign), {**VALID, "logo": image_file(), "action": "save"})
    campaign.refresh_from_db()
    storage, name = campaign.logo.storage, campaign.logo.name
    assert storage.exists(name)
    with committed():
        response = editor.post(
            design_url(campaign), {**VALID, "logo-clear": "on", "action": "save"}
        )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert not campaign.logo
    assert not storage.exists(name)


def test_replacing_the_logo_removes_the_old_file(campaign, owner, committed):
    values = {"colour": "#1f6f5c", "accent_colour": "#f2c14e", "layout": "bold"}
    services.update_design(campaign, **values, eastern_digits=False, logo=image_file(), by=owner)
    first = campaign.logo.name
    with committed():
        services.update_design(
            campaign, **values, eastern_digits=False, logo=image_file(), by=owner
        )
    assert campaign.logo.name != first
    assert not campaign.logo.storage.exists(first)
    assert campaign.logo.storage.exists(campaign.logo.name)


def test_the_service_refuses_an_unknown_layout(campaign, owner):
    with pytest.raises(ValueError, match="unknown layout"):
        services.update_design(
            campaign,
            colour="#1f6f5c",
            accent_colour="#f2c14e",
            layout="fancy",
            eastern_digits=False,
            by=owner,
        )
