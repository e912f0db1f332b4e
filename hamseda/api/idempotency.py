"""`Idempotency-Key` for the write API (IETF draft-ietf-httpapi-idempotency-key-header):
a partner that retries a request after a timeout or a crash never signs twice.

Per API key, one record per idempotency key, made when a request with it arrives:

1. **Claim** (its own short transaction). Insert the record "in flight" (status 0),
   stamped with the time. The unique constraint (api key, key) lets exactly one of
   several concurrent requests in; the others read the record and get
   - the stored answer again, with `Idempotent-Replayed: true`, if it is finished and
     their request is the same (SHA-256 of method, path and the canonical JSON body);
   - 422 if the request is a different one: the key was used for something else;
   - 409 if the first is still in flight.
2. **Work and finish in one transaction.** The signature (or RSVP) is written and the
   record set to its answer in the same transaction (`finish`, called by the work from
   inside it). So the signature commits with its answer, or neither does: a crash
   before the commit leaves no signature, and the retry signs once; a crash after it
   leaves the answer, and the retry gets it.
3. A refusal (any error) stores nothing: the record is deleted, and the request may
   be sent again as it is, e.g. after a 429. Only an accepted request (2xx) is kept.

A process that dies between 1 and 2 leaves a record in flight; after IN_FLIGHT_LEASE a
retry takes it over. `finish` updates the record only if it still carries the claim's
stamp, so of a slow first attempt and a retry that took over, one commits.

Records are kept RETENTION (24 hours), then deleted by `purge_idempotency_records`;
an expired record is also replaced by the next request with its key. The database
keeps the key and the request only as SHA-256 digests, and the answer, which holds no
personal data ("check your inbox").
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.api.errors import ApiError
from hamseda.api.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
# How long a claim may stay in flight before a retry may take it over: far longer than
# any signature takes, short enough for a partner's retry after a crash.
IN_FLIGHT_LEASE = timedelta(seconds=60)
IN_FLIGHT = 0
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Answer:
    """What a write request is answered: its status and JSON body."""

    status: int
    body: dict
    replayed: bool = False


# Called by the work, inside its transaction, with its answer.
Finish = Callable[[Answer], None]


@dataclass(frozen=True)
class _Claim:
    pk: int
    stamp: datetime


def parse_key(value: str | None) -> str | None:
    """The idempotency key a request sent (None: none), or a 400 if it is not one: 1 to
    255 visible ASCII characters, bare or as a quoted Structured Field string
    ("…" as the draft writes it). A UUID is a good key."""
    if value is None:
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not 0 < len(text) <= MAX_KEY_LENGTH or not all(" " < char <= "~" for char in text):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            _("The Idempotency-Key header must be 1 to 255 visible ASCII characters, e.g. a UUID."),
        )
    return text


def canonical_json(data: Any) -> bytes:
    """The body as one canonical text: names sorted, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_hash(method: str, path: str, body: Any) -> str:
    """The fingerprint of a request for "same key, same request?"."""
    digest = hashlib.sha256()
    digest.update(method.upper().encode() + b"\n" + path.encode() + b"\n")
    digest.update(canonical_json(body))
    return digest.hexdigest()


def _key_digest(key: str) -> str:
    # A partner might put anything in its keys (even an address): keep only a digest.
    return hashlib.sha256(key.encode()).hexdigest()


def in_flight_error() -> ApiError:
    return ApiError(
        409,
        "request_in_progress",
        _(
            "A request with this Idempotency-Key is still being processed. Wait a moment and "
            "send it again to get its answer."
        ),
        headers={"Retry-After": "1"},
    )


def _claim(api_key: ApiKey, key: str, fingerprint: str, now: datetime) -> _Claim | Answer:
    """Step 1: claim the key for this request, or the stored answer; ApiError for a
    different request (422) or one in flight (409)."""
    digest = _key_digest(key)
    for _attempt in range(3):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        api_key=api_key,
                        key=digest,
                        request_hash=fingerprint,
                        status_code=IN_FLIGHT,
                        body={},
                        created_at=now,
                    )
                return _Claim(record.pk, now)
            except IntegrityError:
                pass
            # The row lock orders us after a concurrent finish or release (PostgreSQL;
            # SQLite's write lock, taken by the insert, already does).
            found = (
                IdempotencyRecord.objects.select_for_update()
                .filter(api_key=api_key, key=digest)
                .first()
            )
            if found is None:
                continue  # Released in between: claim again.
            expired = found.created_at <= now - RETENTION
            abandoned = found.status_code == IN_FLIGHT and found.created_at <= now - IN_FLIGHT_LEASE
            if expired or (abandoned and found.request_hash == fingerprint):
                IdempotencyRecord.objects.filter(pk=found.pk).update(
                    request_hash=fingerprint, status_code=IN_FLIGHT, body={}, created_at=now
                )
                return _Claim(found.pk, now)
            if found.request_hash != fingerprint:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    _(
                        "This Idempotency-Key was used with a different request. Use a new "
                        "key for each new request, and the same key only to retry the same one."
                    ),
                )
            if found.status_code == IN_FLIGHT:
                raise in_flight_error()
            return Answer(found.status_code, found.body, replayed=True)
    raise in_flight_error()  # pragma: no cover - claimed and released three times over.


def _release(claim: _Claim) -> None:
    """Step 3: forget a claim whose request was refused (or failed), if still ours."""
    IdempotencyRecord.objects.filter(
        pk=claim.pk, status_code=IN_FLIGHT, created_at=claim.stamp
    ).delete()


def _finisher(claim: _Claim, done: list[Answer]) -> Finish:
    def finish(answer: Answer) -> None:
        """Step 2, inside the work's transaction: store the answer with its change."""
        if not 200 <= answer.status < 300:
            return  # Refusals are not stored (step 3).
        stored = IdempotencyRecord.objects.filter(
            pk=claim.pk, status_code=IN_FLIGHT, created_at=claim.stamp
        ).update(status_code=answer.status, body=answer.body)
        if not stored:
            # A retry took the claim over after the lease: it will answer; our
            # transaction (and its signature) must roll back.
            raise in_flight_error()
        done.append(answer)

    return finish


def run_once(
    api_key: ApiKey,
    key: str | None,
    fingerprint: str,
    work: Callable[[Finish | None], Answer],
    *,
    now: datetime | None = None,
) -> Answer:
    """Run `work` at most once per (api key, idempotency key) and request.

    `work(finish)` does the change in a transaction and, inside it, calls
    `finish(answer)` (when given) once the change is made; it returns the answer or
    raises ApiError. Without an idempotency key (`key` None), `work(None)` simply runs.
    `fingerprint` is `request_hash(...)` of the request.
    """
    if key is None:
        return work(None)
    now = now or timezone.now()
    claimed = _claim(api_key, key, fingerprint, now)
    if isinstance(claimed, Answer):
        return claimed
    done: list[Answer] = []
    try:
        answer = work(_finisher(claimed, done))
    except BaseException:
        _release(claimed)
        raise
    if not done:
        _release(claimed)  # A refusal returned rather than raised: nothing stored.
    return answer


def purge_idempotency_records(now: datetime | None = None) -> int:
    """Delete records older than RETENTION; the number deleted. Scheduled hourly."""
    now = now or timezone.now()
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=now - RETENTION).delete()
    return deleted
