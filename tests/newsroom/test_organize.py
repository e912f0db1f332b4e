"""The organisers' newsroom pages: writing, embargo, publishing, authors, bad input."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hamseda.campaigns.models import Campaign
from hamseda.newsroom.models import Author, PressRelease
from tests.newsroom.helpers import EN, FA, campaign_of, make_author, make_release, png_upload


@pytest.fixture
def campaign(org) -> Campaign:
    return campaign_of(org.organization)


@pytest.fixture
def editor(client, owner):
    client.force_login(owner)
    return client


def release_form(**overrides) -> dict:
    data = {
        "slug": "three-cities",
        "kind": "press_release",
        "author": "",
        "embargo_local": "",
        "embargo_zone": "UTC",
        "quote_rows": "3",
        **{f"text-en-{key}": value for key, value in EN.items()},
        **{f"text-fa-{key}": value for key, value in FA.items()},
        "quote-0-language": "en",
        "quote-0-text": "We will not be silenced.",
        "quote-0-speaker": "Laila Ahmadi",
        "quote-0-speaker_role": "Spokesperson",
        "action": "save",
    }
    data.update(overrides)
    return data


def errors_of(response) -> str:
    return response.content.decode()


def test_it_writes_a_draft_and_lists_it(editor, campaign, org):
    author = make_author(org.organization)
    response = editor.post(
        f"/organize/campaigns/{campaign.slug}/press/new", release_form(author=str(author.pk))
    )
    assert response.status_code == 302
    release = PressRelease.objects.get(slug="three-cities")
    assert release.published_at is None
    assert release.author == author
    assert {t.language for t in release.translations.all()} == {"en", "fa"}
    assert [q.speaker for q in release.quotes.all()] == ["Laila Ahmadi"]
    listing = editor.get(f"/organize/campaigns/{campaign.slug}/press/").content.decode()
    assert EN["title"] in listing
    assert "Draft" in listing
    assert "English, Dari" in listing


def test_it_stores_the_embargo_in_utc_from_the_chosen_zone(editor, campaign):
    local = (timezone.now() + timedelta(days=3)).astimezone(ZoneInfo("Asia/Kabul"))
    local = local.replace(second=0, microsecond=0)
    response = editor.post(
        f"/organize/campaigns/{campaign.slug}/press/new",
        release_form(embargo_local=local.strftime("%Y-%m-%dT%H:%M"), embargo_zone="Asia/Kabul"),
    )
    assert response.status_code == 302
    release = PressRelease.objects.get()
    assert release.embargo_until == local.astimezone(UTC)
    editor.post(f"/organize/press/{release.slug}/publish")
    listing = editor.get(f"/organize/campaigns/{campaign.slug}/press/").content.decode()
    assert "Embargoed until" in listing
    assert editor.get(f"/c/{campaign.slug}/press/three-cities/").status_code == 404
    preview = editor.get(f"/organize/press/{release.slug}/preview")
    assert preview.status_code == 200
    assert "Embargoed until" in preview.content.decode()


def test_it_publishes_and_unpublishes(editor, campaign):
    release = make_release(campaign, publish=False)
    assert editor.post(f"/organize/press/{release.slug}/publish").status_code == 302
    assert editor.get(f"/c/{campaign.slug}/press/three-cities/").status_code == 200
    assert editor.post(f"/organize/press/{release.slug}/unpublish").status_code == 302
    assert editor.get(f"/c/{campaign.slug}/press/three-cities/").status_code == 404


def test_it_edits_a_release_and_keeps_what_was_not_changed(editor, campaign):
    release = make_release(campaign, publish=False, image=True)
    page = editor.get(f"/organize/press/{release.slug}/edit")
    assert page.status_code == 200
    assert EN["title"] in page.content.decode()
    response = editor.post(
        f"/organize/press/{release.slug}/edit",
        release_form(**{"text-en-title": "New title", "action": "preview"}),
    )
    assert response.status_code == 302
    assert response.url == f"/organize/press/{release.slug}/preview"
    release.refresh_from_db()
    assert release.text().title == "New title"
    assert release.image  # No new upload: the picture stays.


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"text-en-title": "", "text-fa-title": "", "text-fa-body": ""}, "title and the text"),
        (
            {f"text-{lang}-{key}": "" for lang in ("en", "fa") for key in EN},
            "at least one of the campaign",
        ),
        ({"slug": "not a slug"}, "Enter a valid"),
        ({"embargo_local": "2020-01-01T10:00"}, "already passed"),
        ({"embargo_local": "tomorrow-ish"}, "Enter a valid date"),
        ({"embargo_local": "2020-01-01T10:00", "embargo_zone": "Mars/Olympus"}, "Select a valid"),
        ({"embargo_local": "9999-12-31T23:59", "embargo_zone": "Pacific/Kiritimati"}, "year"),
        ({"kind": "rumour"}, "Select a valid"),
        ({"quote-0-speaker": ""}, "who said them"),
        ({"author": "99999"}, "Select a valid"),
    ],
)
def test_it_refuses_bad_input_with_a_message(editor, campaign, overrides, message):
    response = editor.post(
        f"/organize/campaigns/{campaign.slug}/press/new", release_form(**overrides)
    )
    assert response.status_code == 400
    assert message in errors_of(response)
    assert not PressRelease.objects.exists()


def test_it_refuses_a_duplicate_slug(editor, campaign):
    make_release(campaign, "taken")
    response = editor.post(
        f"/organize/campaigns/{campaign.slug}/press/new", release_form(slug="taken")
    )
    assert response.status_code == 400
    assert "already taken" in errors_of(response)


def test_it_refuses_a_file_that_is_not_an_image(editor, campaign):
    fake = SimpleUploadedFile("photo.png", b"<script>not an image</script>", "image/png")
    response = editor.post(
        f"/organize/campaigns/{campaign.slug}/press/new", {**release_form(), "image": fake}
    )
    assert response.status_code == 400
    assert not PressRelease.objects.exists()


def test_it_takes_an_image_and_re_encodes_it(editor, campaign):
    response = editor.post(
        f"/organize/campaigns/{campaign.slug}/press/new",
        {**release_form(), "image": png_upload("my-secret-name.png")},
    )
    assert response.status_code == 302
    release = PressRelease.objects.get()
    assert release.image.name.startswith("newsroom/images/")
    assert "my-secret-name" not in release.image.name


def test_it_refuses_another_campaigns_releases_to_another_organisation(client, campaign, outsider):
    release = make_release(campaign, publish=False)
    client.force_login(outsider)
    assert client.get(f"/organize/press/{release.slug}/edit").status_code == 404
    assert client.post(f"/organize/press/{release.slug}/publish").status_code == 404
    assert client.get(f"/organize/campaigns/{campaign.slug}/press/").status_code == 404
    release.refresh_from_db()
    assert release.published_at is None


def test_it_writes_and_edits_an_author(editor, org):
    slug = org.organization.slug
    response = editor.post(
        f"/organize/org/{slug}/authors/new",
        {
            "name": "Laila Ahmadi",
            "text-en-role": "Spokesperson",
            "text-en-bio": "Bio",
            "text-fa-role": "سخنگو",
            "text-fa-bio": "",
            "text-ps-role": "",
            "text-ps-bio": "",
            "photo": png_upload(),
        },
    )
    assert response.status_code == 302
    author = Author.objects.get()
    assert author.photo
    assert {t.language for t in author.translations.all()} == {"en", "fa"}
    assert "Laila Ahmadi" in editor.get(f"/organize/org/{slug}/authors/").content.decode()
    response = editor.post(f"/organize/authors/{author.pk}/edit", {"name": ""})
    assert response.status_code == 400
    response = editor.post(
        f"/organize/authors/{author.pk}/edit",
        {"name": "L. Ahmadi", "photo": SimpleUploadedFile("x.png", b"nope", "image/png")},
    )
    assert response.status_code == 400
    author.refresh_from_db()
    assert author.name == "Laila Ahmadi"


any_text = st.text(st.characters(codec="utf-8"), max_size=300)
HYPOTHESIS = hypothesis_settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPOTHESIS
@given(
    title=any_text,
    body=any_text,
    summary=any_text,
    slug=any_text,
    embargo=st.one_of(
        any_text,
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(  # noqa: DTZ001 - a wall clock the form reads.
            lambda moment: moment.strftime("%Y-%m-%dT%H:%M")
        ),
    ),
    zone=st.sampled_from(["UTC", "Asia/Kabul", "Pacific/Kiritimati", "Etc/GMT+12", "bogus"]),
)
def test_any_release_form_gets_a_save_or_a_4xx(
    editor, campaign, title, body, summary, slug, embargo, zone
):
    response = editor.post(
        f"/organize/campaigns/{campaign.slug}/press/new",
        release_form(
            slug=slug,
            embargo_local=embargo,
            embargo_zone=zone,
            **{"text-en-title": title, "text-en-body": body, "text-en-summary": summary},
        ),
    )
    assert response.status_code in {302, 400}
    PressRelease.objects.all().delete()


@HYPOTHESIS
@given(name=any_text, role=any_text, bio=any_text)
def test_any_author_form_gets_a_save_or_a_4xx(editor, org, name, role, bio):
    response = editor.post(
        f"/organize/org/{org.organization.slug}/authors/new",
        {"name": name, "text-en-role": role, "text-en-bio": bio},
    )
    assert response.status_code in {302, 400}
