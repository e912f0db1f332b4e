"""`hamseda deliver PETITION --out PDF`: the delivery document for the decision-makers.

Options: `--reasons FILE` (selected reasons for signing, UTF-8, one a paragraph; from
the organisers' decrypted export, used for this document only), `--no-names`,
`--language LANG ...` (the petition's texts to include; default all), `--csv CSV` (the
numbers as CSV too), `--max-names N`. Like `hamseda export`, it never overwrites a file,
and writes each file under a temporary name first, so a crash leaves no half document.
"""

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hamseda.petitions import delivery
from hamseda.petitions.models import Petition
from hamseda.vault.export import ExportError, publish

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class Command(BaseCommand):
    help = (
        "Make a petition's delivery document (PDF): its text, targets, confirmed total, "
        "signatures by country and over time, selected reasons, and the names of signers "
        "who agreed to be shown."
    )

    def add_arguments(self, parser):
        parser.add_argument("petition", help="the petition's slug")
        parser.add_argument("--out", required=True, type=Path, help="the PDF to write")
        parser.add_argument(
            "--reasons",
            type=Path,
            help=(
                "UTF-8 text of selected reasons for signing, one a paragraph (blank line "
                f"between them), at most {delivery.MAX_REASONS} of "
                f"{delivery.MAX_REASON_CHARS} characters; not stored"
            ),
        )
        parser.add_argument(
            "--no-names",
            action="store_true",
            help="leave out the first names of signers who agreed to be shown",
        )
        parser.add_argument(
            "--language",
            nargs="+",
            choices=LANGUAGE_CODES,
            default=[],
            help="the petition's languages to include (default: every one it has)",
        )
        parser.add_argument("--csv", type=Path, help="also write the numbers as CSV here")
        parser.add_argument(
            "--max-names",
            type=int,
            default=delivery.MAX_NAMES,
            help=f"print at most this many names, then 'and N more' (default {delivery.MAX_NAMES})",
        )

    def handle(self, *args, petition, out, reasons, no_names, language, csv, max_names, **options):
        found = (
            Petition.objects.select_related("organization", "campaign")
            .filter(slug=petition)
            .first()
        )
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        for target in (out, csv):
            if target is not None:
                _check_writable(target)
        if csv is not None and csv.resolve() == out.resolve():
            raise CommandError("--out and --csv must be different files.")
        if max_names < 0:
            raise CommandError("--max-names must be 0 or more.")
        try:
            chosen = _read_reasons(reasons) if reasons else []
            wanted = delivery.DeliveryOptions(
                languages=tuple(language),
                include_names=not no_names,
                reasons=tuple(chosen),
                max_names=max_names,
            )
            plan = delivery.plan_document(found, wanted, now=timezone.now())
            pdf = delivery.render_pdf(plan)
        except delivery.DeliveryError as error:
            raise CommandError(str(error)) from error
        _write(out, pdf)
        self.stdout.write(
            f"Delivery document of {petition} written to {out}: "
            f"{found.signature_count} confirmed signatures, "
            f"languages {', '.join(plan.languages)}, {len(chosen)} reasons"
            f"{', without names' if no_names else ''}."
        )
        if csv is not None:
            _write(csv, delivery.aggregates_csv(found, plan.language).encode())
            self.stdout.write(f"Numbers written to {csv}.")


def _check_writable(path: Path) -> None:
    """Refuse before the (slow) rendering what would fail when writing."""
    if path.exists():
        raise CommandError(f"{path} exists; refusing to overwrite it.")
    folder = path.parent
    try:
        # As `hamseda export` does: a missing folder is made.
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"Cannot make the folder {folder}: {error.strerror}.") from error
    if not os.access(folder, os.W_OK):
        raise CommandError(f"Cannot write to {folder}.")


def _read_reasons(path: Path) -> list[delivery.Reason]:
    try:
        with path.open("rb") as stream:
            data = stream.read(delivery.MAX_REASONS_BYTES + 1)
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
    return delivery.read_reasons_file(data, str(path))


def _write(out: Path, data: bytes) -> None:
    """Write to a temporary file beside `out`, then give it its name without ever
    replacing a file (vault.export.publish)."""
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        publish(Path(temporary), out)
    except ExportError as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        raise CommandError(f"Cannot write {out}: {error.strerror}.") from error
    finally:
        Path(temporary).unlink(missing_ok=True)
