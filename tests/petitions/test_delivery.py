"""The delivery document (petitions.delivery): the PDF parsed back, its pictures, the
numbers CSV, the reasons text, and the organisers' page. The command is tested in
test_deliver_command.py. Screenshots for review go to $HAMSEDA_SCREENSHOTS (else
tmp_path)."""

import csv
import io
import os
import re
import subprocess
import unicodedata
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hamseda.integrity.invalidation import invalidate_signatures
from hamseda.petitions import delivery, services
from hamseda.petitions.delivery import (
    DeliveryError,
    DeliveryOptions,
    aggregates_csv,
    delivery_pdf,
    document_html,
    parse_reasons,
    plan_document,
)
from hamseda.petitions.delivery.aggregates import spreadsheet_safe
from hamseda.petitions.delivery.charts import timeline
from hamseda.petitions.models import DecisionMaker, Petition
from tests.conftest import PASSWORD, make_org, make_petition, signer

TITLE = "Suspend the accounts of a designated terror group"
DARI_TITLE = "حساب‌های یک گروه تروریستی را مسدود کنید"
PASHTO_TITLE = "د یوې ترهګرې ډلې حسابونه بند کړئ"
REASONS = (
    "My cousin was threatened through this network.\n— Maryam, Sweden\n\n"
    "برای آزادی بیان و امنیت خانواده‌هایمان\n— احمد، افغانستان\n\n"
    "Because silence is not neutral."
)


def make_open_petition(organization, slug="deliver-me", *, open_=True) -> Petition:
    """A petition in English, Dari and Pashto with a decision-maker, made as organisers
    make it (services), and opened by moderation."""
    petition = Petition(organization=organization, slug=slug)
    target, _ = DecisionMaker.objects.get_or_create(
        organization=organization, name="ExampleSocial", defaults={"position": "Trust and Safety"}
    )
    services.save_petition(
        petition,
        texts={
            "en": {"title": TITLE, "summary": "Why it matters.", "story": "**Act** now."},
            "fa": {"title": DARI_TITLE, "summary": "چرا مهم است.", "story": "داستان ما"},
            "ps": {"title": PASHTO_TITLE, "summary": "ولې مهم دی.", "story": "زموږ کیسه"},
        },
        targets=[target],
    )
    if open_:
        services.submit_petition(petition)
        services.approve_petition(petition)
    petition.refresh_from_db()
    return petition


