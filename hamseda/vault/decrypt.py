"""Opening a sealed export with the organisation's secret key(s), into a CSV.

This runs on an organiser's offline laptop (`hamseda decrypt`): it reads two kinds of
file and writes one, and never touches the database or needs the server's secret. The
browser page /organize/decrypt does the same in JavaScript (static/hamseda/decrypt.js)
and must produce the same CSV byte for byte; tests/browser/test_keys_in_browser.py
holds them to it.

The CSV is UTF-8 with a byte-order mark, so that spreadsheet programs show Dari and
Pashto instead of mojibake, every field quoted, CRLF line ends. Text that a spreadsheet
would run as a formula (starting with = + - @ or a tab/CR) gets a leading apostrophe:
an export could hold a record crafted by anyone who knows the public key.
"""

import base64
import csv
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.public

from hamseda.vault import crypto
from hamseda.vault.export import ExportError, ExportReader, publish, read_lines

CSV_COLUMNS = (
    "first name",
    "last name",
    "e-mail",
    "country",
    "postcode",
    "reason",
    "show name",
    "keep updated",
    "signed at",
    "confirmed at",
    "key id",
    "state",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A key file is a few lines; anything much bigger is some other file given by mistake.
KEY_FILE_LIMIT = 4096


class DecryptError(ValueError):
    """Input that cannot be decrypted; the message says why, for the organiser."""


@dataclass(frozen=True)
class SecretKey:
    key_id: str
    private_key: nacl.public.PrivateKey
    path: Path
    # The organisation named in the file's comment ("" if the comment is missing).
    organization: str

    def describe(self, expected_organization: str) -> str:
        if self.organization and self.organization != expected_organization:
            return f"{self.key_id} (a key of the organisation {self.organization!r})"
        return self.key_id


def read_key_file(path: Path) -> SecretKey:
    """A secret key file as written by `hamseda keys generate` or the browser.

    The format: comment lines starting with "#" (organisation, key id, a warning) and
    exactly one line with the base64 secret key.
    """
    not_a_key = f"{path} is not a Hamseda secret key file"
    try:
        with path.open("rb") as handle:
            raw = handle.read(KEY_FILE_LIMIT + 1)
    except FileNotFoundError as error:
        raise DecryptError(f"{path}: there is no such key file.") from error
    except OSError as error:
        raise DecryptError(f"{path} cannot be read: {error.strerror}.") from error
    try:
        if len(raw) > KEY_FILE_LIMIT:
            raise ValueError("too big")
        lines = [line.strip() for line in raw.decode().splitlines()]
    except (UnicodeDecodeError, ValueError) as error:
        raise DecryptError(f"{not_a_key}.") from error
    values = [line for line in lines if line and not line.startswith("#")]
    if len(values) != 1:
        raise DecryptError(f"{not_a_key}: it should hold exactly one key line.")
    try:
        private_key = crypto.parse_secret_key(values[0])
    except crypto.UnusableKey as error:
        raise DecryptError(f"{not_a_key}: its key line is not a secret key.") from error
    public_key = base64.b64encode(bytes(private_key.public_key)).decode()
    organization = next(
        (
            line.split(":", 1)[1].strip()
            for line in lines
            if line.lower().startswith("# organisation:")
        ),
        "",
    )
    return SecretKey(crypto.key_id(public_key), private_key, path, organization)


def read_key_files(paths: Iterable[Path]) -> dict[str, SecretKey]:
    keys: dict[str, SecretKey] = {}
    for path in paths:
        key = read_key_file(path)
        keys.setdefault(key.key_id, key)
    return keys


def check_keys(header: dict[str, Any], keys: dict[str, SecretKey]) -> None:
    """Refuse before reading any record if a key the export needs is not given."""
    needed = header["key_ids"]
    missing = [key_id for key_id in needed if key_id not in keys]
    if not missing:
        return
    organization = header.get("organization", {}).get("slug", "")
    held = ", ".join(key.describe(organization) for key in keys.values())
    plural = "s" if len(keys) > 1 else ""
    message = (
        f"This export needs the key(s) {', '.join(needed)}; the key file{plural} given "
        f"hold{'' if plural else 's'} {held}."
    )
    if len(missing) < len(needed):
        message += f" Missing: {', '.join(missing)}."
    raise DecryptError(message)


def open_record(item: dict[str, Any], keys: dict[str, SecretKey], number: int) -> dict:
    """The personal data of one exported record ({} if it was purged)."""
    key = keys[item["key_id"]]
    damaged = (
        f"The record on line {number} does not open with the key {key.key_id}: the export "
        "is damaged or was changed. Export it again."
    )
    try:
        sealed = base64.b64decode(item["sealed"], validate=True)
    except ValueError as error:
        raise DecryptError(damaged) from error
    if not sealed:
        return {}  # Purged by retention or erasure: only the plain columns remain.
    try:
        data = json.loads(nacl.public.SealedBox(key.private_key).decrypt(sealed).decode())
    except (nacl.exceptions.CryptoError, UnicodeDecodeError, ValueError) as error:
        raise DecryptError(damaged) from error
    if not isinstance(data, dict):
        raise DecryptError(damaged)
    return data


def spreadsheet_safe(value: Any) -> str:
    if value is None:
        return ""
    # Anything but text only comes from a crafted record; JSON spells it as decrypt.js does.
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    )
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _yes_no(value: Any) -> str:
    return "yes" if value is True else "no"


