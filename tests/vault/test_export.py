"""Sealed exports and offline decrypt (PRIVACY.md, "How we test it": export then offline
decrypt returns exactly what was signed, in any script).

The export (`hamseda export signatures`, the organizer page's button) holds only what
the database holds; `hamseda decrypt` opens it with the organisation's key file(s)
without the database, refuses every kind of bad input with a clear message and leaves
no partial CSV behind.
"""

import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hamseda.integrity.models import AuditAction, AuditEvent
from hamseda.orgs import services as org_services
from hamseda.orgs.models import Role
from hamseda.orgs.sealing_keys import key_file_text
from hamseda.petitions import services
from hamseda.petitions.models import Signature, SignatureState
from hamseda.vault import crypto, export
from hamseda.vault.csp import SODIUM_CSP
from hamseda.vault.decrypt import CSV_COLUMNS, DecryptError, decrypt_export
from tests.conftest import PASSWORD, make_org, signer, with_two_factor

MARKERS = [
    signer(
        1,
        first_name="Zarmina ځډړږښګڼۍې",
        last_name="مریم",
        email="zarmina.marker@example.org",
        country="AF",
        postcode="کد-۴۴۱۷",
        reason='د خپلو خویندو لپاره — for my sisters, "quoted", and\nsecond line',
        show_name=True,
        keep_updated=True,
    ),
    signer(
        2,
        first_name="مریم",
        last_name="احمدی‌زاده",  # With a zero-width non-joiner inside.
        email="maryam.marker@example.org",
        country="SE",
        postcode="114 55",
        reason="برای خواهرانم در کابل",
    ),
    signer(
        3,
        first_name="Zoë",
        last_name="O'Brien, Jr.",
        email="Zoe.Marker@example.org",
        country="GB",
        postcode="NW1 6XE",
        reason="",
        keep_updated=True,
    ),
]


# --- helpers ----------------------------------------------------------------------------


def write_key_file(path: Path, organization_slug: str, secret_key: str) -> Path:
    """A key file as `hamseda keys generate` and the browser write it."""
    private = crypto.parse_secret_key(secret_key)
    public_key = base64.b64encode(bytes(private.public_key)).decode()
    path.write_text(key_file_text(organization_slug, crypto.key_id(public_key), secret_key))
    return path


def export_to(petition, path: Path) -> Path:
    call_command("export", "signatures", petition.slug, "--out", str(path), stdout=io.StringIO())
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte-order mark"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(CSV_COLUMNS)
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]


def export_lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def with_trailer(lines: list[bytes]) -> bytes:
    """Records and header as given, with a trailer that matches them (a careful forger)."""
    body = b"".join(lines)
    trailer = {"end": export.FORMAT, "records": len(lines) - 1}
    trailer["sha256"] = hashlib.sha256(body).hexdigest()
    return body + export.encode_line(trailer)


def leftovers(folder: Path) -> list[str]:
    """Files in `folder` that look like a CSV or a temporary part of one."""
    return sorted(p.name for p in folder.iterdir() if ".csv" in p.name or ".part" in p.name)


@pytest.fixture
def signed(petition, now):
    """The petition signed by the marker people: one confirmed, the others pending."""
    services.record_confirmed_signature(petition, MARKERS[0], now=now)
    services.sign_petition(petition, MARKERS[1], now=now + timedelta(seconds=1))
    services.sign_petition(petition, MARKERS[2], now=now + timedelta(seconds=2))
    return petition


@pytest.fixture
def key_file(org, tmp_path) -> Path:
    return write_key_file(tmp_path / "alliance.key", "alliance", org.secret_key)


@pytest.fixture
def sealed_export(signed, tmp_path) -> Path:
    return export_to(signed, tmp_path / "export.jsonl")


# --- round trip -------------------------------------------------------------------------


