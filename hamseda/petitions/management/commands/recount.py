from django.core.management.base import BaseCommand, CommandError

from hamseda.actions.services import recount_events
from hamseda.mail import mailouts
from hamseda.petitions import counting
from hamseda.petitions.models import Petition


class Command(BaseCommand):
    help = (
        "Rebuild the denormalised counters of one or all petitions from the signatures, "
        "and every event's attendee count from its RSVPs."
    )

    def add_arguments(self, parser):
        parser.add_argument("petition", nargs="?", help="slug; default: every petition")

    def handle(self, *args, petition=None, **options):
        petitions = Petition.objects.all()
        if petition:
            petitions = petitions.filter(slug=petition)
            if not petitions.exists():
                raise CommandError(f"No petition {petition!r}.")
        for item in petitions.iterator():
            before = item.signature_count
            result = counting.recount(item)
            # Mail-out progress counters too (mail.mailouts), from their recipient rows.
            mailouts.recount_mailouts(item)
            self.stdout.write(
                f"{item.slug}: {before} -> {result['signature_count']} "
                f"({result['countries']} countries, "
                f"{result['invalidated']} invalidated)"
            )
        if not petition:
            self.stdout.write(f"events: {recount_events()} attendee counts repaired")
