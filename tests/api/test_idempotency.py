"""`Idempotency-Key` (api.idempotency): a retried request is answered once and never signs
twice, also after a crash and under concurrent retries; a key reused for another request
is refused; records go after 24 hours."""

from datetime import timedelta

import pytest
from django.test import Client

from hamseda.api import idempotency, signing
from hamseda.api.errors import ApiError
from hamseda.api.models import ApiKey, IdempotencyRecord
from hamseda.mail.models import OutboundMessage
from hamseda.petitions.models import Signature
from tests.api.test_write_api import (
    PENDING_BODY,
    PERSON,
    assert_error,
    partner_key,
    post_json,
    sign_path,
)
from tests.conftest import make_org, make_petition
from tests.petitions.test_concurrency import run_together

UUID = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def send(client, petition, key, body=None, idempotency_key=UUID, **headers):
    if idempotency_key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return post_json(client, sign_path(petition), body or PERSON, key, **headers)


def test_a_retry_gets_the_stored_answer_and_signs_once(client, petition, key, outbox):
    first = send(client, petition, key)
    assert first.status_code == 202
    assert idempotency.REPLAYED_HEADER not in first
    # The same request, its names in another order and spaced differently: the same.
    again = post_json(
        client,
        sign_path(petition),
        '{ "country":"AF", "email":"zarghuna@example.org",'
        ' "last_name":"Ahmadi", "first_name":"Zarghuna" }',
        key,
        HTTP_IDEMPOTENCY_KEY=f'"{UUID}"',  # As a Structured Field string, as the draft has it.
    )
    assert again.status_code == 202
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert again.json() == first.json() == PENDING_BODY
    assert Signature.objects.count() == 1
    assert OutboundMessage.objects.count() == 1  # One mail: the retry sent none.
    record = IdempotencyRecord.objects.get()
    assert record.key != UUID  # Kept as a digest only.
    assert record.status_code == 202


def test_the_same_key_with_another_request_is_422(client, org, petition, key, outbox):
    assert send(client, petition, key).status_code == 202
    other_body = send(client, petition, key, {**PERSON, "email": "someone@example.org"})
    body = assert_error(other_body, 422, "idempotency_key_reused")
    assert "different request" in body["message"]
    other_petition = make_petition(org.organization, "another-one")
    assert_error(send(client, other_petition, key), 422, "idempotency_key_reused")
    assert Signature.objects.count() == 1


def test_keys_are_per_api_key(client, org, petition, key, outbox):
    assert send(client, petition, key).status_code == 202
    other = partner_key(org.organization)
    response = send(client, petition, other, {**PERSON, "email": "someone@example.org"})
    assert response.status_code == 202
    assert idempotency.REPLAYED_HEADER not in response
    assert Signature.objects.count() == 2


@pytest.mark.parametrize("value", ["", "   ", "x" * 256, "with\u00e9accent", "tab\there"])
def test_a_malformed_idempotency_key_is_400(client, petition, key, value):
    assert_error(send(client, petition, key, idempotency_key=value), 400, "invalid_idempotency_key")
    assert not Signature.objects.exists()


def test_a_refusal_is_not_stored_and_the_request_may_be_sent_again(client, org, key, settings):
    """A 4xx changed nothing: the same key and request are simply tried again later."""
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_RULES": {"mails_per_address_hour": 1}}
    first = make_petition(org.organization, "first-one")
    second = make_petition(org.organization, "second-one")
    assert send(client, first, key, idempotency_key="a").status_code == 202
    assert_error(send(client, second, key, idempotency_key="b"), 429, "mail_limited")
    assert not IdempotencyRecord.objects.filter(status_code=0).exists()
    settings.HAMSEDA = {**settings.HAMSEDA, "INTEGRITY_RULES": {"mails_per_address_hour": 5}}
    assert send(client, second, key, idempotency_key="b").status_code == 202
    assert Signature.objects.filter(petition=second).count() == 1


def test_a_request_still_in_flight_is_409(client, petition, key, now):
    api_key = ApiKey.objects.get()
    fingerprint = idempotency.request_hash("POST", sign_path(petition), PERSON)
    claim = idempotency._claim(api_key, UUID, fingerprint, now)  # The first, not finished.
    assert isinstance(claim, idempotency._Claim)
    response = send(client, petition, key)
    assert_error(response, 409, "request_in_progress")
    assert response["Retry-After"] == "1"
    assert not Signature.objects.exists()