@pytest.fixture
def scene(db):
    """An open petition with signers who agreed to be named (Maryam in Sweden, گلالۍ in
    Afghanistan), one who did not (Zarmina), and one invalidated signature."""
    organization = make_org().organization
    petition = make_open_petition(organization)
    now = timezone.now()
    signers = [
        signer(1, first_name="Maryam", show_name=True, country="SE"),
        signer(2, first_name="گلالۍ", show_name=True, country="AF"),
        signer(3, first_name="Zarmina", last_name="Hidden", show_name=False, country="DE"),
        signer(4, first_name="Dawood", show_name=True, country="AF"),
        signer(5, first_name="Flood", email="bot@throwaway.example", country="US"),
    ]
    for days_ago, person in zip([9, 5, 5, 1, 0], signers, strict=True):
        services.record_confirmed_signature(petition, person, now=now - timedelta(days=days_ago))
    invalidate_signatures(petition, domain="throwaway.example", reason="Flood", now=now)
    petition.refresh_from_db()
    return petition


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def words(text: str) -> set[str]:
    """As tests/kit/test_posters.py: NFKC folds presentation forms back to letters, and
    joiners and bidi marks, which PDF text extraction does not keep, are dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub("[\u200c\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    return set(text.split())


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            names.add(str(font.get_object().get("/BaseFont")))
    return names


def rasterise(pdf: bytes, folder: Path, name: str, page: int, dpi: int = 80) -> Image.Image:
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    stem = folder / f"{name}-page{page}"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-singlefile",
            "-f",
            str(page),
            "-l",
            str(page),
            str(path),
            str(stem),
        ],
        check=True,
    )
    return Image.open(f"{stem}.png")


def dark_share(image: Image.Image) -> float:
    grey = image.convert("L")
    return sum(grey.histogram()[:128]) / (grey.width * grey.height)


def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("HAMSEDA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- The PDF -----------------------------------------------------------------------------


@pytest.fixture
def document(scene) -> bytes:
    reasons = tuple(parse_reasons(REASONS))
    return delivery_pdf(scene, DeliveryOptions(reasons=reasons))


def test_it_makes_a_pdf_of_several_pages_with_the_petition_and_its_numbers(scene, document):
    reader = pypdf.PdfReader(io.BytesIO(document))
    text = text_of(document)

    assert len(reader.pages) > 1
    assert reader.metadata.title == TITLE
    assert TITLE in text
    assert "ExampleSocial, Trust and Safety" in text
    assert "4\nconfirmed signatures" in text or "4 confirmed signatures" in text
    assert re.search(r"\b1\s+removed as invalid", text)
    assert "Sweden" in text
    assert "Afghanistan" in text
    assert "Germany" in text
    assert "How these numbers were counted" in text


def test_it_names_only_the_signers_who_agreed(document):
    text = text_of(document)

    assert "Maryam" in text
    assert "Dawood" in text
    assert "گلالۍ" in unicodedata.normalize("NFKC", text) or "Vazirmatn" in str(
        font_names(document)
    )
    assert "Zarmina" not in text
    assert "Hidden" not in text  # nobody's surname, ever
    assert "Signer1" not in text
    assert "Flood" not in text  # invalidated


def test_it_prints_the_selected_reasons_with_their_attribution(document):
    text = text_of(document)

    assert "My cousin was threatened through this network." in text
    assert "— Maryam, Sweden" in text
    assert "Because silence is not neutral." in text
    assert {"آزادی", "بیان"} <= words(text)


def test_it_prints_dari_and_pashto_shaped_with_the_bundled_font(document):
    text = text_of(document)

    assert words(DARI_TITLE) <= words(text)
    assert words(PASHTO_TITLE) <= words(text)
    assert any("Vazirmatn" in name for name in font_names(document))


def test_its_language_sections_carry_lang_and_direction(scene):
    html, css = document_html(plan_document(scene, DeliveryOptions()))

    assert '<section class="text" lang="fa" dir="rtl">' in html
    assert '<section class="text" lang="ps" dir="rtl">' in html
    assert '<section class="text" lang="en" dir="ltr">' in html
    assert "counter(page)" in css
    assert "counter(pages)" in css
    assert "Vazirmatn-Regular.ttf" in css
    assert "http" not in css  # fonts are files of the install, never fetched


def test_it_leaves_names_out_when_asked(scene):
    text = text_of(delivery_pdf(scene, DeliveryOptions(include_names=False)))

    assert "Maryam" not in text
    assert "Signers who agreed to be named" not in text
    assert TITLE in text


def test_it_caps_the_names_with_a_note_of_how_many_more(scene):
    text = text_of(delivery_pdf(scene, DeliveryOptions(max_names=1)))

    assert "Maryam" in text  # the oldest first
    assert "Dawood" not in text
    assert "and 2 more" in text


def test_a_chosen_language_alone_frames_the_document(scene):
    html, _css = document_html(plan_document(scene, DeliveryOptions(languages=("fa",))))

    assert '<html lang="fa" dir="rtl">' in html
    assert DARI_TITLE in html
    assert TITLE not in html


def test_it_refuses_a_language_the_petition_is_not_written_in(db):
    petition = make_petition(make_org().organization)  # English and Dari
    services.record_confirmed_signature(petition, signer(1))
    petition.refresh_from_db()

    with pytest.raises(DeliveryError, match="not written in ps"):
        delivery_pdf(petition, DeliveryOptions(languages=("ps",)))


def test_it_refuses_a_draft(db):
    petition = make_open_petition(make_org().organization, open_=False)

    with pytest.raises(DeliveryError, match="Only an open, closed or won petition"):
        delivery_pdf(petition)


def test_it_refuses_a_petition_without_confirmed_signatures(db):
    petition = make_open_petition(make_org().organization)

    with pytest.raises(DeliveryError, match="Nothing to deliver yet"):
        delivery_pdf(petition)


def test_pages_render_to_png_for_review(scene, document, tmp_path):
    folder = screenshots(tmp_path)
    cover = rasterise(document, folder, "delivery-en", 1)
    dari = rasterise(document, folder, "delivery-en", 3)  # cover, English, Dari, Pashto…

    assert dark_share(cover) > 0.005
    assert dark_share(dari) > 0.001
    plan = plan_document(scene, DeliveryOptions(languages=("fa",)))
    dari_cover = rasterise(delivery.render_pdf(plan), folder, "delivery-fa", 1)
    assert dark_share(dari_cover) > 0.005


def test_the_timeline_starts_at_zero_and_ends_at_the_total():
    today = timezone.now().date()
    chart = timeline([(today - timedelta(days=3), 5), (today, 2)])

    first, *_rest, last = chart["line"].split()
    assert float(first.split(",")[1]) == chart["bottom"]  # zero, the day before the first
    assert chart["total"] == 7
    assert chart["peak_count"] == 5
    assert float(last.split(",")[1]) < chart["bottom"]
    assert timeline([]) is None


@pytest.mark.parametrize("span", [1, 2, 9, 10, 31, 365])
def test_the_timeline_dates_never_overlap(span):
    today = timezone.now().date()
    chart = timeline([(today - timedelta(days=span - 1), 1), (today, 1)])

    xs = [date["x"] for date in chart["dates"]]
    assert len(xs) >= 2
    assert all(later - earlier >= 64 for earlier, later in pairwise(xs))


# --- Reasons -----------------------------------------------------------------------------


def test_reasons_are_paragraphs_with_an_optional_attribution():
    reasons = parse_reasons(REASONS)

    assert reasons[0].text == "My cousin was threatened through this network."
    assert reasons[0].attribution == "— Maryam, Sweden"
    assert reasons[1].direction == "rtl"
    assert reasons[2].attribution == ""
    assert parse_reasons("  \n\n \n") == []


def test_a_dash_list_is_not_taken_for_an_attribution():
    (reason,) = parse_reasons("I sign because:\n- for my sister\n- for my mother")

    assert reason.attribution == ""
    assert reason.text.endswith("- for my mother")


def test_it_refuses_too_many_reasons():
    with pytest.raises(DeliveryError, match="more than 200 reasons"):
        parse_reasons("\n\n".join(f"reason {n}" for n in range(201)))


def test_it_refuses_a_reason_too_long():
    with pytest.raises(DeliveryError, match="Reason 2 is 2001 characters long"):
        parse_reasons("fine\n\n" + "x" * 2001)


def test_it_refuses_a_reasons_file_that_is_not_utf8():
    with pytest.raises(DeliveryError, match="not UTF-8"):
        delivery.read_reasons_file("Für Freiheit".encode("latin-1"), "reasons.txt")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
            st.sampled_from(
                ["\n", "\n\n", "<script>", "</p>", "&amp;", "\u202e", "\u200f", "\n— "]
            ),
        ),
        max_size=30,
    ).map("".join)
)
def test_any_reasons_text_is_escaped_and_never_crashes(scene, text):
    try:
        reasons = parse_reasons(text)
    except DeliveryError:
        return
    html, _css = document_html(plan_document(scene, DeliveryOptions(reasons=tuple(reasons))))

    assert "<script>" not in html
    assert "\x00" not in html


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_reasons_text_prints(scene, text):
    reasons = tuple(parse_reasons(text[:2000]))
    options = DeliveryOptions(reasons=reasons, include_names=False, languages=("fa",))

    assert delivery_pdf(scene, options).startswith(b"%PDF")


def test_reasons_with_markup_and_bidi_marks_print(scene):
    reasons = parse_reasons("<script>alert(1)</script> \u202eevil\u202c\n\n\u200fسلام <b>")
    pdf = delivery_pdf(scene, DeliveryOptions(reasons=tuple(reasons), include_names=False))

    assert "<script>alert(1)</script>" in text_of(pdf)


# --- The numbers as CSV ------------------------------------------------------------------


def test_the_csv_holds_totals_countries_and_days_and_no_names(scene):
    text = aggregates_csv(scene, "en")

    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["row", "code", "name", "date", "count", "cumulative"]
    assert ["total", "confirmed", "Confirmed signatures", "", "4", ""] in rows
    assert ["total", "invalidated", "Removed as invalid", "", "1", ""] in rows
    assert ["country", "AF", "Afghanistan", "", "2", ""] in rows
    assert ["country", "SE", "Sweden", "", "1", ""] in rows
    days = [row for row in rows if row[0] == "day"]
    assert [row[5] for row in days] == ["1", "3", "4"]
    assert "Maryam" not in text


def test_the_csv_names_countries_in_dari(scene):
    assert "افغانستان" in aggregates_csv(scene, "fa")


def test_csv_cells_cannot_be_formulas():
    assert spreadsheet_safe("=HYPERLINK()") == "'=HYPERLINK()"
    assert spreadsheet_safe("@x") == "'@x"
    assert spreadsheet_safe("Sweden") == "Sweden"


# --- The organisers' page ----------------------------------------------------------------


def _login(client, petition, role="owner"):
    from hamseda.orgs import services as org_services

    user = org_services.create_organizer(
        email=f"{role}@example.org",
        password=PASSWORD,
        organization=petition.organization,
        role=role,
    )
    client.force_login(user)
    return user


def url(petition) -> str:
    return reverse("delivery:document", args=[petition.slug])


def test_the_page_explains_the_document_and_shows_its_numbers(client, scene):
    _login(client, scene)

    response = client.get(url(scene))

    assert response.status_code == 200
    body = response.content.decode()
    assert "not stored" in body
    assert 'name="reasons"' in body
    assert 'name="include_names"' in body
    assert body.count('name="languages"') == 3
    assert "ExampleSocial" in body


def test_the_page_works_in_dari(client, scene):
    _login(client, scene)

    response = client.get("/fa" + url(scene))

    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()


def test_posting_the_form_downloads_the_pdf(client, scene):
    _login(client, scene, "organizer")

    response = client.post(
        url(scene),
        {"languages": ["en", "fa"], "include_names": "on", "reasons": "For my sisters."},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="deliver-me-delivery-{today}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    text = text_of(response.content)
    assert "For my sisters." in text
    assert "Maryam" in text
    assert words(DARI_TITLE) <= words(text)
    assert not words(PASHTO_TITLE) <= words(text)


def test_too_many_reasons_give_the_page_again_with_a_400(client, scene):
    _login(client, scene)
    reasons = "\n\n".join(f"reason {n}" for n in range(201))

    response = client.post(url(scene), {"languages": ["en"], "reasons": reasons})

    assert response.status_code == 400
    assert "more than 200 reasons" in response.content.decode()
    assert "reason 200" in response.content.decode()  # kept, to be shortened


def test_no_language_chosen_is_a_400(client, scene):
    _login(client, scene)

    response = client.post(url(scene), {})

    assert response.status_code == 400
    assert "Choose at least one language." in response.content.decode()


def test_a_petition_without_signatures_cannot_be_delivered(client, db):
    petition = make_open_petition(make_org().organization)
    _login(client, petition)

    page = client.get(url(petition))
    response = client.post(url(petition), {"languages": ["en"]})

    assert "Nothing to deliver yet" in page.content.decode()
    assert response.status_code == 400
    assert "Nothing to deliver yet" in response.content.decode()


def test_the_csv_download(client, scene):
    _login(client, scene, "organizer")

    response = client.get(url(scene) + "?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode())
    assert b"Afghanistan" in response.content


def test_another_organisation_gets_a_404(client, scene, outsider):
    client.force_login(outsider)

    assert client.get(url(scene)).status_code == 404
    assert client.get(url(scene) + "?format=csv").status_code == 404
    assert client.post(url(scene), {"languages": ["en"]}).status_code == 404


@pytest.mark.parametrize("role", ["moderator", "analyst"])
def test_roles_that_cannot_edit_are_refused(client, scene, role):
    _login(client, scene, role)

    assert client.get(url(scene)).status_code == 403
    assert client.post(url(scene), {"languages": ["en"]}).status_code == 403
