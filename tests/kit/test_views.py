"""The kit's public addresses: share images, posters, the kit pages and their caching."""

import io
import threading

import pytest
from django.core.cache import cache
from django.utils import translation
from PIL import Image
from pypdf import PdfReader

from hamseda.kit import imagecache
from hamseda.kit.design import SIZES
from hamseda.petitions import services
from tests.conftest import make_petition, signer

pytestmark = pytest.mark.django_db


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


@pytest.fixture
def count_renders(monkeypatch):
    """How many times the share-image renderer ran."""
    from hamseda.kit import render

    calls = []
    real = render.render_png

    def counting(size_name, content, design):
        calls.append((size_name, content.language))
        return real(size_name, content, design)

    monkeypatch.setattr(render, "render_png", counting)
    return calls


# --- share images --------------------------------------------------------------------


@pytest.mark.parametrize("size", list(SIZES))
def test_each_size_is_a_png_of_its_dimensions(client, petition, size):
    response = client.get(f"/p/{petition.slug}/kit/{size}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert png_size(response.content) == (SIZES[size].width, SIZES[size].height)
    assert response["Content-Length"] == str(len(response.content))
    assert response["Cache-Control"] == "public, max-age=300"
    assert len(response["ETag"].strip('"')) == 32
    assert f"{petition.slug}-{size}-" in response["Content-Disposition"]


def test_the_image_is_in_the_language_of_the_address(client, petition, count_renders):
    english = client.get(f"/p/{petition.slug}/kit/card.png")
    dari = client.get(f"/fa/p/{petition.slug}/kit/card.png")
    assert english.status_code == dari.status_code == 200
    assert english["ETag"] != dari["ETag"]
    assert english.content != dari.content
    assert count_renders == [("card", "en"), ("card", "fa")]
    assert dari["Content-Disposition"].endswith('-fa.png"')


def test_a_language_without_text_falls_back_to_the_main_language(client, petition):
    # The petition has English and Dari texts, no Pashto.
    english = client.get(f"/p/{petition.slug}/kit/square.png")
    pashto = client.get(f"/ps/p/{petition.slug}/kit/square.png")
    assert pashto.status_code == 200
    assert pashto["ETag"] == english["ETag"]
    assert pashto.content == english.content


def test_an_image_is_rendered_once_then_served_from_the_cache(client, petition, count_renders):
    first = client.get(f"/p/{petition.slug}/kit/story.png")
    cache.delete(f"kit:alias:{imagecache.image_alias(petition.slug, 'story', 'en')}")
    second = client.get(f"/p/{petition.slug}/kit/story.png")
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    assert count_renders == [("story", "en")]


def test_a_new_count_makes_a_new_image(client, petition):
    before = client.get(f"/p/{petition.slug}/kit/card.png")
    services.record_confirmed_signature(petition, signer(1))
    cache.delete(f"kit:alias:{imagecache.image_alias(petition.slug, 'card', 'en')}")
    after = client.get(f"/p/{petition.slug}/kit/card.png")
    assert after["ETag"] != before["ETag"]


def test_if_none_match_answers_304(client, petition):
    url = f"/p/{petition.slug}/kit/card.png"
    etag = client.get(url)["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "public, max-age=300"
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_head_answers_headers_without_the_image(client, petition):
    url = f"/p/{petition.slug}/kit/banner.png"
    full = client.get(url)
    head = client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head["Content-Length"] == str(len(full.content))
    assert head["ETag"] == full["ETag"]
    assert head["Content-Type"] == "image/png"


def test_other_methods_are_refused(client, petition):
    assert client.post(f"/p/{petition.slug}/kit/card.png").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/p/{slug}/kit/huge.png",
        "/p/{slug}/kit/CARD.png",
        "/p/no-such-petition/kit/card.png",
        "/p/{slug}/poster-a5.pdf",
        "/p/no-such-petition/poster-a4.pdf",
        "/p/no-such-petition/kit/",
        "/p/no-such-petition/kit.zip",
        "/c/no-such-campaign/kit/",
        "/c/no-such-campaign/kit/frame/",
        "/c/no-such-campaign/kit/frame.png",
    ],
)
def test_unknown_addresses_are_404(client, petition, path):
    assert client.get(path.format(slug=petition.slug)).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/p/{slug}/kit/card.png",
        "/fa/p/{slug}/kit/square.png",
        "/p/{slug}/kit/",
        "/p/{slug}/kit.zip",
        "/p/{slug}/poster-a4.pdf",
    ],
)
def test_an_unpublished_petition_has_no_kit(client, org, path):
    draft = make_petition(org.organization, "still-a-draft", open_=False)
    assert client.get(path.format(slug=draft.slug)).status_code == 404


