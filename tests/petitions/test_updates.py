"""Updates on a petition: the services' rules, the organisers' pages (write, preview,
publish, unpublish, delete, pictures) and the public pages in English, Dari and Pashto.

Who may open the organiser pages is the permission matrix's job (tests/test_permissions.py);
here: what each page does, and refused input.
"""

from io import BytesIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from hamseda.mail import mailouts
from hamseda.petitions import services, updates
from hamseda.petitions.models import Update, UpdateTranslation
from hamseda.petitions.organize_forms import reencode_image
from tests.conftest import make_petition, signer

EN = {"en": {"title": "We met the company", "body": "They **listened**."}}
FA = {"fa": {"title": "با شرکت دیدار کردیم", "body": "آنها **گوش دادند**."}}


@pytest.fixture(autouse=True)
def _english():
    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture
def uploads(db):
    """Deletes the pictures this test stored (MEDIA_ROOT is shared by test processes)."""
    yield
    for update in Update.objects.exclude(image=""):
        update.image.storage.delete(update.image.name)


def png(colour: str = "teal") -> SimpleUploadedFile:
    out = BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, format="PNG")
    return SimpleUploadedFile("banner.png", out.getvalue(), content_type="image/png")


def jpeg_with_location() -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    exif[0x8825] = {1: "N", 2: (34.0, 31.0, 12.0)}
    out = BytesIO()
    Image.new("RGB", (30, 30), "red").save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("IMG_2041 at my house.jpg", out.getvalue(), content_type="image/jpeg")


def published(petition, texts=None, *, now=None) -> Update:
    update = updates.save_update(petition, texts=texts or {**EN, **FA}, now=now)
    return updates.publish_update(update, now=now)


def organize(name: str, *args) -> str:
    return reverse(f"updates:{name}", args=args)


def text_form(**texts) -> dict:
    """POST data for the edit page: text-<lang>-title / -body."""
    data = {"action": "save"}
    for language, (title, body) in texts.items():
        data[f"text-{language}-title"] = title
        data[f"text-{language}-body"] = body
    return data


# --- services ---------------------------------------------------------------------------


def test_it_creates_a_draft_in_two_languages(petition, owner):
    update = updates.save_update(petition, texts={**EN, **FA}, created_by=owner)
    assert update.published_at is None
    assert sorted(update.languages) == ["en", "fa"]
    assert update.created_by == owner
    assert not updates.public_updates(petition).exists()


def test_it_removes_a_language_left_out_when_editing(petition):
    update = updates.save_update(petition, texts={**EN, **FA})
    updates.save_update(petition, texts=FA, update=update)
    assert list(
        UpdateTranslation.objects.filter(update=update).values_list("language", flat=True)
    ) == ["fa"]


@pytest.mark.parametrize(
    "texts",
    [
        {},
        {"ps": {"title": "خبر", "body": "متن"}},  # The petition is in English and Dari.
        {"en": {"title": "Title only", "body": "  "}},
        {"en": {"title": "", "body": "Text only"}},
        {"en": {"title": "x" * 201, "body": "Too long a title"}},
    ],
)
def test_it_refuses_texts_that_do_not_fit(petition, texts):
    with pytest.raises(updates.UpdateRefused):
        updates.save_update(petition, texts=texts)
    assert not Update.objects.exists()


def test_it_refuses_to_edit_an_update_through_another_petition(org, petition):
    other = make_petition(org.organization, "other-petition")
    update = updates.save_update(petition, texts=EN)
    with pytest.raises(updates.UpdateRefused):
        updates.save_update(other, texts=EN, update=update)


def test_publishing_twice_keeps_the_first_date(petition):
    first = timezone.now() - timezone.timedelta(days=1)
    update = updates.save_update(petition, texts=EN)
    updates.publish_update(update, now=first)
    updates.publish_update(update)
    update.refresh_from_db()
    assert update.published_at == first


def test_it_deletes_a_draft_but_not_a_published_update(petition):
    draft = updates.save_update(petition, texts=EN)
    updates.delete_update(draft)
    assert not Update.objects.filter(pk=draft.pk).exists()
    update = published(petition)
    with pytest.raises(updates.UpdateRefused):
        updates.delete_update(update)
    assert Update.objects.filter(pk=update.pk).exists()


def test_an_update_mailed_is_kept_and_unpublished_only_after_its_mailout(petition):
    services.record_confirmed_signature(petition, signer(keep_updated=True))
    update = published(petition)
    mailout = mailouts.create_mailout(petition, update=update)
    with pytest.raises(updates.UpdateRefused, match="Cancel it first"):
        updates.unpublish_update(update)
    mailouts.cancel_mailout(mailout)
    updates.unpublish_update(update)
    assert update.published_at is None
    with pytest.raises(updates.UpdateRefused, match="mailed"):
        updates.delete_update(update)


