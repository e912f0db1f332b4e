"""A signer's separate consent to hear from a co-hosting partner (petitions.partner_consent)
and the partner's sealed export of those consents (campaigns.partners)."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hamseda.campaigns import partners
from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Organization
from hamseda.petitions import services, withdrawal
from hamseda.petitions.models import Signature, SignatureShare, SignatureState
from hamseda.vault import crypto, retention
from tests.conftest import (
    PASSWORD,
    SIGN_FORM,
    confirmation_link,
    make_org,
    run_tasks,
    signer,
    with_two_factor,
)
from tests.vault.test_export import read_csv, write_key_file
from tests.vault.test_no_plaintext import every_value_in_every_table, needles, search

BOX = "Let Voices contact me about its work"


@pytest.fixture
def voices(db):
    return make_org("voices")


@pytest.fixture
def keyless(db):
    organization = Organization.objects.create(name="Keyless Friends", slug="keyless")
    return organization


@pytest.fixture
def cohosted(petition, voices, keyless):
    """The petition co-hosted by Voices (with a key) and Keyless Friends (without)."""
    for partner in (voices.organization, keyless):
        partners.add_partner(petition.campaign, partner)
    partners.set_co_hosts(petition, [voices.organization, keyless])
    return petition


def sign(client, petition, **extra):
    return client.post(reverse("petitions:sign", args=[petition.slug]), {**SIGN_FORM, **extra})


def test_the_page_names_the_co_hosts_and_offers_unticked_boxes_only_with_a_key(
    client, cohosted, voices
):
    body = client.get(cohosted.get_absolute_url()).content.decode()
    assert "Co-hosted by" in body
    assert "Keyless Friends" in body
    assert "Voices" in body
    assert BOX in body
    assert "Let Keyless Friends contact me" not in body
    box = body[body.index('name="share_with"') - 80 : body.index(BOX)]
    assert f'value="{voices.organization.pk}"' in box
    assert "checked" not in box


def test_a_petition_without_co_hosts_offers_no_box(client, petition):
    body = client.get(petition.get_absolute_url()).content.decode()
    assert "share_with" not in body
    assert "Co-hosted by" not in body


def test_signing_with_the_box_ticked_shares_once_sealed_to_the_partner(
    client, cohosted, voices, org
):
    assert sign(client, cohosted, share_with=voices.organization.pk).status_code == 200
    share = SignatureShare.objects.get()
    assert share.organization == voices.organization
    assert share.key_id == crypto.key_id(voices.organization.public_key)
    record = voices.unseal(share.sealed)
    assert record["first_name"] == "Maryam"
    assert record["email"] == "maryam@example.org"
    assert (record["country"], record["language"]) == ("AF", "en")
    assert "reason" not in record
    assert "consented_at" in record
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure to open will do.
        org.unseal(share.sealed)


def test_signing_without_the_box_shares_nothing(client, cohosted):
    assert sign(client, cohosted).status_code == 200
    assert Signature.objects.count() == 1
    assert not SignatureShare.objects.exists()


def test_forged_boxes_share_nothing(client, cohosted, keyless, db):
    stranger = make_org("stranger")
    sign(client, cohosted, share_with=[keyless.pk, stranger.organization.pk, 999999])
    assert Signature.objects.count() == 1
    assert not SignatureShare.objects.exists()
    # Not even a number: the form again with a 400, nothing stored.
    assert sign(client, cohosted, share_with="voices", email="x@example.org").status_code == 400


def test_a_repeated_signature_shares_nothing_and_looks_the_same(client, cohosted, voices):
    first = sign(client, cohosted)
    again = sign(client, cohosted, share_with=voices.organization.pk)
    assert again.status_code == first.status_code == 200
    assert not SignatureShare.objects.exists()
    # The same page but for the random sharer code in its share links; no partner named.
    assert len(again.content) == len(first.content)
    assert b"Voices" not in again.content


def test_signing_a_petition_without_co_hosts_costs_no_query_more(petition):
    with CaptureQueriesContext(connection) as queries:
        services.sign_petition(petition, signer(1))
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    assert "co_hosts" not in sql
    assert "signatureshare" not in sql


def test_the_sign_view_loads_no_co_hosts_for_a_valid_post(client, cohosted):
    with CaptureQueriesContext(connection) as queries:
        assert sign(client, cohosted).status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    assert "co_hosts" not in sql
    assert "signatureshare" not in sql


def test_withdrawal_erasure_and_retention_delete_shares(cohosted, voices, now):
    ids = (voices.organization.pk,)
    for number in (1, 2, 3):
        services.record_confirmed_signature(cohosted, signer(10 + number), now=now)
        services.sign_petition(cohosted, signer(number, share_with=ids), now=now)
    assert SignatureShare.objects.count() == 3
    one = SignatureShare.objects.order_by("pk").first().signature
    token = withdrawal.withdraw_token(cohosted.pk, one.pk)
    assert withdrawal.withdraw_signature(cohosted, token) == withdrawal.WithdrawOutcome.WITHDRAWN
    assert SignatureShare.objects.count() == 2
    withdrawal.erase_signatures(crypto.email_fingerprint("signer2@example.org"))
    assert SignatureShare.objects.count() == 1
    services.close_petition(cohosted, now=now)
    retention.purge_petition(cohosted, now=now)
    assert not SignatureShare.objects.exists()


@pytest.fixture
def partner_owner(voices):
    user = org_services.create_organizer(
        email="owner@voices.example", password=PASSWORD, organization=voices.organization
    )
    return with_two_factor(user)


def confirm_all(client, outbox):
    run_tasks()
    for message in outbox:
        url = confirmation_link(message).removeprefix("http://testserver")
        assert client.get(url).status_code == 200


def test_the_partners_export_decrypts_to_its_confirmed_consenting_signers(
    client, cohosted, voices, partner_owner, outbox, tmp_path
):
    ids = (voices.organization.pk,)
    services.sign_petition(cohosted, signer(1, first_name="زرغونه", language="fa", share_with=ids))
    services.sign_petition(cohosted, signer(2, share_with=ids))  # stays pending
    services.sign_petition(cohosted, signer(3))  # no consent
    run_tasks()
    confirmed = [m for m in outbox if m.to[0] in {"signer1@example.org", "signer3@example.org"}]
    for message in confirmed:
        assert (
            client.get(confirmation_link(message).removeprefix("http://testserver")).status_code
            == 200
        )
    client.force_login(partner_owner)
    url = reverse("partners:contacts", args=["voices", cohosted.campaign.slug])
    assert "holds 1 confirmed signer" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 200
    assert "voices" in response["Content-Disposition"]
    path = tmp_path / "contacts.jsonl"
    path.write_bytes(b"".join(response.streaming_content))
    header = json.loads(path.read_bytes().splitlines()[0])
    assert header["organization"]["slug"] == "voices"
    assert header["campaign"] == cohosted.campaign.slug
    key = write_key_file(tmp_path / "voices.key", "voices", voices.secret_key)
    out = tmp_path / "contacts.csv"
    call_command("decrypt", str(path), "--key", str(key), "--out", str(out), stdout=io.StringIO())
    rows = read_csv(out)
    assert [(r["first name"], r["e-mail"], r["state"]) for r in rows] == [
        ("زرغونه", "signer1@example.org", "validated")
    ]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.organization == voices.organization
    assert event.details["records"] == 1


def test_the_petitions_key_cannot_open_the_partners_export(
    client, cohosted, voices, partner_owner, org, tmp_path
):
    services.record_confirmed_signature(cohosted, signer(1), now=None)
    services.sign_petition(cohosted, signer(2, share_with=(voices.organization.pk,)))
    Signature.objects.update(state=SignatureState.VALIDATED)
    client.force_login(partner_owner)
    response = client.post(reverse("partners:contacts", args=["voices", cohosted.campaign.slug]))
    path = tmp_path / "contacts.jsonl"
    path.write_bytes(b"".join(response.streaming_content))
    key = write_key_file(tmp_path / "alliance.key", "alliance", org.secret_key)
    with pytest.raises(Exception, match="needs the key"):
        call_command(
            "decrypt", str(path), "--key", str(key), "--out", str(tmp_path / "x.csv"),
            stdout=io.StringIO(),
        )  # fmt: skip


def test_neither_side_can_export_the_others_data(client, cohosted, voices, partner_owner, org):
    # The petition's owner (two-factor) is no member of the partner: the partner's
    # contacts are not found.
    owner = with_two_factor(
        org_services.create_organizer(
            email="owner@alliance.example", password=PASSWORD, organization=org.organization
        )
    )
    client.force_login(owner)
    url = reverse("partners:contacts", args=["voices", cohosted.campaign.slug])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    # Nor is its own organisation a partner of its own campaign.
    own = reverse("partners:contacts", args=["alliance", cohosted.campaign.slug])
    assert client.post(own).status_code == 404
    # The partner's owner cannot export the petition's signatures.
    client.force_login(partner_owner)
    signatures = reverse("export:signatures", args=[cohosted.slug])
    assert client.post(signatures).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_flow_with_shares_leaves_no_plain_text_in_any_table(client, cohosted, voices, outbox):
    person = {
        **SIGN_FORM,
        "first_name": "Sharedmarker-5521",
        "last_name": "شریکنشانه",
        "email": "shared-needle-7719@example.org",
        "reason": "Sharedreason-3307",
    }
    response = client.post(
        reverse("petitions:sign", args=[cohosted.slug]),
        {**person, "share_with": voices.organization.pk},
    )
    assert response.status_code == 200
    confirm_all(client, outbox)
    assert SignatureShare.objects.filter(signature__state=SignatureState.VALIDATED).count() == 1
    words = needles({**person, "language": "en"})
    search(every_value_in_every_table(), words, "a table after signing with a share")