def test_a_hidden_campaign_has_no_kit(client, petition):
    campaign = petition.campaign
    campaign.is_public = False
    campaign.save()
    for path in ("/c/{c}/kit/", "/c/{c}/kit/frame/", "/c/{c}/kit/frame.png"):
        assert client.get(path.format(c=campaign.slug)).status_code == 404


def test_concurrent_misses_render_once():
    """50 link previews asking at once for an image nobody asked for yet: one render."""
    renders = []
    started = threading.Event()

    def slow_render() -> bytes:
        renders.append(1)
        started.wait(timeout=5)  # Hold the others in their misses until all arrived.
        return b"png"

    results = []

    def fetch():
        results.append(imagecache.cached_file("image", "card", "content", "design", slow_render))

    threads = [threading.Thread(target=fetch) for _ in range(50)]
    for thread in threads:
        thread.start()
    started.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(renders) == 1
    assert len(results) == 50
    assert {r.data for r in results} == {b"png"}
    assert len({r.etag for r in results}) == 1


def test_keys_differ_by_every_part():
    parts = ("image", "card", "content", "design")
    key = imagecache.cache_key(*parts)
    for index in range(len(parts)):
        changed = list(parts)
        changed[index] += "x"
        assert imagecache.cache_key(*changed) != key


# --- posters ---------------------------------------------------------------------------