def test_public_updates_are_the_published_ones_newest_first(petition):
    now = timezone.now()
    old = published(petition, EN, now=now - timezone.timedelta(days=2))
    new = published(petition, FA, now=now)
    updates.save_update(petition, texts=EN)  # A draft.
    assert list(updates.public_updates(petition)) == [new, old]


def test_publishing_drops_the_cached_petition_page(
    client, petition, django_capture_on_commit_callbacks
):
    page = reverse("petitions:detail", args=[petition.slug])
    assert "We met the company" not in client.get(page).text  # Now cached.
    update = updates.save_update(petition, texts=EN)
    with django_capture_on_commit_callbacks(execute=True):
        updates.publish_update(update)
    assert "We met the company" in client.get(page).text


# --- the organisers' pages -----------------------------------------------------------------


def test_an_organiser_writes_previews_publishes_and_mails_an_update(client, petition, owner):
    client.force_login(owner)
    page = client.get(organize("new", petition.slug))
    assert page.status_code == 200
    # One title and text per language of the petition: English and Dari, not Pashto.
    assert 'name="text-fa-title"' in page.text
    assert "text-ps-title" not in page.text

    preview = client.post(
        organize("new", petition.slug),
        {**text_form(en=("We met them", "They **listened**.")), "action": "preview"},
    )
    assert preview.status_code == 200
    assert "<strong>listened</strong>" in preview.text
    assert not Update.objects.exists()

    saved = client.post(
        organize("new", petition.slug),
        text_form(en=("We met them", "They listened."), fa=("دیدار کردیم", "گوش دادند.")),
    )
    assert saved.status_code == 302
    update = Update.objects.get()
    assert update.published_at is None
    assert update.created_by == owner

    listing = client.get(organize("organize_list", petition.slug))
    assert "We met them" in listing.text
    assert "Draft" in listing.text
    assert client.post(organize("publish", petition.slug, update.pk)).status_code == 302
    update.refresh_from_db()
    assert update.published_at is not None
    listing = client.get(organize("organize_list", petition.slug))
    assert reverse("mailouts:new", args=[petition.slug]) + f"?update={update.pk}" in listing.text

    edited = client.post(
        organize("edit", petition.slug, update.pk), text_form(en=("We met them again", "Yes."))
    )
    assert edited.status_code == 302
    assert update.text().title == "We met them again"
    assert update.languages == ["en"]


def test_an_empty_update_is_refused_with_a_message(client, petition, owner):
    client.force_login(owner)
    response = client.post(organize("new", petition.slug), text_form(en=("", "")))
    assert response.status_code == 400
    assert "at least one language" in response.text
    response = client.post(organize("new", petition.slug), text_form(en=("", "A text")))
    assert response.status_code == 400
    assert "Fill in the title and the text together." in response.text
    assert not Update.objects.exists()


def test_another_petitions_update_is_not_found(client, org, petition, owner):
    other = make_petition(org.organization, "other-petition")
    update = published(other)
    client.force_login(owner)
    assert client.get(organize("edit", petition.slug, update.pk)).status_code == 404
    assert client.post(organize("delete", petition.slug, update.pk)).status_code == 404
    assert client.get(organize("edit", petition.slug, 999_999)).status_code == 404


def test_the_list_refuses_to_delete_a_published_update(client, petition, owner):
    update = published(petition)
    client.force_login(owner)
    response = client.post(organize("delete", petition.slug, update.pk), follow=True)
    assert "cannot be deleted" in response.text
    assert Update.objects.filter(pk=update.pk).exists()
    client.post(organize("unpublish", petition.slug, update.pk))
    client.post(organize("delete", petition.slug, update.pk))
    assert not Update.objects.filter(pk=update.pk).exists()


def test_a_picture_is_stored_reencoded_without_its_metadata(
    client, petition, owner, uploads, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    response = client.post(
        organize("new", petition.slug),
        {**text_form(en=("Photo", "From the protest.")), "image": jpeg_with_location()},
    )
    assert response.status_code == 302
    update = Update.objects.get()
    stored = Path(update.image.path)
    assert update.image.name.startswith("updates/")
    assert "IMG_2041" not in update.image.name
    data = stored.read_bytes()
    assert b"SecretCameraMaker" not in data
    assert not Image.open(BytesIO(data)).getexif()

    # Replacing it deletes the old file once saved; clearing it deletes the new one.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            organize("edit", petition.slug, update.pk),
            {**text_form(en=("Photo", "From the protest.")), "image": png()},
        )
    update.refresh_from_db()
    assert not stored.exists()
    second = Path(update.image.path)
    assert second.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            organize("edit", petition.slug, update.pk),
            {**text_form(en=("Photo", "From the protest.")), "image-clear": "on"},
        )
    update.refresh_from_db()
    assert not update.image
    assert not second.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"#!/bin/sh\necho not a picture\n", "Upload a valid image."),
        ("tiff", "Please upload a JPEG, PNG, WebP or GIF image."),
    ],
)
def test_a_file_that_is_not_a_usable_picture_is_refused(
    client, petition, owner, uploads, content, message
):
    if content == "tiff":
        out = BytesIO()
        Image.new("RGB", (10, 10)).save(out, format="TIFF")
        content = out.getvalue()
    client.force_login(owner)
    response = client.post(
        organize("new", petition.slug),
        {
            **text_form(en=("Photo", "Text")),
            "image": SimpleUploadedFile("photo.png", content, "image/png"),
        },
    )
    assert response.status_code == 400
    assert message in response.text
    assert not Update.objects.exists()


