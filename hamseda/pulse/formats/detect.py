"""Which kind of file an import is, from its first bytes and lines.

Formats (the names are shown to users and stored in ImportRun.file_format):

- `twarc2-jsonl`   — one X API v2 page per line (twarc2's output), or one flattened
                     tweet per line (`twarc2 flatten`); streamed;
- `x-json`         — one X API v2 page as a JSON document (e.g. saved from curl);
- `bluesky-jsonl`  — one searchPosts page, post view or Jetstream event per line;
- `bluesky-json`   — one searchPosts answer, or a JSON array of post views;
- `mastodon-jsonl` — one Status per line;
- `mastodon-json`  — a JSON array of Statuses (a timeline answer);
- `csv`            — a CSV export (pulse.formats.csv_rows).

Anything else — empty, a zip or gzip archive, UTF-16, binary data, an HTML page (a login
wall or an error page saved by mistake), JSON of another shape, text without a known
CSV header — is refused with a message that says what the file looks like instead.
"""

import csv
import io
from pathlib import Path

import orjson
from django.utils.translation import gettext

from hamseda.pulse.formats import FormatError
from hamseda.pulse.formats.csv_rows import read_header, sniff_dialect

TWARC2_JSONL = "twarc2-jsonl"
X_JSON = "x-json"
BLUESKY_JSONL = "bluesky-jsonl"
BLUESKY_JSON = "bluesky-json"
MASTODON_JSONL = "mastodon-jsonl"
MASTODON_JSON = "mastodon-json"
CSV = "csv"
STREAMED = frozenset({TWARC2_JSONL, BLUESKY_JSONL, MASTODON_JSONL, CSV})
# A single JSON document is read whole; past this size it should be JSON Lines.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
_SAMPLE_BYTES = 64 * 1024
# A twarc2 line holds a whole page of 100 tweets with their users: often 200 KB.
_MAX_FIRST_LINE = 32 * 1024 * 1024
_LINES_TRIED = 5


class UnknownFormat(FormatError):
    """The file is not one of the formats an import takes."""


def _platform_of(value: object) -> str | None:
    """ "x", "bluesky" or "mastodon" for a JSON value that one of their parsers takes."""
    if isinstance(value, list):
        first = next((item for item in value if isinstance(item, dict)), None)
        return _platform_of(first) if first is not None else None
    if not isinstance(value, dict):
        return None
    if "data" in value or "includes" in value or isinstance(value.get("meta"), dict):
        return "x"
    if "id" in value and "author_id" in value and ("text" in value or "note_tweet" in value):
        return "x"
    if isinstance(value.get("posts"), list):
        return "bluesky"
    uri = value.get("uri")
    if isinstance(uri, str) and uri.startswith("at://"):
        return "bluesky"
    if "did" in value and ("commit" in value or "time_us" in value):
        return "bluesky"
    if isinstance(uri, str) and "account" in value and ("content" in value or "reblog" in value):
        return "mastodon"
    return None


def _not_posts() -> UnknownFormat:
    return UnknownFormat(
        gettext(
            "This is JSON, but not posts in a format Hamseda knows: X API v2 pages or "
            "tweets (twarc2), Bluesky searchPosts answers, post views or Jetstream "
            "events, or Mastodon statuses."
        )
    )