@pytest.mark.parametrize(("paper", "points"), [("a4", (595, 842)), ("a3", (842, 1191))])
def test_posters_are_one_page_pdfs_of_their_paper(client, petition, paper, points):
    response = client.get(f"/p/{petition.slug}/poster-{paper}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "public, max-age=300"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == points
    assert "Suspend the accounts" in " ".join(reader.pages[0].extract_text().split())


def test_the_poster_is_in_the_language_of_the_address(client, petition):
    english = client.get(f"/p/{petition.slug}/poster-a4.pdf")
    dari = client.get(f"/fa/p/{petition.slug}/poster-a4.pdf")
    assert dari.status_code == 200
    assert dari["ETag"] != english["ETag"]
    assert dari["Content-Disposition"].endswith('-fa.pdf"')


# --- pages -----------------------------------------------------------------------------


def test_the_kit_page_lists_every_size_with_downloads_in_each_language(client, petition):
    response = client.get(f"/p/{petition.slug}/kit/")
    assert response.status_code == 200
    html = response.content.decode()
    for name, spec in SIZES.items():
        assert (
            f'<img src="/p/{petition.slug}/kit/{name}.png" width="{spec.width}" '
            f'height="{spec.height}" loading="lazy"'
        ) in html
        assert f'href="/fa/p/{petition.slug}/kit/{name}.png"' in html
        assert f'href="/ps/p/{petition.slug}/kit/{name}.png"' not in html  # No Pashto text.
    assert f'href="/p/{petition.slug}/kit.zip"' in html
    for paper in ("a4", "a3"):
        assert f'href="/p/{petition.slug}/poster-{paper}.pdf"' in html
        assert f'href="/fa/p/{petition.slug}/poster-{paper}.pdf"' in html
    assert f'href="/c/{petition.campaign.slug}/kit/frame/"' in html


def test_the_kit_page_in_dari_is_right_to_left_with_dari_thumbnails(client, petition):
    html = client.get(f"/fa/p/{petition.slug}/kit/").content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert f'<img src="/fa/p/{petition.slug}/kit/card.png"' in html
    assert "حساب‌ها را مسدود کنید" in html


def test_the_kit_page_says_when_the_language_falls_back(client, petition):
    notice = (
        "This petition has no text in your language yet, so its images are in its main language."
    )
    with translation.override("ps"):
        in_pashto = translation.gettext(notice)
    assert in_pashto != notice  # Translated: the Pashto reader is told in Pashto.
    assert in_pashto in client.get(f"/ps/p/{petition.slug}/kit/").content.decode()
    assert notice not in client.get(f"/p/{petition.slug}/kit/").content.decode()


def test_the_campaign_kit_lists_its_open_petitions_and_the_frame(client, org, petition):
    make_petition(org.organization, "a-draft", open_=False)
    response = client.get(f"/c/{petition.campaign.slug}/kit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'src="/p/{petition.slug}/kit/card.png"' in html
    assert f'href="/p/{petition.slug}/kit/"' in html
    assert "a-draft" not in html
    assert f'href="/c/{petition.campaign.slug}/kit/frame/"' in html
    assert f'src="/c/{petition.campaign.slug}/kit/frame.png"' in html


def test_a_petition_without_campaign_has_a_kit_page_without_frame(client, petition):
    petition.campaign = None
    petition.save()
    response = client.get(f"/p/{petition.slug}/kit/")
    assert response.status_code == 200
    assert "/kit/frame/" not in response.content.decode()
    assert client.get(f"/p/{petition.slug}/kit/x.png").status_code == 200


def test_the_campaign_page_links_its_kit(client, petition):
    html = client.get(f"/c/{petition.campaign.slug}/").content.decode()
    assert f'href="/c/{petition.campaign.slug}/kit/"' in html


# --- the profile-picture frame ---------------------------------------------------------


def photo(width=800, height=600, *, fmt="JPEG", orientation: int | None = None) -> bytes:
    """A photo with a red left half, so crops can be told apart."""
    image = Image.new("RGB", (width, height), "#3366cc")
    image.paste("#cc3333", (0, 0, width // 2, height))
    out = io.BytesIO()
    extra = {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        extra["exif"] = exif.tobytes()
    image.save(out, format=fmt, **extra)
    return out.getvalue()


def bomb() -> bytes:
    """A PNG of a few hundred bytes that claims 100,000 × 100,000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def upload(data: bytes, name="me.jpg", content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def no_files_written(settings, tmp_path, monkeypatch):
    """Fails the test if an upload reaches the disk: Django's temporary-file handler
    would spool anything above FILE_UPLOAD_MAX_MEMORY_SIZE (here 1 byte) to a
    NamedTemporaryFile in FILE_UPLOAD_TEMP_DIR; nothing may appear in MEDIA_ROOT."""
    from django.core.files import uploadedfile

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    spooled = []

    def refuse(*args, **kwargs):
        spooled.append(args)
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(uploadedfile.tempfile, "NamedTemporaryFile", refuse)
    yield
    assert spooled == []
    assert list((tmp_path / "uploads").iterdir()) == []
    assert not (tmp_path / "media").exists()


def frame_url(petition, language=""):
    prefix = f"/{language}" if language else ""
    return f"{prefix}/c/{petition.campaign.slug}/kit/frame/"


def test_the_frame_page_shows_the_form_and_the_frame(client, petition):
    response = client.get(frame_url(petition))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'src="/c/{petition.campaign.slug}/kit/frame.png"' in html
    assert 'name="position"' in html
    assert 'name="zoom"' in html
    assert "kit-frame.js" in html


def test_the_frame_overlay_is_transparent_in_the_middle(client, petition):
    response = client.get(f"/c/{petition.campaign.slug}/kit/frame.png")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (1080, 1080)
        assert image.mode == "RGBA"
        assert image.getpixel((540, 540))[3] == 0
    again = client.get(
        f"/c/{petition.campaign.slug}/kit/frame.png",
        headers={"If-None-Match": response["ETag"]},
    )
    assert again.status_code == 304


def test_a_photo_comes_back_framed_and_is_not_kept(client, petition, no_files_written):
    response = client.post(frame_url(petition), {"photo": upload(photo())})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith("attachment;")
    assert png_size(response.content) == (1080, 1080)


def test_the_crop_fields_choose_the_square(client, petition, no_files_written):
    url = frame_url(petition)
    centre = client.post(url, {"photo": upload(photo())}).content
    left = client.post(url, {"photo": upload(photo()), "position": "left", "zoom": "150"})
    dragged = client.post(
        url, {"photo": upload(photo()), "crop_x": "0.5", "crop_y": "0", "zoom": "200"}
    )
    assert left.status_code == dragged.status_code == 200
    with Image.open(io.BytesIO(left.content)) as image:
        assert image.getpixel((540, 540))[0] > 150  # The red half.
    with Image.open(io.BytesIO(dragged.content)) as image:
        assert image.getpixel((540, 540))[2] > 150  # The blue half.
    assert len({centre, left.content, dragged.content}) == 3


def test_a_turned_photo_is_cropped_upright(client, petition, no_files_written):
    # Stored 800 × 400 and tagged "turn a quarter": shown 400 × 800, so "top" keeps
    # the upper square of the upright photo (a crop computed on the stored sides
    # would stick out of it).
    turned = photo(800, 400, orientation=6)
    response = client.post(frame_url(petition), {"photo": upload(turned), "position": "top"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7 not a photo at all", "not a photo we can read"),
        (b"", "Choose a photo"),
        (None, "too many pixels"),  # bomb()
    ],
)
def test_a_bad_upload_shows_the_form_again_with_why(
    client, petition, no_files_written, data, message
):
    if data is None:
        data = bomb()
    response = client.post(frame_url(petition), {"photo": upload(data)})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert message in html
    assert 'name="photo"' in html


def test_a_truncated_photo_is_refused(client, petition, no_files_written):
    # WeasyPrint, imported for posters, tells Pillow to accept truncated images; the
    # frame must still refuse one, whatever was imported before.
    import hamseda.kit.posters  # noqa: F401

    whole = photo()
    response = client.post(frame_url(petition), {"photo": upload(whole[: len(whole) // 2])})
    assert response.status_code == 400
    assert "damaged or incomplete" in response.content.decode()


def test_a_bad_crop_is_refused_not_a_crash(client, petition, no_files_written):
    response = client.post(
        frame_url(petition), {"photo": upload(photo()), "crop_x": "0.9", "crop_y": "0.9"}
    )
    assert response.status_code == 400
    assert "does not fit inside the photo" in response.content.decode()
    response = client.post(frame_url(petition), {"photo": upload(photo()), "zoom": "900"})
    assert response.status_code == 400


def test_a_missing_photo_is_a_form_error(client, petition, no_files_written):
    response = client.post(frame_url(petition), {"position": "top"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_a_huge_upload_is_refused_before_it_is_read(client, petition, no_files_written):
    from hamseda.kit.frame import MAX_UPLOAD_BYTES

    huge = photo() + b"\0" * MAX_UPLOAD_BYTES
    response = client.post(frame_url(petition, "fa"), {"photo": upload(huge)})
    assert response.status_code == 413
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert "too large" in html or "MB" in html


def test_an_upload_past_the_limit_stops_being_read(client, petition, no_files_written, monkeypatch):
    """A client may understate its size (chunked uploads): the handler counts too."""
    from hamseda.kit.frame import MAX_UPLOAD_BYTES
    from hamseda.kit.views import frame

    monkeypatch.setattr(frame, "ENVELOPE_BYTES", 10 * MAX_UPLOAD_BYTES)
    huge = photo() + b"\0" * MAX_UPLOAD_BYTES
    response = client.post(frame_url(petition), {"photo": upload(huge)})
    assert response.status_code == 413


def test_the_frame_form_needs_its_csrf_token(petition, no_files_written):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    page = strict.get(frame_url(petition))
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    refused = strict.post(frame_url(petition), {"photo": upload(photo())})
    assert refused.status_code == 403
    accepted = strict.post(
        frame_url(petition), {"photo": upload(photo()), "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 200
    assert accepted["Content-Type"] == "image/png"