def test_export_then_decrypt_returns_exactly_what_was_signed(
    sealed_export, key_file, tmp_path, org
):
    out = tmp_path / "signatures.csv"
    call_command(
        "decrypt", str(sealed_export), "--key", str(key_file), "--out", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    rows = read_csv(out)
    assert [row["first name"] for row in rows] == ["Zarmina ځډړږښګڼۍې", "مریم", "Zoë"]
    zarmina, maryam, zoe = rows
    assert zarmina["last name"] == "مریم"
    assert zarmina["e-mail"] == "zarmina.marker@example.org"
    assert zarmina["postcode"] == "کد-۴۴۱۷"
    assert zarmina["reason"] == MARKERS[0].reason  # Quotes and a line break survive.
    assert (zarmina["country"], zarmina["show name"], zarmina["keep updated"]) == (
        "AF",
        "yes",
        "yes",
    )
    assert zarmina["state"] == "validated"
    assert zarmina["confirmed at"] == zarmina["signed at"] != ""
    assert maryam["last name"] == "احمدی‌زاده"
    assert maryam["reason"] == "برای خواهرانم در کابل"
    assert (maryam["state"], maryam["confirmed at"], maryam["show name"]) == ("pending", "", "no")
    assert zoe["last name"] == "O'Brien, Jr."
    assert zoe["e-mail"] == "Zoe.Marker@example.org"  # The local part keeps its case.
    assert {row["key id"] for row in rows} == {crypto.key_id(org.organization.public_key)}
    assert out.stat().st_mode & 0o777 == 0o600


def test_the_export_holds_only_what_the_database_holds(sealed_export, signed):
    raw = sealed_export.read_bytes()
    for person in MARKERS:
        for value in (person.first_name, person.last_name, person.email, person.postcode):
            assert value.encode() not in raw, f"{value} is in the export in plain text"
    header, *records, trailer = [json.loads(line) for line in raw.splitlines()]
    assert header == {
        "format": "hamseda-sealed-export",
        "version": 1,
        "organization": {"slug": "alliance", "name": "Alliance"},
        "petition": signed.slug,
        "created_at": header["created_at"],
        "records": 3,
        "key_ids": [crypto.key_id(signed.organization.public_key)],
    }
    rows = list(Signature.objects.filter(petition=signed).order_by("pk"))
    assert [base64.b64decode(r["sealed"]) for r in records] == [bytes(s.sealed) for s in rows]
    assert set(records[0]) == {
        "sealed",
        "key_id",
        "state",
        "country",
        "show_name",
        "keep_updated",
        "created_at",
        "validated_at",
    }
    assert [r["show_name"] for r in records] == [True, False, False]
    assert trailer["records"] == 3
    before_trailer = raw[: raw.rindex(b"\n", 0, len(raw) - 1) + 1]
    assert trailer["sha256"] == hashlib.sha256(before_trailer).hexdigest()
    assert sealed_export.stat().st_mode & 0o777 == 0o600


def test_the_csv_defuses_spreadsheet_formulas(petition, key_file, tmp_path):
    services.sign_petition(
        petition,
        signer(
            9,
            first_name='=HYPERLINK("http://evil.example")',
            last_name="+1-555",
            reason="@SUM(A1)",
            postcode="-3",
        ),
    )
    out = tmp_path / "out.csv"
    decrypt_export(export_to(petition, tmp_path / "e.jsonl"), [key_file], out)
    (row,) = read_csv(out)
    assert row["first name"] == '\'=HYPERLINK("http://evil.example")'
    assert (row["last name"], row["reason"], row["postcode"]) == ("'+1-555", "'@SUM(A1)", "'-3")


def test_an_empty_petition_exports_and_decrypts_to_just_the_column_names(
    petition, key_file, tmp_path
):
    exported = export_to(petition, tmp_path / "empty.jsonl")
    header, trailer = [json.loads(line) for line in exported.read_bytes().splitlines()]
    assert (header["records"], header["key_ids"], trailer["records"]) == (0, [], 0)
    out = tmp_path / "empty.csv"
    assert decrypt_export(exported, [key_file], out) == 0
    assert read_csv(out) == []


def test_every_export_is_audited_cli_as_the_system(sealed_export, org):
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.organization == org.organization
    assert (event.actor_label, event.actor_id) == ("system", None)
    assert event.subject == "free-speech"
    assert event.details["records"] == 3
    assert event.details["petition"] == "free-speech"


def test_the_export_command_refuses_to_overwrite_and_unknown_petitions(sealed_export):
    before = sealed_export.read_bytes()
    with pytest.raises(CommandError, match="refusing to overwrite"):
        call_command("export", "signatures", "free-speech", "--out", str(sealed_export))
    assert sealed_export.read_bytes() == before
    with pytest.raises(CommandError, match="No petition"):
        call_command("export", "signatures", "nope", "--out", str(sealed_export.parent / "x"))


# --- key rotation -----------------------------------------------------------------------


def test_records_sealed_before_and_after_a_rotation_open_with_their_own_keys(
    signed, org, key_file, tmp_path, now
):
    old_id = crypto.key_id(org.organization.public_key)
    new_public, new_secret = crypto.generate_keypair()
    new_id = org_services.adopt_public_key(org.organization, new_public)
    signed.refresh_from_db()
    services.sign_petition(signed, signer(7, first_name="ملالۍ", last_name="یوسفزۍ"))
    assert Signature.objects.get(petition=signed, key_id=new_id)  # Sealed to the new key.
    new_key_file = write_key_file(tmp_path / "new.key", "alliance", new_secret)
    exported = export_to(signed, tmp_path / "rotated.jsonl")
    assert json.loads(exported.read_bytes().splitlines()[0])["key_ids"] == sorted([old_id, new_id])

    out = tmp_path / "both.csv"
    assert decrypt_export(exported, [new_key_file, key_file], out) == 4
    rows = read_csv(out)
    assert [(row["first name"], row["key id"]) for row in rows] == [
        ("Zarmina ځډړږښګڼۍې", old_id),
        ("مریم", old_id),
        ("Zoë", old_id),
        ("ملالۍ", new_id),
    ]
    assert rows[3]["last name"] == "یوسفزۍ"

    # With only one of the two keys, the export is refused, naming the missing one.
    with pytest.raises(DecryptError, match=f"Missing: {old_id}") as refused:
        decrypt_export(exported, [new_key_file], tmp_path / "half.csv")
    assert f"needs the key(s) {', '.join(sorted([old_id, new_id]))}" in str(refused.value)
    assert leftovers(tmp_path) == ["both.csv"]


# --- bad input --------------------------------------------------------------------------


def test_a_key_of_another_organisation_is_refused_naming_the_keys(sealed_export, signed, tmp_path):
    other = make_org("other-org")
    other_file = write_key_file(tmp_path / "other.key", "other-org", other.secret_key)
    needed = crypto.key_id(signed.organization.public_key)
    held = crypto.key_id(other.organization.public_key)
    with pytest.raises(CommandError) as refused:
        call_command(
            "decrypt", str(sealed_export), "--key", str(other_file), "--out",
            str(tmp_path / "out.csv"),
        )  # fmt: skip
    assert str(refused.value) == (
        f"This export needs the key(s) {needed}; the key file given holds {held} "
        "(a key of the organisation 'other-org')."
    )
    assert leftovers(tmp_path) == []


def test_a_key_that_opens_none_of_the_records_is_refused(sealed_export, signed, tmp_path):
    _public, secret = crypto.generate_keypair()
    stray = tmp_path / "stray.key"
    stray.write_text(secret + "\n")  # No comments at all: still a key file.
    with pytest.raises(DecryptError, match=r"needs the key\(s\) .*; the key file given holds"):
        decrypt_export(sealed_export, [stray], tmp_path / "out.csv")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"hello, I am a shopping list\n", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00binary", id="binary"),
        pytest.param(base64.b64encode(b"x" * 31) + b"\n", id="short-key"),
        pytest.param(b"# comment\nAAAA\nBBBB\n", id="two-key-lines"),
        pytest.param(b"not base64 at all!!\n", id="not-base64"),
        pytest.param(b"#" * 10_000, id="huge"),
    ],
)
def test_a_malformed_key_file_is_refused(sealed_export, tmp_path, content):
    bad = tmp_path / "bad.key"
    bad.write_bytes(content)
    with pytest.raises(DecryptError, match="is not a Hamseda secret key file"):
        decrypt_export(sealed_export, [bad], tmp_path / "out.csv")
    assert leftovers(tmp_path) == []