def _refuse_binary(head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise UnknownFormat(gettext("This is a zip archive; unzip it and import the files in it."))
    if head.startswith(b"\x1f\x8b"):
        raise UnknownFormat(gettext("This file is gzip-compressed; decompress it first."))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnknownFormat(
            gettext("This file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in spreadsheets).")
        )
    # One bad line further on (a NUL, a byte that is not UTF-8) is a bad line of the
    # import, not a reason to refuse the file: judge by the first line, and by NULs
    # being common (binary formats are full of them; text has none).
    first_line = head.split(b"\n", 1)[0]
    if b"\x00" in first_line or head.count(b"\x00") > len(head) // 10:
        raise UnknownFormat(gettext("This is a binary file, not JSON, JSON Lines or CSV."))
    _check_utf8(first_line, complete=len(first_line) < len(head))


def _check_utf8(data: bytes, *, complete: bool) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        # A sample may end inside a character: only an error before its last few bytes
        # means the text is not UTF-8.
        if complete or error.start < len(data) - 4:
            raise UnknownFormat(gettext("This file is not UTF-8 text; save it as UTF-8.")) from None


def _first_lines(path: Path) -> list[bytes]:
    lines: list[bytes] = []
    with path.open("rb") as handle:
        while len(lines) < _LINES_TRIED:
            line = handle.readline(_MAX_FIRST_LINE)
            if not line:
                break
            if line.strip():
                lines.append(line.lstrip(b"\xef\xbb\xbf") if not lines else line)
    return lines


def _whole_document(path: Path) -> object:
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise UnknownFormat(
            gettext(
                "This JSON document is larger than %(size)d MiB; export it as JSON Lines "
                "(one page or post per line) to import it."
            )
            % {"size": MAX_DOCUMENT_BYTES // (1024 * 1024)}
        )
    data = path.read_bytes()
    try:
        return orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as error:
        raise UnknownFormat(
            gettext("This file starts like JSON but is not valid JSON: %(error)s")
            % {"error": str(error)[:200]}
        ) from None


def _detect_json(path: Path, first: bytes) -> str:
    lines = _first_lines(path)
    parsed = []
    for line in lines:
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        # A line of a pretty-printed document may happen to be JSON ("true", "3");
        # only objects and arrays can be lines of posts.
        if isinstance(value, dict | list):
            parsed.append(value)
    # JSON Lines: some of the first lines are whole JSON values of their own (a bad
    # first line must not stop the good ones from being imported).
    for value in parsed:
        platform = _platform_of(value)
        if platform == "x" and first == b"{":
            return TWARC2_JSONL
        if platform == "bluesky" and first == b"{":
            return BLUESKY_JSONL
        if platform == "mastodon":
            return MASTODON_JSONL
    if parsed and len(lines) > 1:
        raise _not_posts()
    # One document, perhaps pretty-printed over many lines.
    platform = _platform_of(_whole_document(path))
    if platform == "x":
        return X_JSON
    if platform == "bluesky":
        return BLUESKY_JSON
    if platform == "mastodon":
        return MASTODON_JSON
    raise _not_posts()


def _detect_csv(head: bytes) -> str:
    # A CSV file in another encoding (Windows-1256, Latin-1) would import garbled.
    _check_utf8(head, complete=False)
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    lines = text.splitlines()
    if not lines:
        raise UnknownFormat(gettext("The file is empty."))
    dialect = sniff_dialect(text)
    try:
        header = next(csv.reader(io.StringIO(lines[0]), dialect))
        read_header(header)
    except (FormatError, csv.Error, StopIteration):
        raise UnknownFormat(
            gettext(
                "This file is not a format Hamseda imports: not JSON, JSON Lines, nor a CSV "
                "file whose first line names the columns (id, created_at, …)."
            )
        ) from None
    return CSV


def detect_format(path: str | Path) -> str:
    """The format of the file at `path` (one of the names above), or UnknownFormat."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_SAMPLE_BYTES)
    except FileNotFoundError:
        raise UnknownFormat(gettext("There is no file %(path)s.") % {"path": path}) from None
    except IsADirectoryError:
        raise UnknownFormat(gettext("%(path)s is a folder, not a file.") % {"path": path}) from None
    except OSError as error:
        raise UnknownFormat(
            gettext("%(path)s cannot be read: %(error)s.")
            % {"path": path, "error": error.strerror or error}
        ) from None
    if not head.strip():
        raise UnknownFormat(gettext("The file is empty."))
    _refuse_binary(head)
    start = head.lstrip(b"\xef\xbb\xbf").lstrip()
    first = start[:1]
    if first == b"<":
        raise UnknownFormat(
            gettext(
                "This is an HTML or XML page, not posts (perhaps a login or error page "
                "saved instead of the API's answer)."
            )
        )
    if first in (b"{", b"["):
        return _detect_json(path, first)
    return _detect_csv(head)
