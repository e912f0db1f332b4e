"""The Django admin for staff: every page opens, and nothing sealed, fingerprinted or
countable can be read or changed by hand there."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hamseda.mail.admin import redact_addresses
from hamseda.mail.models import OutboundMessage
from hamseda.petitions import services
from hamseda.petitions.models import Signature
from tests.conftest import PASSWORD, confirmation_link, run_tasks, signer

MODELS = [
    "orgs/organization",
    "orgs/membership",
    "campaigns/campaign",
    "petitions/decisionmaker",
    "petitions/petition",
    "petitions/signature",
    "mail/outboundmessage",
]


@pytest.fixture
def staff(client, db):
    admin = get_user_model().objects.create_superuser("root@example.org", password=PASSWORD)
    client.force_login(admin)
    return client


@pytest.fixture
def signed(petition, outbox, now):
    """One confirmed signature with a public first name, one pending and still queued."""
    services.sign_petition(petition, signer(1, first_name="Zarghuna", show_name=True), now=now)
    run_tasks()
    token = confirmation_link(outbox[0]).rsplit("/", 1)[1]
    services.confirm_signature(petition, token, now=now)
    services.sign_petition(petition, signer(2, last_name="Pendingperson"), now=now)
    petition.refresh_from_db()
    return petition


def admin_url(model: str, view: str = "changelist", *args) -> str:
    app, name = model.split("/")
    return reverse(f"admin:{app}_{name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS)
def test_every_admin_list_opens(staff, signed, model):
    response = staff.get(admin_url(model))
    assert response.status_code == 200


def test_an_anonymous_user_cannot_open_the_admin(client, signed):
    response = client.get(admin_url("petitions/signature"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_signatures_show_no_sealed_data_fingerprint_or_name(staff, signed):
    signature = Signature.objects.filter(state="validated").get()
    pages = [
        staff.get(admin_url("petitions/signature")).text,
        staff.get(admin_url("petitions/signature", "change", signature.pk)).text,
    ]
    for page in pages:
        assert signature.email_fingerprint not in page
        assert signature.token_hash not in page
        assert "Zarghuna" not in page
        assert "signer1@example.org" not in page
        assert "sealed" not in page.lower()


def test_signatures_cannot_be_added_changed_or_deleted(staff, signed):
    signature = Signature.objects.filter(state="pending").get()
    assert staff.get(admin_url("petitions/signature", "add")).status_code == 403
    response = staff.post(
        admin_url("petitions/signature", "change", signature.pk), {"state": "validated"}
    )
    assert response.status_code == 403
    assert staff.post(admin_url("petitions/signature", "delete", signature.pk)).status_code == 403
    response = staff.post(
        admin_url("petitions/signature"),
        {"action": "delete_selected", "_selected_action": [signature.pk], "post": "yes"},
    )
    signature.refresh_from_db()
    assert signature.state == "pending"
    signed.refresh_from_db()
    assert signed.signature_count == 1


def test_the_outbox_is_read_only_and_shows_no_address_or_body(staff, signed):
    message = OutboundMessage.objects.filter(state="queued").get()
    for page in [
        staff.get(admin_url("mail/outboundmessage")).text,
        staff.get(admin_url("mail/outboundmessage", "change", message.pk)).text,
    ]:
        assert "signer2@example.org" not in page
        assert "Pendingperson" not in page
        assert "/confirm/" not in page
    assert staff.get(admin_url("mail/outboundmessage", "add")).status_code == 403
    response = staff.post(
        admin_url("mail/outboundmessage", "change", message.pk), {"state": "sent"}
    )
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.state == "queued"


def test_an_error_quoting_an_address_is_redacted():
    error = "SMTPRecipientsRefused: {'maryam@example.org': (550, b'<maryam@example.org> no')}"
    assert "maryam" not in redact_addresses(error)
    assert "550" in redact_addresses(error)


def test_an_open_petition_cannot_be_changed_or_recounted_by_hand(staff, signed):
    page = staff.get(admin_url("petitions/petition", "change", signed.pk))
    assert page.status_code == 200
    assert 'name="signature_count"' not in page.text
    assert 'name="state"' not in page.text
    assert 'name="slug"' not in page.text  # Open: its wording and address are fixed.
    assert "Suspend the accounts" in page.text
    staff.post(
        admin_url("petitions/petition", "change", signed.pk),
        {"state": "draft", "signature_count": "1000000", "slug": "renamed", "goal": "5"},
    )
    signed.refresh_from_db()
    assert (signed.state, signed.signature_count, signed.slug) == ("open", 1, "free-speech")
    # Deleting it would delete its signatures.
    assert staff.post(admin_url("petitions/petition", "delete", signed.pk)).status_code == 403


def test_a_draft_can_be_edited_but_not_its_state(staff, org):
    from tests.conftest import make_petition

    draft = make_petition(org.organization, "draft-petition", open_=False)
    page = staff.get(admin_url("petitions/petition", "change", draft.pk)).text
    assert 'name="slug"' in page
    assert 'name="state"' not in page
    assert 'name="signature_count"' not in page


def test_the_organisation_key_is_shown_but_not_editable(staff, org):
    page = staff.get(admin_url("orgs/organization", "change", org.organization.pk)).text
    assert 'name="public_key"' not in page
    assert org.organization.public_key in page
    assert org.secret_key not in page