def test_a_missing_key_file_is_named(sealed_export, tmp_path):
    with pytest.raises(DecryptError, match="there is no such key file"):
        decrypt_export(sealed_export, [tmp_path / "nowhere.key"], tmp_path / "out.csv")


def _cut_at_line_end(lines):
    return b"".join(lines[:-1])  # Everything but the trailer.


def _cut_mid_line(lines):
    return b"".join(lines[:-2]) + lines[-2][: len(lines[-2]) // 2]


def _cut_in_trailer(lines):
    return b"".join(lines[:-1]) + lines[-1][:20]


def _one_byte_changed(lines):
    record = json.loads(lines[2])
    sealed = bytearray(base64.b64decode(record["sealed"]))
    sealed[40] ^= 1
    record["sealed"] = base64.b64encode(bytes(sealed)).decode()
    return b"".join([lines[0], lines[1], export.encode_line(record), *lines[3:]])


def _one_byte_changed_and_digest_forged(lines):
    record = json.loads(lines[2])
    sealed = bytearray(base64.b64decode(record["sealed"]))
    sealed[-5] ^= 1
    record["sealed"] = base64.b64encode(bytes(sealed)).decode()
    return with_trailer([lines[0], lines[1], export.encode_line(record), *lines[3:-1]])


def _state_changed(lines):
    """A plain column is not protected by the seal, only by the digest."""
    changed = lines[2].replace(b'"state":"pending"', b'"state":"validated"')
    assert changed != lines[2]
    return b"".join([lines[0], lines[1], changed, *lines[3:]])


def _record_dropped(lines):
    return b"".join([lines[0], lines[1], *lines[3:]])


def _record_dropped_and_digest_forged(lines):
    return with_trailer([lines[0], lines[1], *lines[3:-1]])


def _header_changed(lines):
    header = json.loads(lines[0])
    header["petition"] = "another-petition"
    return b"".join([export.encode_line(header), *lines[1:]])


def _garbage_line(lines):
    return b"".join([lines[0], b"\x00\xff garbage\n", *lines[1:]])


def _data_after_the_end(lines):
    return b"".join(lines) + b'{"sealed": "AAAA"}\n'


def _not_base64(lines):
    record = json.loads(lines[1])
    record["sealed"] = "%%% not base64 %%%"
    return with_trailer([lines[0], export.encode_line(record), *lines[2:-1]])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_cut_at_line_end, "is incomplete: it ends after 3 records without its end line"),
        (_cut_mid_line, r"is incomplete: its last line \(4\) stops short"),
        (_cut_in_trailer, r"is incomplete: its last line \(5\) stops short"),
        (_one_byte_changed, "The record on line 3 does not open with the key"),
        (_one_byte_changed_and_digest_forged, "The record on line 3 does not open with the key"),
        (_state_changed, "is damaged or was changed: its contents do not match the digest"),
        (_record_dropped, "do not match the digest"),
        (_record_dropped_and_digest_forged, "holds 2 records but its header announced 3"),
        (_header_changed, "do not match the digest"),
        (_garbage_line, "is damaged: line 2 is not a record"),
        (_data_after_the_end, "there is data after its end line"),
        (_not_base64, "The record on line 2 does not open with the key"),
    ],
)
def test_a_truncated_or_damaged_export_is_refused_and_leaves_no_csv(
    sealed_export, key_file, tmp_path, damage, message
):
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(damage(export_lines_of(sealed_export)))
    out = tmp_path / "out.csv"
    with pytest.raises(DecryptError, match=message):
        decrypt_export(damaged, [key_file], out)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"first name,last name\nMaryam,Ahmadi\n", id="a-csv"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"hello": "world"}\n', id="other-json"),
        pytest.param(b"[1, 2, 3]\n", id="json-list"),
        pytest.param(os.urandom(4096), id="random-bytes"),
        pytest.param(b"x" * (export.MAX_LINE + 10), id="one-endless-line"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(key_file, tmp_path, content):
    not_export = tmp_path / "something.jsonl"
    not_export.write_bytes(content)
    with pytest.raises(DecryptError, match="is not a Hamseda export"):
        decrypt_export(not_export, [key_file], tmp_path / "out.csv")
    assert leftovers(tmp_path) == []


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(min_value=0), value=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_is_refused_cleanly(sealed_export, key_file, position, value):
    """Whatever byte of an export changes, decrypt refuses with a message: never another
    exception, never a CSV. (Fixtures are made once; each example writes its own files.)"""
    raw = bytearray(sealed_export.read_bytes())
    position %= len(raw)
    raw[position] ^= value
    folder = Path(tempfile.mkdtemp(dir=sealed_export.parent))
    (folder / "changed.jsonl").write_bytes(bytes(raw))
    with pytest.raises(DecryptError):
        decrypt_export(folder / "changed.jsonl", [key_file], folder / "out.csv")
    assert leftovers(folder) == []


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(content=st.binary(max_size=3000))
def test_any_bytes_as_an_export_or_a_key_are_refused_cleanly(key_file, content):
    folder = Path(tempfile.mkdtemp(dir=key_file.parent))
    (folder / "random").write_bytes(content)
    with pytest.raises(DecryptError):
        decrypt_export(folder / "random", [key_file], folder / "out.csv")
    with pytest.raises(DecryptError):
        decrypt_export(key_file, [folder / "random"], folder / "out.csv")
    assert leftovers(folder) == []


def test_an_export_of_a_newer_version_is_refused(sealed_export, key_file, tmp_path):
    lines = export_lines_of(sealed_export)
    header = json.loads(lines[0])
    header["version"] = 2
    newer = tmp_path / "newer.jsonl"
    newer.write_bytes(export.encode_line(header) + b"".join(lines[1:]))
    with pytest.raises(DecryptError, match="version 2, which this Hamseda does not read"):
        decrypt_export(newer, [key_file], tmp_path / "out.csv")


def test_decrypt_refuses_to_overwrite_and_a_missing_export(sealed_export, key_file, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("an earlier decrypt")
    with pytest.raises(DecryptError, match="exists; refusing to overwrite it"):
        decrypt_export(sealed_export, [key_file], out)
    assert out.read_text() == "an earlier decrypt"
    with pytest.raises(DecryptError, match="there is no such file"):
        decrypt_export(tmp_path / "missing.jsonl", [key_file], tmp_path / "new.csv")


def test_a_purged_record_keeps_its_plain_columns(signed, key_file, tmp_path):
    """Retention or erasure may empty a sealed blob; the rest of the export still opens."""
    Signature.objects.filter(petition=signed, state=SignatureState.PENDING).update(sealed=b"")
    out = tmp_path / "out.csv"
    decrypt_export(export_to(signed, tmp_path / "e.jsonl"), [key_file], out)
    rows = read_csv(out)
    assert [row["first name"] for row in rows] == ["Zarmina ځډړږښګڼۍې", "", ""]
    assert [row["country"] for row in rows] == ["AF", "SE", "GB"]


# --- offline --------------------------------------------------------------------------


def test_decrypt_queries_no_database(sealed_export, key_file, tmp_path, django_assert_num_queries):
    with django_assert_num_queries(0):
        call_command(
            "decrypt", str(sealed_export), "--key", str(key_file), "--out",
            str(tmp_path / "out.csv"), stdout=io.StringIO(),
        )  # fmt: skip
    assert len(read_csv(tmp_path / "out.csv")) == 3


def _offline_hamseda(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`hamseda …` as on an offline laptop: no reachable database, a fresh data folder."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hamseda.settings",
        # Nothing listens on port 9: any database query would fail loudly.
        "HAMSEDA_DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing",
        "HAMSEDA_DATA_DIR": str(tmp_path / "laptop"),
    }
    env.pop("HAMSEDA_SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "hamseda", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_hamseda_decrypt_runs_without_a_database(sealed_export, key_file, tmp_path):
    out = tmp_path / "laptop.csv"
    done = _offline_hamseda(
        tmp_path, "decrypt", str(sealed_export), "--key", str(key_file), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "3 records written" in done.stdout
    assert read_csv(out)[0]["first name"] == "Zarmina ځډړږښګڼۍې"

    refused = _offline_hamseda(
        tmp_path, "decrypt", str(key_file), "--key", str(key_file), "--out", str(out) + "2"
    )
    assert refused.returncode != 0
    assert "is not a Hamseda export" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not Path(str(out) + "2").exists()


# --- large exports --------------------------------------------------------------------


def test_a_large_export_streams_in_flat_memory(petition, now, key_file, tmp_path):
    """20,000 signatures (made with bulk_create: the services would take minutes, and
    only the export is under test) stream through a small, constant amount of memory."""
    organization = petition.organization
    blob = crypto.seal(organization.public_key, {"first_name": "ځ" * 40, "email": "a@b.c"})
    key_id = crypto.key_id(organization.public_key)
    total = 20_000
    Signature.objects.bulk_create(
        [
            Signature(
                petition=petition,
                email_fingerprint=f"{number:064x}",
                token_hash=f"{number:064x}",
                token_sent_at=now,
                sealed=blob,
                key_id=key_id,
                country="AF",
                created_at=now,
            )
            for number in range(total)
        ],
        batch_size=2000,
    )
    plan = export.start_export(petition, via="test")
    size = 0
    tracemalloc.start()
    try:
        for line in export.export_lines(plan):
            size += len(line)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plan.records == total
    assert size > 5_000_000
    # Holding the rows or the output would take well over the export's size.
    assert peak < size / 3, f"peak {peak} bytes for a {size}-byte export"

    out = tmp_path / "large.csv"
    exported = tmp_path / "large.jsonl"
    export.write_export_file(petition, exported)
    assert decrypt_export(exported, [key_file], out) == total


def test_signatures_made_while_an_export_streams_are_left_out(petition, now):
    services.sign_petition(petition, signer(1), now=now)
    plan = export.plan_export(petition, now=now)
    lines = export.export_lines(plan)
    next(lines)  # The header is out; a new signature arrives.
    services.sign_petition(petition, signer(2), now=now)
    rest = list(lines)
    assert len(rest) == 2  # One record and the trailer: the header's count holds.
    assert json.loads(rest[-1])["records"] == 1


# --- web ------------------------------------------------------------------------------


@pytest.fixture
def organizer(org):
    return org_services.create_organizer(
        email="organizer@example.org",
        password=PASSWORD,
        organization=org.organization,
        role=Role.ORGANIZER,
    )


def export_url(petition) -> str:
    return reverse("export:signatures", args=[petition.slug])


def test_an_organizer_with_two_factor_downloads_an_audited_export(
    client, signed, organizer, key_file, tmp_path
):
    client.force_login(with_two_factor(organizer))
    response = client.post(export_url(signed))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="hamseda-free-speech-')
    assert "no-store" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor_label, event.actor_id) == ("organizer@example.org", organizer.pk)
    assert (event.subject, event.details["records"], event.details["via"]) == (
        "free-speech",
        3,
        "web",
    )
    downloaded = tmp_path / "web.jsonl"
    downloaded.write_bytes(body)
    out = tmp_path / "web.csv"
    assert decrypt_export(downloaded, [key_file], out) == 3
    assert read_csv(out)[1]["first name"] == "مریم"


def test_the_export_page_explains_and_the_petition_page_has_the_button(
    client, signed, owner, analyst
):
    client.force_login(with_two_factor(owner))
    page = client.get(export_url(signed))
    assert page.status_code == 200
    assert "hamseda decrypt" in page.content.decode()
    petition_page = client.get(reverse("organize:petition", args=[signed.slug])).content.decode()
    assert f'action="{export_url(signed)}"' in petition_page
    client.force_login(analyst)
    petition_page = client.get(reverse("organize:petition", args=[signed.slug])).content.decode()
    assert export_url(signed) not in petition_page
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_export_refuses_everyone_else(
    client, signed, method, owner, moderator, analyst, outsider
):
    url = export_url(signed)
    response = getattr(client, method)(url)
    assert response.status_code == 302  # Anonymous: to the login page.
    assert response["Location"].startswith(reverse("account_login"))
    for user, status in [
        (with_two_factor(outsider), 404),
        (with_two_factor(moderator), 403),
        (with_two_factor(analyst), 403),
        (owner, 403),  # Owner, but no two-factor login yet.
    ]:
        client.force_login(user)
        response = getattr(client, method)(url)
        assert response.status_code == status, user
        assert not getattr(response, "streaming", False)
    client.force_login(owner)
    assert "Two-factor login needed" in client.post(url).content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    client.force_login(with_two_factor(owner))
    assert client.post(reverse("export:signatures", args=["no-such-petition"])).status_code == 404
    assert client.put(url).status_code == 405


def test_the_decrypt_page_sends_nothing_and_is_for_members(client, analyst, outsider, db):
    from django.contrib.auth import get_user_model

    url = reverse("export:decrypt")
    assert client.get(url).status_code == 302
    stranger = get_user_model().objects.create_user("stranger@example.org", password=PASSWORD)
    client.force_login(stranger)
    assert client.get(url).status_code == 403
    client.force_login(analyst)  # Any member: the page itself holds nothing.
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == SODIUM_CSP
    assert "connect-src 'none'" in SODIUM_CSP
    assert "script-src 'self' 'wasm-unsafe-eval'" in SODIUM_CSP
    html = response.content.decode()
    assert "Nothing you choose here is sent to the server" in html
    assert "hamseda decrypt" in html  # What to do without JavaScript.
    # No form could send a chosen file: the only forms are the navigation's (log out).
    actions = re.findall(r"<form[^>]*action=\"([^\"]*)\"", html)
    assert html.count("<form") == len(actions)
    assert set(actions) <= {reverse("account_logout")}
    assert "vendor/libsodium/libsodium.js" in html


def test_every_single_bit_flip_is_refused(sealed_export, key_file):
    """Exhaustively: flipping the lowest bit of any byte of a whole export is caught (a
    random sample above may miss a field nobody checks; this cannot)."""
    original = sealed_export.read_bytes()
    accepted = []
    for position in range(len(original)):
        changed = bytearray(original)
        changed[position] ^= 1
        folder = Path(tempfile.mkdtemp(dir=sealed_export.parent))
        (folder / "changed.jsonl").write_bytes(bytes(changed))
        try:
            decrypt_export(folder / "changed.jsonl", [key_file], folder / "out.csv")
        except DecryptError:
            continue
        accepted.append(original[max(0, position - 20) : position + 20])
    assert accepted == []
