"""Importing a file of posts: `hamseda posts import FILE --campaign SLUG`.

1. Detect the format (pulse.formats.detect); refuse what is not posts.
2. JSON Lines and CSV are streamed: read line by line (orjson for JSON), never the whole
   file in memory, so a 1 GB file needs only a few batches' worth. Large JSON Lines
   files are parsed in a child process while this one stores (formats.stream): the
   two halves of the work overlap on two cores. A single JSON document (an X page, a
   Bluesky page, a Mastodon array) is small and parsed whole.
3. A line that cannot be read — not JSON, not the expected shape, a post without an id
   or time — is a bad line: counted, reported with its line number and why (the first
   100 messages are kept), and skipped; the rest of the file is imported.
4. Every batch of posts (BATCH_SIZE) is committed in one transaction with the
   ImportRun row's progress (the byte offset and line number after the batch). A killed
   import (Ctrl-C, a crash, a reboot) has lost only the batch it was in: importing the
   same file again resumes after the last committed line and says so. The file is
   recognised by its key — SHA-256 of its size and first MiB — wherever it lies.
5. At the end the aggregates are rebuilt once (pulse.aggregates), for the hours the
   file's posts fall in (for the whole campaign after a resume, since the earlier
   part's hours are not known any more). Days that received only new posts take
   their counts from a tally made while preparing the batches (apply_tally), the
   others are counted again in SQL.
"""

import contextlib
import csv
import gc
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from hamseda.campaigns.models import Campaign
from hamseda.pulse import aggregates
from hamseda.pulse.formats import FormatError, bluesky, csv_rows, mastodon, stream, x
from hamseda.pulse.formats.detect import (
    BLUESKY_JSON,
    CSV,
    STREAMED,
    X_JSON,
    UnknownFormat,
    detect_format,
)
from hamseda.pulse.formats.stream import MAX_LINE_BYTES, Batch
from hamseda.pulse.ingest import (
    IngestResult,
    Tally,
    prepare_rows,
    store_prepared,
)
from hamseda.pulse.models import ImportRun, ImportState
from hamseda.pulse.records import PostRecord

MAX_PROBLEMS = 100
# Posts per committed batch. Large, because a batch's commit writes every index page
# it touched, and the engagement and author indexes are touched at random: 50,000
# posts per commit took a fifth less time than 10,000 (docs/performance.md). A killed
# import loses at most one batch, a second or two of work.
BATCH_SIZE = 50_000
_KEY_BYTES = 1024 * 1024
# From this size on, JSON Lines are parsed in a child process (formats.stream): below
# it, starting the process (about a second) costs more than the overlap gains.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024

Progress = Callable[[int, int], None]


class ImportRefused(ValueError):
    """The file cannot be imported at all; the message says why."""


