"""Sealed exports of a petition's signatures, and reading them back.

An export holds only what the database holds: each signature's sealed blob (still
sealed to the organisation's public key), its key id and its few plain columns. Whoever
steals an export learns no more than whoever steals the database; reading the people
in it needs the organisation's secret key(s), offline (`hamseda decrypt`, vault.decrypt)
or in the organiser's browser (static/hamseda/decrypt.js).

The format, "hamseda-sealed-export" version 1, is JSON Lines (UTF-8, one JSON object
per line, each line ending in "\\n"):

1. a header: ``{"format": "hamseda-sealed-export", "version": 1, "organization":
   {"slug", "name"}, "petition": slug, "created_at": ISO 8601 UTC, "records": N,
   "key_ids": [the key ids of the records, sorted]}``;
2. N records, oldest signature first: ``{"sealed": base64, "key_id", "state",
   "country", "show_name", "keep_updated", "created_at", "validated_at" (or null)}``;
3. a trailer: ``{"end": "hamseda-sealed-export", "records": N, "sha256": hex}`` where
   the digest is the SHA-256 of every byte before the trailer line.

The trailer makes a cut-off file (no trailer) and a damaged one (digest or count
mismatch) detectable. It is not a signature: anyone who can change the file can also
recompute the digest (docs/privacy.md, "Keys, rotation and exports").

Exports are streamed (`.iterator()` in chunks), so a petition with 500,000 signatures
is never held in memory; every export writes an audit event first (PRIVACY.md rule 7).
"""

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from django.db.models import Count, Max
from django.utils import timezone

from hamseda.orgs.models import Organization
from hamseda.petitions.models import Petition, Signature

FORMAT = "hamseda-sealed-export"
VERSION = 1
# Rows fetched per database round trip while streaming: big enough to be quick, small
# enough that memory stays flat however many signatures a petition has.
CHUNK_SIZE = 2000

RECORD_FIELDS = (
    "sealed",
    "key_id",
    "state",
    "country",
    "public_name",
    "keep_updated",
    "created_at",
    "validated_at",
)


class ExportError(ValueError):
    """An export file that cannot be used; the message says why, for the organiser."""


