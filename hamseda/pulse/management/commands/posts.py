"""`hamseda posts …`: a campaign's hashtag posts from the command line (docs/pulse.md).

    hamseda posts import FILE [FILE…] --campaign SLUG [--no-resume]
    hamseda posts fetch --source {x,bluesky,mastodon} --hashtag TAG --campaign SLUG
                        [--instance URL] [--token-file FILE] [--max-pages N]
    hamseda posts stream --source bluesky --campaign SLUG [--jetstream URL]
    hamseda posts rebuild --campaign SLUG

`import` shows a progress bar by bytes on stderr when stderr is a terminal (not in
logs or tests), then a summary per file; it exits with 1 when nothing could be
imported. `rebuild` is the repair path of every pre-aggregated number of pulse.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hamseda.campaigns.models import Campaign
from hamseda.pulse.hashtags import HashtagError, clean_hashtag
from hamseda.pulse.importer import ImportRefused, ImportReport, import_file

SHOWN_PROBLEMS = 10


class Command(BaseCommand):
    help = (
        "A campaign's hashtag posts: `posts import FILE… --campaign SLUG`, "
        "`posts fetch --source x|bluesky|mastodon --hashtag TAG --campaign SLUG`, "
        "`posts stream --source bluesky --campaign SLUG`, `posts rebuild --campaign SLUG`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import",
            help="import files: twarc2 JSONL, X API v2 JSON, Bluesky or Mastodon JSON, CSV",
        )
        load.add_argument("files", nargs="+", type=Path, metavar="FILE")
        load.add_argument("--campaign", required=True, help="the campaign's slug")
        load.add_argument(
            "--no-resume",
            dest="resume",
            action="store_false",
            help="start from the beginning even if an earlier import of the file stopped",
        )
        fetch = sub.add_parser("fetch", help="fetch a hashtag's posts from a platform")
        fetch.add_argument("--source", required=True, choices=["x", "bluesky", "mastodon"])
        fetch.add_argument("--hashtag", required=True, help="e.g. BanTaliban (with or without #)")
        fetch.add_argument("--campaign", required=True, help="the campaign's slug")
        fetch.add_argument("--instance", default="", help="Mastodon: the instance's URL")
        fetch.add_argument(
            "--token-file", type=Path, help="X: a file holding the bearer token (kept locked)"
        )
        fetch.add_argument("--max-pages", type=int, help="stop after this many pages")
        stream = sub.add_parser("stream", help="follow Bluesky live through Jetstream")
        stream.add_argument("--source", required=True, choices=["bluesky"])
        stream.add_argument("--campaign", required=True, help="the campaign's slug")
        stream.add_argument(
            "--jetstream",
            default="",
            help="Jetstream address (default wss://jetstream2.us-east.bsky.network/subscribe)",
        )
        rebuild = sub.add_parser("rebuild", help="recompute the campaign's pulse figures")
        rebuild.add_argument("--campaign", required=True, help="the campaign's slug")

    def handle(self, *args, action: str, **options):
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"There is no campaign {options['campaign']!r}.")
        if action == "import":
            self._import(campaign, options["files"], resume=options["resume"])
        elif action == "fetch":
            self._fetch(campaign, options)
        elif action == "stream":
            from hamseda.pulse.connectors.jetstream import run_stream

            # Runs until stopped (Ctrl-C, SIGTERM); resumes from its saved cursor.
            code = run_stream(campaign, options["jetstream"], self.stdout, self.stderr)
            if code:
                raise CommandError("The stream stopped.", returncode=code)
        else:
            from hamseda.pulse import aggregates

            aggregates.rebuild_all(campaign)
            self.stdout.write(f"{campaign.slug}: pulse figures rebuilt from the posts.")

    # --- import ----------------------------------------------------------------------

    def _import(self, campaign: Campaign, files: list[Path], *, resume: bool) -> None:
        imported = refused = 0
        read = 0
        for path in files:
            try:
                report = self._import_one(campaign, path, resume=resume)
            except ImportRefused as error:
                refused += 1
                self.stderr.write(f"{path}: {error}")
                continue
            imported += 1
            read += report.read + report.resumed_posts
            self._summary(path, report)
        if read == 0:
            # Every file refused, or only bad lines: a script calling this must notice.
            raise CommandError("Nothing was imported.", returncode=1)
        if refused:
            self.stderr.write(f"{refused} of {len(files)} files could not be imported.")

    def _import_one(self, campaign: Campaign, path: Path, *, resume: bool) -> ImportReport:
        bar = None
        stream = getattr(self.stderr, "_out", sys.stderr)
        if hasattr(stream, "isatty") and stream.isatty():
            from tqdm import tqdm

            size = path.stat().st_size if path.is_file() else 0
            bar = tqdm(
                total=size, unit="B", unit_scale=True, desc=path.name[:30], file=stream, leave=False
            )
        done = [0]

        def progress(position: int, total: int) -> None:
            if bar is not None and position > done[0]:
                bar.update(position - done[0])
                done[0] = position

        try:
            return import_file(campaign, path, progress=progress, resume=resume)
        finally:
            if bar is not None:
                bar.close()

    def _summary(self, path: Path, report: ImportReport) -> None:
        if report.resumed_after_line:
            self.stdout.write(
                f"{path}: resumed after line {report.resumed_after_line:,}, where an earlier "
                f"import of this file stopped ({report.resumed_posts:,} posts stored then)."
            )
        self.stdout.write(
            f"{path} ({report.file_format}): {report.read:,} posts read — "
            f"{report.new:,} new, {report.updated:,} updated, {report.deleted:,} deleted, "
            f"{report.unchanged:,} unchanged; {report.bad_lines:,} bad lines."
        )
        for line, message in report.problems[:SHOWN_PROBLEMS]:
            where = f"line {line}" if line is not None else "post"
            self.stdout.write(f"  {where}: {message}")
        if report.bad_lines > SHOWN_PROBLEMS:
            self.stdout.write(f"  … and {report.bad_lines - SHOWN_PROBLEMS:,} more bad lines.")

    # --- fetch -----------------------------------------------------------------------

    def _fetch(self, campaign: Campaign, options: dict) -> None:
        try:
            hashtag = clean_hashtag(options["hashtag"])
        except HashtagError as error:
            raise CommandError(f"--hashtag: {error}") from None
        max_pages = options["max_pages"]
        if max_pages is not None and max_pages < 1:
            raise CommandError("--max-pages must be 1 or more.")
        token_file = options["token_file"]
        if token_file is not None and options["source"] != "x":
            raise CommandError("--token-file is for X only.")
        if token_file is not None and not token_file.is_file():
            raise CommandError(f"--token-file: there is no file {token_file}.")
        if options["instance"] and options["source"] != "mastodon":
            raise CommandError("--instance is for Mastodon only.")
        # pulse.fetch holds the connectors; imported here so that import and rebuild
        # work whatever state they are in.
        from hamseda.pulse.fetch import run_fetch

        code = run_fetch(
            campaign=campaign,
            platform=options["source"],
            hashtag=hashtag,
            instance=options["instance"],
            token=token_file,
            max_pages=max_pages,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        if code:
            raise CommandError("The fetch did not complete.", returncode=code)
