"""Reading a JSON Lines file in batches of prepared rows, here or in a second process.

Parsing (orjson, the platform parsers, making the database rows) and storing
(SQLite's B-trees) each take about half of an import's time, and each holds a core:
for a large file the importer parses in a child process while it stores in its own,
so that the two halves overlap on two cores. The child has no database connection;
it writes batches of prepared rows to a pipe, and the parent commits each with the
import's progress (pulse.importer). The pipe's buffer is the back-pressure: the child
is at most a batch or two ahead of the database.

This module imports no models at the top, so that the child can import it before
setting Django up.
"""

import gc
import pickle
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, BinaryIO

import orjson
from django.utils.translation import gettext

from hamseda.pulse.formats import FormatError, bluesky, mastodon, x
from hamseda.pulse.formats.detect import BLUESKY_JSONL, MASTODON_JSONL, TWARC2_JSONL
from hamseda.pulse.ingest import Prepared, prepare_rows

# A line longer than this is not a page of posts (twarc2's pages are a few hundred KB).
MAX_LINE_BYTES = 64 * 1024 * 1024
LINE_PARSERS = {
    TWARC2_JSONL: x.parse_line,
    BLUESKY_JSONL: bluesky.parse_line,
    MASTODON_JSONL: mastodon.parse_line,
}
# Messages kept per batch: the report keeps the first 100 of the whole file anyway.
MAX_PROBLEMS = 100
# What a parser may raise on input of an unexpected shape (it reads plain dicts).
SHAPE_ERRORS = (FormatError, ValueError, TypeError, KeyError, AttributeError, IndexError)


@dataclass
class Batch:
    """Prepared rows of the lines up to `line` (inclusive), which end at byte `offset`,
    and the bad lines among them."""

    prepared: Prepared
    offset: int
    line: int
    bad_lines: int = 0
    problems: list[tuple[int | None, str]] = field(default_factory=list)


def message_of(error: Exception) -> str:
    if isinstance(error, FormatError):
        return str(error)
    return gettext("unexpected shape (%(error)s)") % {"error": type(error).__name__}


def read_lines(handle: BinaryIO, offset: int, line: int) -> Iterator[tuple[int, int, bytes | None]]:
    """(line number, byte offset after the line, its bytes) from `offset` on; None as
    the bytes of a line too long to be one (it is skipped without being held)."""
    handle.seek(offset)
    while True:
        raw: bytes | None = handle.readline(MAX_LINE_BYTES)
        if not raw:
            return
        line += 1
        offset += len(raw)
        if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                offset += len(rest)
            offset += len(rest)
            raw = None
        yield line, offset, raw


def jsonl_batches(
    path: Path,
    file_format: str,
    *,
    offset: int,
    line: int,
    batch_size: int,
    campaign_id: int,
    now: datetime,
    vendor: str,
) -> Generator[Batch]:
    """The file's batches from `offset`: one every `batch_size` posts, and a last one
    (possibly empty) at the end of the file, so that the end is always committed."""
    parse = LINE_PARSERS[file_format]
    records: list = []
    bad = 0
    problems: list[tuple[int | None, str]] = []

    def problem(number: int, message: str) -> None:
        nonlocal bad
        bad += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append((number, message))

    number, position = line, offset
    with path.open("rb") as handle:
        for number, position, raw in read_lines(handle, offset, line):
            if raw is None:
                problem(number, gettext("The line is longer than 64 MiB."))
                continue
            if not raw.strip():
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                problem(
                    number,
                    gettext("not valid JSON: %(error)s (column %(column)s)")
                    % {"error": error.msg, "column": error.colno},
                )
                continue
            found: list[str] = []
            try:
                records.extend(parse(value, found))
            except SHAPE_ERRORS as error:
                problem(number, message_of(error))
                continue
            if found:
                # Some posts of the line were read, some not: the line counts as bad,
                # and its good posts are kept.
                problem(number, "; ".join(found[:3]))
            if len(records) >= batch_size:
                yield Batch(
                    prepare_rows(records, campaign_id, now=now, vendor=vendor, tally=True),
                    position,
                    number,
                    bad,
                    problems,
                )
                records, bad, problems = [], 0, []
    yield Batch(
        prepare_rows(records, campaign_id, now=now, vendor=vendor, tally=True),
        position,
        number,
        bad,
        problems,
    )


def write_item(out: IO[bytes], item: object) -> None:
    """One message of the child: its length (8 bytes), then the pickled item."""
    data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(8, "big"))
    out.write(data)
    out.flush()


def read_item(stream: IO[bytes]) -> object:
    """The next message of the child (see write_item); EOFError if it ended."""
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    data = stream.read(int.from_bytes(header, "big"))
    # Pickle between this program's own two processes, over their private pipe.
    return pickle.loads(data)  # noqa: S301 - our own child's output, never outside data


def main() -> None:
    """The child process (`python -m hamseda.pulse.formats.stream`): read its task
    from stdin, set Django up (translated messages need it), write each batch to
    stdout, then None; or ("error", message) if parsing itself failed.

    A plain subprocess rather than multiprocessing: "spawn" would import the parent's
    __main__ again (`python -m hamseda` would start the command a second time), and
    "fork" would copy the parent's database connection and threads.
    """
    task = read_item(sys.stdin.buffer)
    if not isinstance(task, dict):
        raise SystemExit("hamseda.pulse.formats.stream is run by the importer, with a task.")
    import django

    django.setup()
    # Parsing allocates millions of short-lived, acyclic objects: the cycle collector
    # would only slow it down.
    gc.disable()
    out = sys.stdout.buffer
    try:
        for batch in jsonl_batches(Path(task["path"]), task["format"], **task["options"]):
            write_item(out, batch)
    except BrokenPipeError:
        return  # the importer stopped (killed, interrupted): nothing to tell
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises
        write_item(out, ("error", f"{type(error).__name__}: {error}"))
        return
    write_item(out, None)


if __name__ == "__main__":
    # Run as the module's importable self, so that what is pickled names
    # hamseda.pulse.formats.stream.Batch rather than __main__.Batch.
    from hamseda.pulse.formats import stream

    stream.main()
