"""`hamseda kit build PETITION --out ZIP [--languages en,fa,ps]`: a petition's share kit
as a zip, the same as /p/<petition>/kit.zip (kit.bundle makes both)."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hamseda.kit import bundle
from hamseda.kit.content import languages_of
from hamseda.petitions.models import Petition


class Command(BaseCommand):
    help = (
        "Build a petition's share kit: `kit build PETITION --out ZIP [--languages en,fa,ps]`. "
        "Every image size and the A4 and A3 posters, in each language."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        build = sub.add_parser("build", help="write a petition's kit as a zip")
        build.add_argument("petition", help="the petition's slug")
        build.add_argument("--out", required=True, type=Path, help="the zip to write (new file)")
        build.add_argument(
            "--languages",
            default="",
            help="comma-separated, e.g. en,fa,ps (default: the languages of the petition)",
        )

    def handle(self, *args, what, petition, out, languages, **options):
        found = (
            Petition.objects.select_related("campaign")
            .prefetch_related("translations", "campaign__translations")
            .filter(slug=petition)
            .first()
        )
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        wanted = self._languages(found, languages)
        if out.exists():
            raise CommandError(f"{out} exists already; choose another file name or remove it.")
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        data = bundle.zip_bytes(found, wanted)
        try:
            # "x": fails if the file appeared meanwhile, rather than overwrite it.
            with out.open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except FileExistsError as error:
            raise CommandError(f"{out} exists already.") from error
        except OSError as error:
            raise CommandError(f"Could not write {out}: {error.strerror}.") from error
        self.stdout.write(
            f"The kit of {petition} ({', '.join(wanted)}) is in {out} ({len(data):,} bytes)."
        )

    def _languages(self, petition: Petition, option: str) -> list[str]:
        has = languages_of(petition)
        if not option.strip():
            return has
        known = [code for code, _name in settings.LANGUAGES]
        wanted = []
        for code in (part.strip() for part in option.split(",")):
            if not code:
                continue
            if code not in known:
                raise CommandError(f"Unknown language {code!r}; choose from {', '.join(known)}.")
            if code not in wanted:
                wanted.append(code)
        if not wanted:
            raise CommandError("--languages names no language.")
        for code in wanted:
            if code not in has:
                self.stderr.write(
                    f"Note: {petition.slug} has no text in {code!r}; its {code}/ images use "
                    f"the petition's main language ({petition.default_language})."
                )
        return wanted