def _timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def encode_line(item: dict[str, Any]) -> bytes:
    """One line of the format: compact JSON, UTF-8 (names stay readable), "\\n"."""
    return (json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportPlan:
    """What one export will hold, decided before the first byte is written.

    `upto` is the highest signature id at that moment: signatures made while the export
    streams are left out, so the header's count and key ids stay true.
    """

    petition: Petition
    header: dict[str, Any]
    upto: int

    @property
    def records(self) -> int:
        return int(self.header["records"])

    def rows(self) -> Iterator[tuple]:
        return (
            Signature.objects.filter(petition=self.petition, pk__lte=self.upto)
            .order_by("pk")
            .values_list(*RECORD_FIELDS)
            .iterator(chunk_size=CHUNK_SIZE)
        )

    def records_out(self) -> Iterator[dict[str, Any]]:
        return (_record(row) for row in self.rows())


@dataclass(frozen=True)
class SealedRecords:
    """An export of other sealed records than a petition's signatures (a partner's
    shares of signatures, an event's RSVPs): a header made by `make_header` and a
    function that yields the records, each made by `export_record`. `export_lines`
    writes it like an ExportPlan, so `hamseda decrypt` and the browser open it."""

    header: dict[str, Any]
    produce: Callable[[], Iterator[dict[str, Any]]]

    @property
    def records(self) -> int:
        return int(self.header["records"])

    def records_out(self) -> Iterator[dict[str, Any]]:
        return self.produce()


def make_header(
    organization: Organization,
    *,
    records: int,
    key_ids: Iterable[str],
    now: datetime,
    **about: Any,
) -> dict[str, Any]:
    """The header line; `organization` is the one whose key opens the records, and
    `about` says what they are (`petition=slug`, or e.g. `campaign=slug`)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "organization": {"slug": organization.slug, "name": organization.name},
        **about,
        "created_at": _timestamp(now),
        "records": records,
        "key_ids": sorted(set(key_ids)),
    }


def plan_export(petition: Petition, *, now: datetime | None = None) -> ExportPlan:
    now = now or timezone.now()
    signatures = Signature.objects.filter(petition=petition)
    upto = signatures.aggregate(top=Max("pk"))["top"] or 0
    included = signatures.filter(pk__lte=upto)
    header = make_header(
        petition.organization,
        petition=petition.slug,
        now=now,
        records=included.count(),
        key_ids=included.values_list("key_id", flat=True).distinct(),
    )
    return ExportPlan(petition=petition, header=header, upto=upto)


def export_record(
    sealed: bytes | memoryview,
    key_id: str,
    *,
    state: str,
    country: str,
    show_name: bool,
    keep_updated: bool,
    created_at: datetime | None,
    validated_at: datetime | None,
) -> dict[str, Any]:
    """One record line of the format (see the module docstring)."""
    return {
        "sealed": base64.b64encode(bytes(sealed)).decode(),
        "key_id": key_id,
        "state": state,
        "country": country,
        "show_name": show_name,
        "keep_updated": keep_updated,
        "created_at": _timestamp(created_at),
        "validated_at": _timestamp(validated_at),
    }


def _record(row: tuple) -> dict[str, Any]:
    sealed, key_id, state, country, public_name, keep_updated, created_at, validated_at = row
    return export_record(
        sealed,
        key_id,
        state=state,
        country=country,
        # Only whether the name is public; the name itself is in the sealed record.
        show_name=public_name != "",
        keep_updated=keep_updated,
        created_at=created_at,
        validated_at=validated_at,
    )


def export_lines(plan: "ExportPlan | SealedRecords") -> Iterator[bytes]:
    """The export, line by line: header, one line per signature, trailer."""
    digest = hashlib.sha256()
    written = 0
    lines = _header_and_records(plan)
    for line in lines:
        digest.update(line)
        yield line
        written += 1
    # `written` counts the header too. The count is what was actually written: if a
    # signature was erased between planning and streaming, the header and trailer
    # disagree and `read_export` says so, rather than the export silently lying.
    yield encode_line({"end": FORMAT, "records": written - 1, "sha256": digest.hexdigest()})


def _header_and_records(plan: "ExportPlan | SealedRecords") -> Iterator[bytes]:
    yield encode_line(plan.header)
    for item in plan.records_out():
        yield encode_line(item)


def file_name(plan: ExportPlan) -> str:
    """hamseda-<petition>-<UTC time>.jsonl: slugs are ASCII, safe in a header."""
    moment = datetime.fromisoformat(plan.header["created_at"]).strftime("%Y%m%d-%H%M%S")
    return f"hamseda-{plan.petition.slug}-{moment}.jsonl"


def record_export(plan: ExportPlan, *, actor=None, via: str, now: datetime | None = None) -> None:
    """The audit event of an export (`actor` None is the system: the CLI)."""
    from hamseda.integrity.audit import record
    from hamseda.integrity.models import AuditAction

    record(
        AuditAction.EXPORT,
        organization=plan.petition.organization,
        actor=actor,
        subject=plan.petition.slug,
        details={
            "petition": plan.petition.slug,
            "records": plan.records,
            "key_ids": plan.header["key_ids"],
            "via": via,
        },
        now=now,
    )


def start_export(
    petition: Petition, *, actor=None, via: str, now: datetime | None = None
) -> ExportPlan:
    """Plan an export and write its audit event, committed before any data leaves.

    The event is written first on purpose: an export interrupted halfway has still let
    records out, so it must be in the log either way.
    """
    now = now or timezone.now()
    plan = plan_export(petition, now=now)
    record_export(plan, actor=actor, via=via, now=now)
    return plan


def write_export_file(
    petition: Petition, out: Path, *, actor=None, now: datetime | None = None
) -> ExportPlan:
    """Write the sealed export to `out` (mode 0600); refuse to overwrite a file.

    The data goes to a temporary file next to `out` that is renamed only when complete,
    so a crash never leaves something that looks like a whole export.
    """
    if out.exists():
        raise ExportError(f"{out} exists; refusing to overwrite it.")
    out.parent.mkdir(parents=True, exist_ok=True)
    plan = start_export(petition, actor=actor, via="cli", now=now)
    _write_atomically(out, export_lines(plan))
    return plan


def _write_atomically(out: Path, lines: Iterable[bytes]) -> None:
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            for line in lines:
                stream.write(line)
        os.chmod(temporary, 0o600)
        publish(Path(temporary), out)
    finally:
        Path(temporary).unlink(missing_ok=True)


def publish(temporary: Path, out: Path) -> None:
    """Give a finished temporary file its real name, never replacing an existing file.

    A hard link refuses an existing target, unlike a rename, so two runs cannot race;
    file systems without hard links (a FAT-formatted USB stick) get a checked rename.
    The caller removes `temporary` afterwards if it is still there.
    """
    try:
        os.link(temporary, out)
    except FileExistsError:
        raise ExportError(f"{out} exists; refusing to overwrite it.") from None
    except OSError:
        if out.exists():
            raise ExportError(f"{out} exists; refusing to overwrite it.") from None
        os.replace(temporary, out)


def sealed_records_by_key(organization: Organization) -> dict[str, int]:
    """How many signatures of the organisation are sealed to each key id."""
    rows = (
        Signature.objects.filter(petition__organization=organization)
        .values("key_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["key_id"]: row["n"] for row in rows}


# --- reading ------------------------------------------------------------------------------

# No line of a real export comes near this (a sealed record is a few kilobytes); a
# longer one means the file is something else, and it must not be read into memory whole.
MAX_LINE = 1 << 20


def read_lines(stream: BinaryIO, name: str = "the export") -> Iterator[bytes]:
    """The lines of a binary stream, refusing absurdly long ones."""
    while line := stream.readline(MAX_LINE):
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            raise ExportError(f"{name} is not a Hamseda export: one of its lines is far too long.")
        yield line


class ExportReader:
    """Reads an export line by line and checks it as it goes.

    1. The first line must be a header of this format and a version we read; it is read
       when the reader is made, so callers can check keys before reading any record.
    2. Every following line is a record until the trailer; each is handed out as read,
       so a big export is never held in memory.
    3. At the trailer, the record count and the SHA-256 of everything before it must
       match, and nothing may follow. A file that ends without a trailer was cut off.

    Callers must treat records as provisional until `finish()` has returned: a damaged
    file is only known to be damaged at its end.
    """

    def __init__(self, lines: Iterable[bytes], name: str = "the export") -> None:
        self.name = name
        self._lines = iter(lines)
        first = next(self._lines, b"")
        self.header: dict[str, Any] = self._parse_header(first)
        self._digest = hashlib.sha256(first)
        self._count = 0
        self._finished = False

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, record) for each record; raises ExportError on bad input."""
        number = 1
        for raw in self._lines:
            number += 1
            item = self._parse(raw, number)
            if "end" in item:
                self._check_trailer(item)
                return
            self._digest.update(raw)
            self._count += 1
            yield number, self._check_record(item, number)
        raise ExportError(
            f"{self.name} is incomplete: it ends after {self._count} records without its "
            "end line, so it was cut off while downloading or copying. Export it again."
        )

    def finish(self) -> None:
        if not self._finished:
            raise ExportError(f"{self.name} was not read to its end.")

    def _parse_header(self, raw: bytes) -> dict[str, Any]:
        try:
            header = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError):
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ExportError(
                f"{self.name} is not a Hamseda export: it does not start with an export "
                "header. Choose the file that “Export signatures” downloaded."
            )
        if header.get("version") != VERSION:
            raise ExportError(
                f"{self.name} is an export of version {header.get('version')!r}, which this "
                f"Hamseda does not read (it reads version {VERSION}). Use a newer Hamseda."
            )
        records, key_ids = header.get("records"), header.get("key_ids")
        if (
            not isinstance(records, int)
            or records < 0
            or not isinstance(key_ids, list)
            or not all(isinstance(key, str) for key in key_ids)
        ):
            raise ExportError(f"{self.name} is damaged: its header is incomplete.")
        return header

    def _parse(self, raw: bytes, number: int) -> dict[str, Any]:
        try:
            item = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError):
            item = None
        if isinstance(item, dict):
            return item
        if not raw.endswith(b"\n"):
            raise ExportError(
                f"{self.name} is incomplete: its last line ({number}) stops short, so the "
                "file was cut off while downloading or copying. Export it again."
            )
        raise ExportError(f"{self.name} is damaged: line {number} is not a record.")

    def _check_record(self, item: dict[str, Any], number: int) -> dict[str, Any]:
        if (
            not isinstance(item.get("sealed"), str)
            or item.get("key_id") not in (self.header["key_ids"])
        ):
            raise ExportError(
                f"{self.name} is damaged: line {number} is not a record of this export."
            )
        return item

    def _check_trailer(self, trailer: dict[str, Any]) -> None:
        if any(line.strip() for line in self._lines):
            raise ExportError(f"{self.name} is damaged: there is data after its end line.")
        if trailer.get("end") != FORMAT or set(trailer) != {"end", "records", "sha256"}:
            raise ExportError(f"{self.name} is damaged: its end line is not as written.")
        if trailer.get("sha256") != self._digest.hexdigest():
            raise ExportError(
                f"{self.name} is damaged or was changed: its contents do not match the "
                "digest in its end line. Export it again."
            )
        if trailer.get("records") != self._count:
            raise ExportError(
                f"{self.name} is damaged: its end line counts {trailer.get('records')} "
                f"records, but it holds {self._count}."
            )
        if self._count != self.header["records"]:
            raise ExportError(
                f"{self.name} holds {self._count} records but its header announced "
                f"{self.header['records']}: signatures were erased while it was being "
                "made. Export it again."
            )
        self._finished = True
