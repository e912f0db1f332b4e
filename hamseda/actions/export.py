"""The sealed attendee list of an event, in the signature export's format.

Same "hamseda-sealed-export" version 1 JSON Lines as vault.export (header, records,
trailer with SHA-256), written with its encode_line, so `hamseda decrypt FILE --key K`
and the browser decrypt page open it unchanged. The header says what it is ("kind":
"rsvps", "event": slug); each record carries the RSVP's sealed blob (sealed to the
HOST organisation's key), its key id, state, the event's country, and the times of the
RSVP and its confirmation as "created_at" and "validated_at", the columns the decrypt
CSV already has. Every export is audited (AuditAction.EXPORT) before its first byte.
"""

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Max
from django.utils import timezone

from hamseda.actions.models import Event, Rsvp
from hamseda.vault.export import CHUNK_SIZE, FORMAT, VERSION, encode_line


def _timestamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


@dataclass(frozen=True)
class AttendeeExport:
    event: Event
    header: dict[str, Any]
    upto: int

    def rows(self):
        return (
            Rsvp.objects.filter(event=self.event, pk__lte=self.upto)
            .order_by("pk")
            .values_list("sealed", "key_id", "state", "created_at", "confirmed_at")
            .iterator(chunk_size=CHUNK_SIZE)
        )


def plan_export(event: Event, *, now: datetime | None = None) -> AttendeeExport:
    now = now or timezone.now()
    rsvps = Rsvp.objects.filter(event=event)
    upto = rsvps.aggregate(top=Max("pk"))["top"] or 0
    included = rsvps.filter(pk__lte=upto)
    host = event.host
    header = {
        "format": FORMAT,
        "version": VERSION,
        "kind": "rsvps",
        "organization": {"slug": host.slug, "name": host.name},
        "petition": "",
        "event": event.slug,
        "created_at": _timestamp(now),
        "records": included.count(),
        "key_ids": sorted(set(included.values_list("key_id", flat=True).distinct())),
    }
    return AttendeeExport(event=event, header=header, upto=upto)


def export_lines(plan: AttendeeExport) -> Iterator[bytes]:
    digest = hashlib.sha256()
    written = 0
    first = encode_line(plan.header)
    digest.update(first)
    yield first
    for sealed, key_id, state, created_at, confirmed_at in plan.rows():
        line = encode_line(
            {
                "sealed": base64.b64encode(bytes(sealed)).decode(),
                "key_id": key_id,
                "state": state,
                "country": plan.event.country,
                "show_name": False,
                "keep_updated": False,
                "created_at": _timestamp(created_at),
                "validated_at": _timestamp(confirmed_at),
            }
        )
        digest.update(line)
        written += 1
        yield line
    yield encode_line({"end": FORMAT, "records": written, "sha256": digest.hexdigest()})


def file_name(plan: AttendeeExport) -> str:
    moment = datetime.fromisoformat(plan.header["created_at"]).strftime("%Y%m%d-%H%M%S")
    return f"hamseda-event-{plan.event.slug}-{moment}.jsonl"


def start_export(event: Event, *, actor=None, via: str, now: datetime | None = None):
    """Plan the export and write its audit event first (an interrupted export has still
    let records out)."""
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction

    now = now or timezone.now()
    plan = plan_export(event, now=now)
    record(
        AuditAction.EXPORT,
        organization=event.host,
        actor=actor,
        subject=event.slug,
        details={
            "event": event.slug,
            "records": plan.header["records"],
            "key_ids": plan.header["key_ids"],
            "via": via,
        },
        now=now,
    )
    return plan
