"""`hamseda invalidate PETITION …`: bulk invalidation from the command line.

    hamseda invalidate PETITION (--domain D | --ip-fingerprint F | --since T --until T)
                       [--dry-run] --reason R
    hamseda invalidate PETITION --undo ID --reason R
    hamseda invalidate PETITION --list

Criteria combine (all must hold). T is ISO 8601; a time without a zone is UTC. The
audit log names the actor "system": the command runs with the server's own rights.
"""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from hamseda.integrity.invalidation import (
    InvalidationRefused,
    invalidate_signatures,
    invalidations_of,
    undo_invalidation,
)
from hamseda.petitions.models import Petition


def parse_time(value: str | None, option: str) -> datetime | None:
    """ISO 8601 (`2026-11-28T14:00`, `2026-11-28 14:00+01:00`, `…Z`); naive means UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"{option}: {value!r} is not an ISO 8601 time (e.g. 2026-11-28T14:00Z)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Invalidate a petition's signatures by e-mail domain, network fingerprint or time."

    def add_arguments(self, parser):
        parser.add_argument("petition", help="the petition's slug")
        parser.add_argument("--domain", help="e-mail domain, e.g. mailinator.com")
        parser.add_argument(
            "--ip-fingerprint", dest="network_fingerprint", help="network fingerprint"
        )
        parser.add_argument("--since", help="signed at or after (ISO 8601; naive = UTC)")
        parser.add_argument("--until", help="signed before (ISO 8601; naive = UTC)")
        parser.add_argument("--reason", help="why (kept in the audit log)")
        parser.add_argument("--dry-run", action="store_true", help="only count the matches")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--undo", type=int, metavar="ID", help="undo invalidation ID")
        action.add_argument("--list", action="store_true", help="list past invalidations")

    def handle(self, *args, petition: str, **options):
        found = Petition.objects.select_related("organization").filter(slug=petition).first()
        if found is None:
            raise CommandError(f"No petition {petition!r}.")
        criteria = [options[name] for name in ("domain", "network_fingerprint", "since", "until")]
        if (options["list"] or options["undo"] is not None) and any(criteria):
            raise CommandError("--list and --undo take no criteria.")
        try:
            if options["list"]:
                self._list(found)
            elif options["undo"] is not None:
                self._undo(found, options["undo"], options)
            else:
                self._invalidate(found, options)
        except InvalidationRefused as refused:
            raise CommandError(str(refused)) from None

    def _invalidate(self, petition: Petition, options: dict) -> None:
        since = parse_time(options["since"], "--since")
        until = parse_time(options["until"], "--until")
        result = invalidate_signatures(
            petition,
            domain=options["domain"],
            network_fingerprint=options["network_fingerprint"],
            since=since,
            until=until,
            reason=options["reason"] or "",
            dry_run=options["dry_run"],
        )
        if result.dry_run:
            self.stdout.write(
                f"Dry run: {result.count} signatures would be invalidated "
                f"({result.confirmed} confirmed, {result.pending} pending)."
            )
            for country, count in result.by_country.items():
                self.stdout.write(f"  {country}: {count} confirmed")
            return
        self.stdout.write(
            f"Invalidation {result.invalidation.pk}: {result.count} signatures invalidated "
            f"({result.confirmed} confirmed, {result.pending} pending)."
        )

    def _undo(self, petition: Petition, pk: int, options: dict) -> None:
        if not (options["reason"] or "").strip():
            # An undo is audited like the invalidation, with its reason.
            raise CommandError("Give a --reason for the undo.")
        invalidation = invalidations_of(petition).filter(pk=pk).first()
        if invalidation is None:
            raise CommandError(f"No invalidation {pk} of {petition.slug}.")
        undone = undo_invalidation(invalidation, reason=options["reason"])
        self.stdout.write(f"Invalidation {undone.pk} undone.")

    def _list(self, petition: Petition) -> None:
        rows = list(invalidations_of(petition))
        if not rows:
            self.stdout.write(f"No invalidations of {petition.slug}.")
            return
        for item in rows:
            state = f"undone {item.undone_at:%Y-%m-%d %H:%M} UTC" if item.undone_at else "active"
            self.stdout.write(
                f"{item.pk}\t{item.created_at:%Y-%m-%d %H:%M} UTC\t{item.actor_label}\t"
                f"{item.count} ({item.confirmed_count} confirmed)\t{state}\t"
                f"{item.criteria}\t{item.reason}"
            )
