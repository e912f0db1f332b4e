"""`hamseda mailout`: prepare, send, pause and cancel mail-outs from the command line.

    hamseda mailout --new PETITION --update N [--country AF …] [--language fa …]
                    [--signed-from YYYY-MM-DD] [--signed-until YYYY-MM-DD]
    hamseda mailout --new PETITION --response N …
    hamseda mailout ID --key KEYFILE [--key OLDKEYFILE …]   send (or resume) it
    hamseda mailout --list [PETITION]
    hamseda mailout --pause ID | --cancel ID
    hamseda mailout --test ID --to ADDRESS [--language fa]

Sending runs in the foreground with a progress line on stderr; Ctrl-C or SIGTERM pause
it gracefully (the message being sent is finished), and running the same command again
resumes it. The key files are read into memory only: never printed, logged or stored.
"""

import signal
import sys
import threading
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hamseda.mail import mailouts
from hamseda.mail.mailout_keys import KEY_FILE_LIMIT
from hamseda.mail.models import Mailout, MailoutState
from hamseda.petitions.models import Petition, Response, Update


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Mail an update or a response to a petition's consenting signers: "
        "`--new PETITION --update N`, then `mailout ID --key KEYFILE`; also --list, "
        "--pause ID, --cancel ID, --test ID --to ADDRESS."
    )

    def add_arguments(self, parser):
        parser.add_argument("id", nargs="?", type=int, help="the mail-out to send or resume")
        parser.add_argument(
            "--key",
            dest="keys",
            action="append",
            type=Path,
            default=[],
            help="a secret key file; repeat for the keys of earlier rotations",
        )
        actions = parser.add_mutually_exclusive_group()
        actions.add_argument("--new", metavar="PETITION", help="create and queue a mail-out")
        actions.add_argument(
            "--list", nargs="?", const="", metavar="PETITION", help="list mail-outs"
        )
        actions.add_argument("--pause", type=int, metavar="ID")
        actions.add_argument("--cancel", type=int, metavar="ID")
        actions.add_argument("--test", type=int, metavar="ID", help="send one test copy")
        content = parser.add_mutually_exclusive_group()
        content.add_argument("--update", type=int, metavar="N", help="the update's id")
        content.add_argument("--response", type=int, metavar="N", help="the response's id")
        parser.add_argument("--country", action="append", default=[], metavar="CODE")
        parser.add_argument("--language", action="append", default=[], metavar="CODE")
        parser.add_argument("--signed-from", type=_day, metavar="YYYY-MM-DD")
        parser.add_argument("--signed-until", type=_day, metavar="YYYY-MM-DD")
        parser.add_argument("--to", metavar="ADDRESS", help="where --test sends the copy")

    def handle(self, *args, **options):
        try:
            if options["new"]:
                return self.create(options)
            if options["list"] is not None:
                return self.list_mailouts(options["list"])
            if options["pause"]:
                mailout = mailouts.pause_mailout(self.mailout(options["pause"]), via="cli")
                self.stdout.write(f"Mail-out {mailout.pk} will pause after its current message.")
                return None
            if options["cancel"]:
                mailout = mailouts.cancel_mailout(self.mailout(options["cancel"]), via="cli")
                self.stdout.write(f"Mail-out {mailout.pk} cancelled.")
                return None
            if options["test"]:
                return self.test_copy(options)
            if options["id"] is None:
                raise CommandError("Give a mail-out id to send (with --key), or --new/--list.")
            return self.send(options["id"], options["keys"])
        except mailouts.MailoutError as error:
            raise CommandError(str(error)) from error

    # --- the actions --------------------------------------------------------------------

    def mailout(self, mailout_id: int) -> Mailout:
        mailout = Mailout.objects.filter(pk=mailout_id).first()
        if mailout is None:
            raise CommandError(f"There is no mail-out {mailout_id}.")
        return mailout

    def create(self, options) -> None:
        petition = Petition.objects.filter(slug=options["new"]).first()
        if petition is None:
            raise CommandError(f"There is no petition {options['new']!r}.")
        update = response = None
        if options["update"]:
            update = Update.objects.filter(pk=options["update"], petition=petition).first()
            if update is None:
                raise CommandError(f"The petition has no update {options['update']}.")
        elif options["response"]:
            response = Response.objects.filter(pk=options["response"], petition=petition).first()
            if response is None:
                raise CommandError(f"The petition has no response {options['response']}.")
        else:
            raise CommandError("Say what to mail: --update N or --response N.")
        segment = mailouts.Segment(
            countries=tuple(options["country"]),
            languages=tuple(options["language"]),
            signed_from=options["signed_from"],
            signed_until=options["signed_until"],
        )
        mailout = mailouts.create_mailout(
            petition, update=update, response=response, segment=segment
        )
        try:
            listed = mailouts.queue_mailout(mailout)
        except mailouts.NothingToSend:
            mailout.delete()
            raise
        self.stdout.write(
            f"Mail-out {mailout.pk} queued for {listed} signer{'s' if listed != 1 else ''} "
            f"({segment.describe()}). Send it with: hamseda mailout {mailout.pk} --key KEYFILE"
        )

    def list_mailouts(self, slug: str) -> None:
        found = Mailout.objects.select_related("petition").order_by("-created_at", "-pk")
        if slug:
            found = found.filter(petition__slug=slug)
        now = timezone.now()
        for mailout in found:
            report = mailouts.progress(mailout, now=now)
            what = (
                f"update {mailout.update_id}"
                if mailout.update_id
                else f"response {mailout.response_id}"
            )
            state = "interrupted" if report["interrupted"] else report["state"]
            self.stdout.write(
                f"{mailout.pk:>5}  {mailout.petition.slug}  {what}  {state}  "
                f"sent {report['sent']}/{report['total']}, bounced {report['bounced']}, "
                f"failed {report['failed']}, skipped {report['skipped']}"
                + (f"  ({report['last_error']})" if report["last_error"] else "")
            )

    def test_copy(self, options) -> None:
        from hamseda.mail.services import deliver

        if not options["to"]:
            raise CommandError("Say where the test copy goes: --to ADDRESS.")
        mailout = self.mailout(options["test"])
        language = (options["language"] or [mailout.petition.default_language])[0]
        message = mailouts.send_test(mailout, options["to"], language)
        outcome = deliver(message.pk)
        if outcome != "sent":
            self.stdout.write("The test copy is queued; the worker will deliver it.")
            return
        self.stdout.write(f"Test copy of mail-out {mailout.pk} sent ({language}).")

    def send(self, mailout_id: int, key_paths: list[Path]) -> None:
        mailout = self.mailout(mailout_id)
        if not key_paths:
            raise CommandError("Give the organisation's secret key file: --key KEYFILE.")
        keys = mailouts.read_keys(self.read_key_file(path) for path in key_paths)
        started = mailouts.start_mailout(mailout, keys, via="cli")
        stop = threading.Event()

        def pause(signum, frame):
            stop.set()

        previous = {sig: signal.signal(sig, pause) for sig in (signal.SIGINT, signal.SIGTERM)}
        progress = ProgressLine(sys.stderr)
        try:
            result = mailouts.run_mailout(started.pk, keys, stop=stop, on_progress=progress.show)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            progress.end()
        del keys
        report = mailouts.progress(result)
        summary = (
            f"sent {report['sent']} of {report['total']}, bounced {report['bounced']}, "
            f"failed {report['failed']}, skipped {report['skipped']}"
        )
        if result.state == MailoutState.DONE:
            self.stdout.write(f"Mail-out {result.pk} done: {summary}.")
        elif result.state == MailoutState.PAUSED and result.last_error:
            raise CommandError(f"Mail-out {result.pk} paused: {result.last_error}. ({summary})")
        elif result.state == MailoutState.PAUSED:
            self.stdout.write(
                f"Mail-out {result.pk} paused: {summary}. Run the same command to resume."
            )
        else:
            self.stdout.write(f"Mail-out {result.pk} stopped ({result.state}): {summary}.")

    def read_key_file(self, path: Path) -> bytes:
        try:
            with path.open("rb") as handle:
                return handle.read(KEY_FILE_LIMIT + 1)
        except FileNotFoundError as error:
            raise CommandError(f"{path}: there is no such key file.") from error
        except OSError as error:
            raise CommandError(f"{path} cannot be read: {error.strerror}.") from error


class ProgressLine:
    """One line on stderr, rewritten in place on a terminal, else printed now and then."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = 0

    def show(self, mailout: Mailout) -> None:
        done = mailout.sent + mailout.bounced + mailout.failed + mailout.skipped
        percent = done * 100 // max(1, mailout.total)
        width = 30
        bar = "#" * (percent * width // 100)
        line = (
            f"[{bar:<{width}}] {percent:>3}%  sent {mailout.sent}, bounced {mailout.bounced}, "
            f"failed {mailout.failed}, skipped {mailout.skipped} of {mailout.total}"
        )
        if self.tty:
            self.stream.write("\r" + line)
        elif done - self.shown >= max(1, mailout.total // 20) or done == mailout.total:
            self.stream.write(line + "\n")
        else:
            return
        self.shown = done
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