def test_a_picture_is_reencoded_like_the_petitions(db):
    # The same function as the petition image: this only guards that updates use it.
    out = reencode_image(png())
    assert out.name.endswith(".png")


# --- the public pages --------------------------------------------------------------------------


def test_the_public_pages_show_published_updates_newest_first(client, petition):
    now = timezone.now()
    published(
        petition,
        {"en": {"title": "Older news", "body": "Old"}},
        now=now - timezone.timedelta(days=1),
    )
    newer = published(petition, {"en": {"title": "Newer news", "body": "**New**"}}, now=now)
    updates.save_update(petition, texts={"en": {"title": "Secret draft", "body": "Not yet"}})
    page = client.get(reverse("updates:list", args=[petition.slug]))
    assert page.status_code == 200
    assert page.text.index("Newer news") < page.text.index("Older news")
    assert "Secret draft" not in page.text
    one = client.get(reverse("updates:detail", args=[petition.slug, newer.pk]))
    assert one.status_code == 200
    assert "<strong>New</strong>" in one.text


def test_drafts_other_petitions_and_closed_doors_are_not_found(client, org, petition):
    draft = updates.save_update(petition, texts=EN)
    assert client.get(reverse("updates:detail", args=[petition.slug, draft.pk])).status_code == 404
    other = make_petition(org.organization, "other-petition")
    theirs = published(other)
    assert client.get(reverse("updates:detail", args=[petition.slug, theirs.pk])).status_code == 404
    hidden = make_petition(org.organization, "a-draft-petition", open_=False)
    mine = published(hidden)
    assert client.get(reverse("updates:list", args=[hidden.slug])).status_code == 404
    assert client.get(reverse("updates:detail", args=[hidden.slug, mine.pk])).status_code == 404
    assert client.get(reverse("updates:list", args=["no-such-petition"])).status_code == 404


def test_readers_get_their_language_right_to_left_or_another_one(client, petition):
    update = published(petition)
    url = reverse("updates:detail", args=[petition.slug, update.pk])
    english = client.get(url)
    assert "We met the company" in english.text
    assert "با شرکت" not in english.text
    dari = client.get(f"/fa{url}")
    assert dari.status_code == 200
    assert 'dir="rtl"' in dari.text
    assert 'lang="fa"' in dari.text
    assert "با شرکت دیدار کردیم" in dari.text
    assert "We met the company" not in dari.text
    # No Pashto text: the page is Pashto, the update English (the petition's language),
    # marked as such so it reads left to right.
    pashto = client.get(f"/ps{url}")
    assert pashto.status_code == 200
    assert "We met the company" in pashto.text
    assert '<article class="update" lang="en" dir="ltr"' in pashto.text
    assert '<html lang="ps" dir="rtl">' in pashto.text


def test_the_petition_page_shows_the_latest_three(client, petition):
    now = timezone.now()
    for number in range(4):
        published(
            petition,
            {"en": {"title": f"News number {number}", "body": "Text"}},
            now=now - timezone.timedelta(hours=10 - number),
        )
    page = client.get(reverse("petitions:detail", args=[petition.slug]))
    assert "News number 3" in page.text
    assert "News number 1" in page.text
    assert "News number 0" not in page.text
    assert "See all 4 updates" in page.text
    assert reverse("updates:list", args=[petition.slug]) in page.text


def test_the_petition_page_has_no_updates_section_without_updates(client, petition):
    updates.save_update(petition, texts=EN)  # A draft only.
    page = client.get(reverse("petitions:detail", args=[petition.slug]))
    assert 'id="updates-h"' not in page.text


def test_dari_readers_see_the_dari_update_on_the_petition_page(client, petition):
    published(petition)
    page = client.get("/fa" + reverse("petitions:detail", args=[petition.slug]))
    assert "با شرکت دیدار کردیم" in page.text


def test_another_organisation_cannot_see_updates_of_ours(client, petition, outsider):
    update = published(petition)
    client.force_login(outsider)
    assert client.get(organize("organize_list", petition.slug)).status_code == 404
    assert client.post(organize("publish", petition.slug, update.pk)).status_code == 404