def test_after_a_crash_before_the_commit_the_retry_signs_once(client, petition, key, outbox, now):
    """The process died after claiming the key and before committing: no signature
    was committed, and once the claim's lease is over the retry signs, once."""
    api_key = ApiKey.objects.get()
    fingerprint = idempotency.request_hash("POST", sign_path(petition), PERSON)
    idempotency._claim(api_key, UUID, fingerprint, now - idempotency.IN_FLIGHT_LEASE)
    response = send(client, petition, key)
    assert response.status_code == 202
    assert idempotency.REPLAYED_HEADER not in response
    assert Signature.objects.count() == 1
    assert send(client, petition, key)[idempotency.REPLAYED_HEADER] == "true"


def test_a_failure_inside_the_transaction_leaves_no_signature_and_no_record(
    client, petition, key, outbox
):
    api_key = ApiKey.objects.get()
    fingerprint = idempotency.request_hash("POST", sign_path(petition), PERSON)

    def crashing(finish):
        def record(answer):
            finish(answer)
            raise RuntimeError("the server died here")

        return signing.api_sign(api_key, petition.slug, PERSON, language="en", record_answer=record)

    with pytest.raises(RuntimeError):
        idempotency.run_once(api_key, UUID, fingerprint, crashing)
    assert not Signature.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    assert send(client, petition, key).status_code == 202
    assert Signature.objects.count() == 1


def test_a_finish_that_lost_its_claim_rolls_the_signature_back(petition, key, now):
    """A slow first attempt whose claim a retry took over must not commit too."""
    api_key = ApiKey.objects.get()
    fingerprint = idempotency.request_hash("POST", sign_path(petition), PERSON)

    def overtaken(finish):
        def record(answer):
            IdempotencyRecord.objects.update(created_at=now + timedelta(seconds=1))
            finish(answer)

        return signing.api_sign(
            api_key, petition.slug, PERSON, language="en", record_answer=record
        ).answer()

    with pytest.raises(ApiError) as refused:
        idempotency.run_once(api_key, UUID, fingerprint, overtaken, now=now)
    assert refused.value.status == 409
    assert not Signature.objects.exists()


def test_a_key_may_be_used_again_after_24_hours(client, petition, key, now, outbox):
    assert send(client, petition, key).status_code == 202
    IdempotencyRecord.objects.update(created_at=now - idempotency.RETENTION)
    other = {**PERSON, "email": "someone@example.org"}
    response = send(client, petition, key, other)
    assert response.status_code == 202
    assert idempotency.REPLAYED_HEADER not in response
    assert Signature.objects.count() == 2


def test_records_are_purged_after_24_hours(org, now):
    api_key = ApiKey.objects.get(prefix=partner_key(org.organization).split("_")[1])
    for age, name in [(timedelta(hours=25), "old"), (timedelta(hours=23), "young")]:
        IdempotencyRecord.objects.create(
            api_key=api_key,
            key=name,
            request_hash="0" * 64,
            status_code=202,
            body={},
            created_at=now - age,
        )
    assert idempotency.purge_idempotency_records(now) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]


@pytest.fixture
def key(org):
    return partner_key(org.organization)


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_sign_once():
    """Six retries of one request at the same moment, each on its own connection: one
    signature, one mail; every answer is the 202 or "still in progress" (409)."""
    organization = make_org("racers").organization
    petition = make_petition(organization, "raced")
    key = partner_key(organization)

    def retry():
        response = send(Client(), petition, key)
        return response.status_code, response.json()

    answers = run_together([retry] * 6)
    statuses = [status for status, _body in answers]
    assert set(statuses) <= {202, 409}, answers
    assert 202 in statuses
    assert all(body == PENDING_BODY for status, body in answers if status == 202)
    assert Signature.objects.count() == 1
    assert OutboundMessage.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 202
    # A retry after the race gets the answer.
    assert send(Client(), petition, key)[idempotency.REPLAYED_HEADER] == "true"


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_different_keys_still_make_one_signature():
    organization = make_org("racers").organization
    petition = make_petition(organization, "raced")
    key = partner_key(organization)
    answers = run_together(
        [lambda n=n: send(Client(), petition, key, idempotency_key=f"key-{n}") for n in range(4)]
    )
    assert [response.status_code for response in answers] == [202] * 4
    assert Signature.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 4