def csv_row(item: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """One CSV row: personal data from the sealed record, the rest from the plain columns."""
    row = [
        data.get("first_name"),
        data.get("last_name"),
        data.get("email"),
        item.get("country"),
        data.get("postcode"),
        data.get("reason"),
        _yes_no(item.get("show_name")),
        _yes_no(item.get("keep_updated")),
        item.get("created_at"),
        item.get("validated_at"),
        item.get("key_id"),
        item.get("state"),
    ]
    return [spreadsheet_safe(value) for value in row]


def decrypt_export(export: Path, key_paths: Iterable[Path], out: Path) -> int:
    """Decrypt `export` with the given key files into the CSV `out`; return the row count.

    1. Refuse an existing `out` (it may be an earlier decrypt someone still needs).
    2. Read the key files and the export's header; refuse if a needed key is missing.
    3. Open each record with the key its key id names, writing rows to a temporary
       file (mode 0600) next to `out`.
    4. Only when the whole export has checked out (count and digest) does the temporary
       file become `out`; on any error it is removed, so no partial CSV is left.
    """
    if out.exists():
        raise DecryptError(f"{out} exists; refusing to overwrite it.")
    keys = read_key_files(key_paths)
    try:
        stream = export.open("rb")
    except FileNotFoundError as error:
        raise DecryptError(f"{export}: there is no such file.") from error
    except OSError as error:
        raise DecryptError(f"{export} cannot be read: {error.strerror}.") from error
    with stream:
        try:
            reader = ExportReader(read_lines(stream, str(export)), str(export))
            check_keys(reader.header, keys)
            return _write_csv(reader, keys, out)
        except ExportError as error:
            raise DecryptError(str(error)) from error
        except OSError as error:
            raise DecryptError(f"{export} or {out}: {error.strerror}.") from error


def _write_csv(reader: ExportReader, keys: dict[str, SecretKey], out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    rows = 0
    try:
        os.chmod(temporary, 0o600)  # Plain personal data: for its owner's eyes only.
        with open(handle, "w", encoding="utf-8-sig", newline="") as csv_file:
            writer = csv.writer(csv_file, quoting=csv.QUOTE_ALL)
            writer.writerow(CSV_COLUMNS)
            for number, item in reader.records():
                writer.writerow(csv_row(item, open_record(item, keys, number)))
                rows += 1
        reader.finish()
        publish(Path(temporary), out)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return rows