@dataclass
class ImportReport:
    file_name: str
    file_format: str
    total_bytes: int
    read: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    bad_lines: int = 0
    # (line number, or None in a single JSON document; message) — the first 100.
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    # The line after which this import resumed an interrupted one (0: from the start),
    # and the posts that earlier import had committed.
    resumed_after_line: int = 0
    resumed_posts: int = 0
    lines: int = 0
    first_hour: datetime | None = None
    last_hour: datetime | None = None
    run_id: int | None = None

    def problem(self, line: int | None, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((line, message))

    def add(self, stored: IngestResult) -> None:
        self.read += stored.read
        self.new += stored.new
        self.updated += stored.updated
        self.deleted += stored.deleted
        if stored.first_hour is not None and (
            self.first_hour is None or stored.first_hour < self.first_hour
        ):
            self.first_hour = stored.first_hour
        if stored.last_hour is not None and (
            self.last_hour is None or stored.last_hour > self.last_hour
        ):
            self.last_hour = stored.last_hour

    @property
    def unchanged(self) -> int:
        return self.read - self.new - self.updated - self.deleted


def file_key(path: Path) -> str:
    """SHA-256 of the file's size and first MiB: the same file under any name."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode() + b"\n")
    with path.open("rb") as handle:
        digest.update(handle.read(_KEY_BYTES))
    return digest.hexdigest()


def _campaign(campaign: Campaign | str) -> Campaign:
    if isinstance(campaign, Campaign):
        return campaign
    found = Campaign.objects.filter(slug=campaign).first()
    if found is None:
        raise ImportRefused(gettext("There is no campaign '%(slug)s'.") % {"slug": campaign})
    return found


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImportRefused(gettext("There is no file %(path)s.") % {"path": path})
    if not path.is_file():
        raise ImportRefused(gettext("%(path)s is not a file.") % {"path": path})
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise ImportRefused(
            gettext("%(path)s cannot be read: %(error)s.")
            % {"path": path, "error": error.strerror or error}
        ) from None


class _Importer:
    """One import of one file; see the module docstring for the steps."""

    def __init__(
        self,
        campaign: Campaign,
        path: Path,
        file_format: str,
        *,
        now: datetime,
        progress: Progress | None,
        batch_size: int,
    ) -> None:
        self.campaign = campaign
        self.path = path
        self.format = file_format
        self.now = now
        self.progress = progress
        self.batch_size = batch_size
        self.total = path.stat().st_size
        self.report = ImportReport(path.name, file_format, self.total)
        # Read but not committed yet (CSV and single documents).
        self.pending: list[PostRecord] = []
        self.pending_bad = 0
        self.pending_problems: list[tuple[int | None, str]] = []
        self.run: ImportRun | None = None
        # What the batches of new posts add to the aggregates, and the hours of the
        # other batches (aggregates.apply_tally).
        self.tally = Tally()
        self.dirty_hours: set[int] = set()

    # --- the run row ---------------------------------------------------------------

    def start(self, resume: bool) -> tuple[int, int]:
        """Create or take up the ImportRun; (byte offset, line number) to start at."""
        key = file_key(self.path)
        earlier = (
            ImportRun.objects.filter(
                campaign=self.campaign,
                file_key=key,
                state__in=[ImportState.RUNNING, ImportState.INTERRUPTED],
            )
            .order_by("-started_at", "-pk")
            .first()
        )
        if resume and earlier is not None and self.format in STREAMED and earlier.byte_offset:
            earlier.state = ImportState.RUNNING
            earlier.file_name = self.path.name[:300]
            earlier.save(update_fields=["state", "file_name"])
            self.run = earlier
            self.report.resumed_after_line = earlier.line_number
            self.report.resumed_posts = earlier.posts_read
            self.report.run_id = earlier.pk
            return earlier.byte_offset, earlier.line_number
        # Starting afresh: an unfinished earlier run of this file is over.
        ImportRun.objects.filter(
            campaign=self.campaign, file_key=key, state=ImportState.RUNNING
        ).update(state=ImportState.INTERRUPTED)
        self.run = ImportRun.objects.create(
            campaign=self.campaign,
            file_key=key,
            file_name=self.path.name[:300],
            file_format=self.format,
            state=ImportState.RUNNING,
            started_at=self.now,
        )
        self.report.run_id = self.run.pk
        return 0, 0

    def commit(self, batch: Batch) -> None:
        """Store a batch and the progress after it in one transaction."""
        assert self.run is not None  # noqa: S101 - start() ran; for the type checker
        with transaction.atomic():
            stored = store_prepared(batch.prepared)
            ImportRun.objects.filter(pk=self.run.pk).update(
                byte_offset=batch.offset,
                line_number=batch.line,
                posts_read=F("posts_read") + stored.read,
                posts_new=F("posts_new") + stored.new,
                bad_lines=F("bad_lines") + batch.bad_lines,
            )
        self.report.add(stored)
        tally = batch.prepared.tally
        if tally is not None:
            if stored.new == len(batch.prepared.rows) and not batch.prepared.tombstones:
                self.tally.merge(tally)
            else:
                self.dirty_hours |= tally.touched_hours()
        self.report.bad_lines += batch.bad_lines
        for line, message in batch.problems:
            self.report.problem(line, message)
        if self.progress is not None:
            self.progress(batch.offset, self.total)

    def commit_pending(self, offset: int, line: int) -> None:
        prepared = prepare_rows(self.pending, self.campaign.pk, now=self.now, tally=True)
        self.commit(Batch(prepared, offset, line, self.pending_bad, self.pending_problems))
        self.pending, self.pending_bad, self.pending_problems = [], 0, []

    def bad(self, line: int | None, message: str) -> None:
        self.pending_bad += 1
        if len(self.pending_problems) < MAX_PROBLEMS:
            self.pending_problems.append((line, message))

    def finish(self) -> None:
        assert self.run is not None  # noqa: S101 - start() ran; for the type checker
        ImportRun.objects.filter(pk=self.run.pk).update(
            state=ImportState.DONE, finished_at=timezone.now()
        )

    def interrupted(self) -> None:
        if self.run is not None:
            ImportRun.objects.filter(pk=self.run.pk, state=ImportState.RUNNING).update(
                state=ImportState.INTERRUPTED
            )

    # --- reading -------------------------------------------------------------------

    def import_jsonl(self, offset: int, line: int, *, parallel: bool | None) -> None:
        options: dict[str, Any] = {
            "offset": offset,
            "line": line,
            "batch_size": self.batch_size,
            "campaign_id": self.campaign.pk,
            "now": self.now,
            "vendor": connection.vendor,
        }
        if parallel is None:
            parallel = (os.cpu_count() or 1) > 1 and self.total - offset >= PARALLEL_MIN_BYTES
        child = None
        if parallel:
            environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))}
            try:
                # This Python running our own module, no shell.
                child = subprocess.Popen(
                    [sys.executable, "-m", "hamseda.pulse.formats.stream"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=environment,
                )
            except OSError:
                child = None  # no second process here: parse in this one, more slowly
        batches = (
            self._parsed_in_child(child, options)
            if child is not None
            else stream.jsonl_batches(self.path, self.format, **options)
        )
        try:
            for batch in batches:
                self.commit(batch)
                self.report.lines = batch.line
        finally:
            # Stops the child now, not when the traceback is gone, if a commit failed.
            batches.close()

    def _parsed_in_child(self, child: subprocess.Popen, options: dict) -> Generator[Batch]:
        """Batches parsed by a child process (formats.stream), while this one stores."""
        try:
            task, results = child.stdin, child.stdout
            if task is None or results is None:  # never: both are pipes
                raise RuntimeError("The parsing process has no pipes.")
            stream.write_item(
                task, {"path": str(self.path), "format": self.format, "options": options}
            )
            task.close()
            while True:
                try:
                    item = stream.read_item(results)
                except EOFError:
                    raise RuntimeError(
                        f"The parsing process stopped (exit code {child.wait()})."
                    ) from None
                if item is None:
                    return
                if isinstance(item, tuple):
                    raise RuntimeError(f"The parsing process failed: {item[1]}")
                yield item  # type: ignore[misc]
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            if child.stdout is not None:
                child.stdout.close()

    def import_csv(self, offset: int, line: int) -> None:
        with self.path.open("rb") as handle:
            sample = handle.read(65536).decode("utf-8", errors="replace")
            dialect = csv_rows.sniff_dialect(sample)
            header_lines = _DecodedLines(handle, 0, 0)
            try:
                columns = csv_rows.read_header(next(csv.reader(header_lines, dialect)))
            except (StopIteration, csv.Error) as error:
                raise ImportRefused(gettext("The CSV file has no header line.")) from error
            except FormatError as error:
                raise ImportRefused(str(error)) from None
            if offset == 0:
                offset, line = header_lines.offset, header_lines.line
            source = _DecodedLines(handle, offset, line)
            reader = csv.reader(source, dialect)
            while True:
                start = source.line + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    self.bad(start, gettext("not a CSV row: %(error)s") % {"error": error})
                    continue
                if not row or not any(value.strip() for value in row):
                    continue
                try:
                    self.pending.append(csv_rows.parse_row(columns, row))
                except stream.SHAPE_ERRORS as error:
                    self.bad(start, stream.message_of(error))
                    continue
                if len(self.pending) >= self.batch_size:
                    self.commit_pending(source.offset, source.line)
            self.commit_pending(source.offset, source.line)
            self.report.lines = source.line

    def import_document(self) -> None:
        """A single JSON document, parsed whole (detection made sure it is small)."""
        try:
            value = orjson.loads(self.path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as error:
            raise ImportRefused(
                gettext("The file is not valid JSON: %(error)s") % {"error": error}
            ) from None
        problems: list[str] = []
        try:
            if self.format == X_JSON:
                records = (
                    x.parse_page(value, problems)
                    if isinstance(value, dict)
                    else _each(x.parse_flat_tweet, value, problems)
                )
            elif self.format == BLUESKY_JSON:
                records = (
                    bluesky.parse_search_page(value, problems)
                    if isinstance(value, dict)
                    else bluesky.parse_views(value, problems)
                )
            else:
                records = mastodon.parse_statuses(value, problems)
        except stream.SHAPE_ERRORS as error:
            raise ImportRefused(stream.message_of(error)) from None
        for message in problems:
            self.bad(None, message)
        for start in range(0, max(len(records), 1), self.batch_size):
            end = min(start + self.batch_size, len(records))
            self.pending = records[start:end]
            # A document is not resumed; the offset only drives the progress bar.
            self.commit_pending(self.total * end // max(len(records), 1), 0)


class _DecodedLines:
    """The lines of a binary file as text for csv.reader, keeping count of the bytes
    and lines consumed: after each row, `offset` is where the next row starts."""

    def __init__(self, handle: BinaryIO, offset: int, line: int) -> None:
        self.handle = handle
        self.offset = offset
        self.line = line
        handle.seek(offset)

    def __iter__(self) -> "_DecodedLines":
        return self

    def __next__(self) -> str:
        raw = self.handle.readline(MAX_LINE_BYTES)
        if not raw:
            raise StopIteration
        self.offset += len(raw)
        self.line += 1
        if self.line == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        # A stray byte that is not UTF-8 spoils one character, not the row.
        return raw.decode("utf-8", errors="replace")


def _each(parse, values: object, problems: list[str]) -> list[PostRecord]:
    if not isinstance(values, list):
        raise FormatError(gettext("Expected a JSON array of posts."))
    records = []
    for value in values:
        try:
            records.append(parse(value))
        except stream.SHAPE_ERRORS as error:
            problems.append(stream.message_of(error))
    return records


@contextlib.contextmanager
def _fast_storing() -> Iterator[None]:
    """Settings for a bulk import, restored afterwards: no cyclic garbage collection
    (an import makes millions of short-lived acyclic objects, and the collector's
    passes over them cost a quarter of the parsing time), and on SQLite a page cache
    of up to 256 MiB and temporary sorts in memory (the indexes of a million posts do
    not fit SQLite's default 2 MiB cache, and every insert then rereads pages), and a
    WAL checkpoint every 40 MB rather than 4 MB (a batch of posts dirties index pages
    that the next batches dirty again: fewer checkpoints write each page fewer times,
    with fewer fsyncs; the durability of each commit is unchanged)."""
    collecting = gc.isenabled()
    gc.disable()
    previous = None
    # SQLite refuses to change temp_store inside a transaction (a caller's, or a test's).
    temp_store = not connection.in_atomic_block
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            previous = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint")
            checkpoint = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size = -262144")
            cursor.execute("PRAGMA wal_autocheckpoint = 10000")
            if temp_store:
                cursor.execute("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        if previous is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")
                cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")
                if temp_store:
                    cursor.execute("PRAGMA temp_store = DEFAULT")


def import_file(
    campaign: Campaign | str,
    path: str | Path,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    resume: bool = True,
    batch_size: int = BATCH_SIZE,
    parallel: bool | None = None,
) -> ImportReport:
    """Import the posts of one file into a campaign; see the module docstring.

    `progress(bytes_done, bytes_total)` is called after each committed batch.
    `parallel`: parse JSON Lines in a child process (default: for files of 32 MiB and
    more, on a machine with two cores or more). Raises
    ImportRefused when nothing can be imported (no such campaign or file, unreadable,
    not a known format).
    """
    campaign = _campaign(campaign)
    path = Path(path)
    _check_file(path)
    try:
        file_format = detect_format(path)
    except UnknownFormat as error:
        raise ImportRefused(str(error)) from None
    now = now or timezone.now()
    importer = _Importer(
        campaign, path, file_format, now=now, progress=progress, batch_size=batch_size
    )
    offset, line = importer.start(resume)
    try:
        with _fast_storing():
            if file_format == CSV:
                importer.import_csv(offset, line)
            elif file_format in stream.LINE_PARSERS:
                importer.import_jsonl(offset, line, parallel=parallel)
            else:
                importer.import_document()
    except BaseException:
        # Killed or failed: the committed batches stay, and the next import of this
        # file resumes after them. Their hours are rebuilt now if possible (a resumed
        # import rebuilds the whole campaign anyway).
        importer.interrupted()
        report = importer.report
        if report.first_hour is not None and report.last_hour is not None:
            # A failure here must not hide the error that stopped the import.
            with contextlib.suppress(Exception):
                aggregates.rebuild(campaign, report.first_hour, report.last_hour, now=now)
        raise
    importer.finish()
    report = importer.report
    with _fast_storing():
        if report.resumed_after_line:
            aggregates.rebuild_all(campaign, now=now)
        elif report.first_hour is not None and report.last_hour is not None:
            aggregates.apply_tally(
                campaign,
                importer.tally,
                importer.dirty_hours,
                report.first_hour,
                report.last_hour,
                now=now,
                # Only a deletion can change how many live posts are hidden.
                recount_hidden=report.deleted > 0,
            )
    return report
