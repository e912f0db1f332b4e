"""`hamseda disposable-domains update --from FILE | add DOMAIN | allow DOMAIN |
remove DOMAIN | list`: keep the local list of disposable e-mail domains without a
release (integrity.disposable, docs/integrity.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hamseda.integrity import disposable
from hamseda.integrity.models import DisposableDomain


class Command(BaseCommand):
    help = "Local additions to and exceptions from the list of disposable e-mail domains."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        update = sub.add_parser("update", help="add every domain in FILE (one a line)")
        update.add_argument("--from", dest="source", required=True, type=Path, metavar="FILE")
        update.add_argument(
            "--replace",
            action="store_true",
            help="also remove local disposable entries that are not in FILE",
        )
        for name, text in (
            ("add", "refuse this domain (and its subdomains)"),
            ("allow", "accept this domain although the package lists it"),
            ("remove", "forget a local entry"),
            ("check", "say whether a domain is refused"),
        ):
            item = sub.add_parser(name, help=text)
            item.add_argument("domain")
            if name in {"add", "allow"}:
                item.add_argument("--note", default="", help="why (kept with the entry)")
        sub.add_parser("list", help="the local entries")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except disposable.BadDomain as error:
            raise CommandError(f"Not an e-mail domain: {error}") from None

    def do_update(self, *, source: Path, replace: bool, **_):
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {source}: {error}") from None
        domains, bad = disposable.read_domain_file(lines)
        if bad:
            self.stderr.write(f"Skipped {len(bad)} lines that are not domains, e.g. {bad[0]!r}.")
        result = disposable.update_from(domains, replace=replace)
        self.stdout.write(
            f"{len(domains)} domains read: {result['added']} added, {result['removed']} removed."
        )

    def do_add(self, *, domain: str, note: str, **_):
        entry = disposable.add(domain, note=note)
        self.stdout.write(f"{entry.domain}: refused as disposable.")

    def do_allow(self, *, domain: str, note: str, **_):
        entry = disposable.add(domain, allowed=True, note=note)
        self.stdout.write(f"{entry.domain}: accepted (an exception to the list).")

    def do_remove(self, *, domain: str, **_):
        if not disposable.remove(domain):
            raise CommandError(f"{domain} has no local entry.")
        self.stdout.write(f"{disposable.normalise_domain(domain)}: local entry removed.")

    def do_check(self, *, domain: str, **_):
        refused = disposable.is_disposable(domain)
        self.stdout.write(f"{domain}: {'refused' if refused else 'accepted'}")

    def do_list(self, **_):
        for entry in DisposableDomain.objects.all():
            kind = "allowed" if entry.allowed else "refused"
            self.stdout.write(f"{entry.domain}\t{kind}\t{entry.added_at:%Y-%m-%d}\t{entry.note}")
