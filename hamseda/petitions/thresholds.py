"""Milestones of a petition (Threshold): when its confirmed count first reaches one,
the milestone is recorded, shown on the page, and its action runs, once.

`check_thresholds()` runs every minute (petitions.tasks, runtime.SCHEDULE):

1. One query finds the milestones not yet reached whose petition is public and whose
   `signature_count` is at or past their count. Milestones are few (a handful per
   petition) and most are reached sooner or later, so this reads a small table joined
   to petitions by primary key; no signature is read.
2. Each is claimed with a conditional UPDATE (`reached_at = now WHERE reached_at IS
   NULL`): of two workers, or the worker and a test, exactly one changes the row.
3. In that same transaction the winner queues what the milestone does — mails go into
   the outbox, which is transactional (mail.services.queue_message) — and the mail to
   the organisation's owners and organizers. A crash before the commit undoes the
   claim and the mails together, so the action happens exactly once.

The count only passes through milestones upward in practice; a milestone reached
stays reached even if withdrawals take the count below it again.
"""

from datetime import datetime
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hamseda.api import webhooks
from hamseda.links import absolute_url
from hamseda.mail.services import queue_message
from hamseda.orgs.services import staff_addresses
from hamseda.petitions import pagecache, responses
from hamseda.petitions.models import Petition, PetitionState, Threshold, ThresholdAction

# More would make a milestone a mailing list, which is what mail-outs are for.
MAX_ADDRESSES = 200
MAX_COUNT = 100_000_000
MAX_DESCRIPTION = 300
# Only these petitions gain confirmed signatures (a closed one still counts late
# confirmations of signatures made while it was open).
COUNTING_STATES = [PetitionState.OPEN, PetitionState.CLOSED, PetitionState.WON]


class ThresholdError(Exception):
    """A milestone that cannot be added or removed; str() is a translated message."""


def parse_addresses(text: str) -> list[str]:
    """The addresses of a NOTIFY milestone, one per line (commas and semicolons are
    accepted as separators too), each checked by Django's EmailValidator, duplicates
    dropped. Raises ThresholdError naming the first bad line."""
    validate = EmailValidator()
    addresses: list[str] = []
    lines = text.replace(",", "\n").replace(";", "\n").splitlines()
    for number, line in enumerate(lines, start=1):
        address = line.strip()
        if not address:
            continue
        try:
            validate(address)
        except ValidationError:
            raise ThresholdError(
                _("Line %(line)d is not a valid e-mail address.") % {"line": number}
            ) from None
        if address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    if len(addresses) > MAX_ADDRESSES:
        raise ThresholdError(
            _("At most %(max)d addresses, please: for more, use a mail-out.")
            % {"max": MAX_ADDRESSES}
        )
    return addresses


def add_threshold(
    petition: Petition,
    *,
    count: int,
    action: str,
    notify_addresses: str = "",
    description: str = "",
    now: datetime | None = None,
) -> Threshold:
    """Add a milestone. A count the petition has already reached is reached at the next
    check (within a minute), and its action runs then.

    An ASK_RESPONSE milestone is accepted even when no decision-maker has an e-mail
    address yet: organisers may add one before it is reached (the page warns,
    `targets_without_email`)."""
    now = now or timezone.now()
    if action not in ThresholdAction.values:
        raise ThresholdError(_("Choose what happens at this milestone."))
    if not 1 <= count <= MAX_COUNT:
        raise ThresholdError(
            _("A milestone is a number of signatures from 1 to %(max)s.") % {"max": MAX_COUNT}
        )
    description = description.strip()
    if len(description) > MAX_DESCRIPTION or "\x00" in description:
        raise ThresholdError(
            _("The description is at most %(max)d characters.") % {"max": MAX_DESCRIPTION}
        )
    addresses: list[str] = []
    if action == ThresholdAction.NOTIFY:
        addresses = parse_addresses(notify_addresses)
        if not addresses:
            raise ThresholdError(_("Give at least one e-mail address to notify, one per line."))
    try:
        with transaction.atomic():
            threshold = Threshold.objects.create(
                petition=petition,
                count=count,
                action=action,
                notify_addresses="\n".join(addresses),
                description=description,
                created_at=now,
            )
            transaction.on_commit(lambda: pagecache.forget(petition.slug))
    except IntegrityError:
        # The unique constraint (petition, count, action), also against a double submit.
        raise ThresholdError(
            _("This petition already has a milestone at %(count)s signatures with that action.")
            % {"count": count}
        ) from None
    return threshold


def remove_threshold(threshold: Threshold) -> None:
    """Remove a milestone not yet reached; a reached one is part of the record."""
    with transaction.atomic():
        # Conditional: the check may be reaching it right now.
        deleted, _count = Threshold.objects.filter(pk=threshold.pk, reached_at=None).delete()
        if not deleted:
            raise ThresholdError(_("A milestone that has been reached stays on the record."))
        slug = threshold.petition.slug
        transaction.on_commit(lambda: pagecache.forget(slug))


def targets_without_email(petition: Petition) -> list:
    """Decision-makers of the petition a response request cannot reach."""
    return [target for target in petition.targets.all() if not target.email]


def due_thresholds() -> QuerySet[Threshold]:
    return (
        Threshold.objects.filter(
            reached_at=None,
            petition__state__in=COUNTING_STATES,
            petition__signature_count__gte=F("count"),
        )
        .select_related("petition", "petition__organization")
        .order_by("petition_id", "count", "pk")
    )


def check_thresholds(*, now: datetime | None = None) -> int:
    """Reach every milestone whose petition got there, each exactly once (see the
    module docstring). Returns how many this call reached."""
    now = now or timezone.now()
    reached = 0
    for threshold in due_thresholds():
        with transaction.atomic():
            claimed = Threshold.objects.filter(pk=threshold.pk, reached_at=None).update(
                reached_at=now
            )
            if not claimed:
                continue  # Another worker reached it first, and did its action.
            threshold.reached_at = now
            _act(threshold, now)
            # Partners' webhooks, queued in this transaction (api.webhooks).
            webhooks.queue_milestone(threshold, now=now)
            slug = threshold.petition.slug
            transaction.on_commit(partial(pagecache.forget, slug))
        reached += 1
    return reached


def _act(threshold: Threshold, now: datetime) -> None:
    """What a milestone does, inside the transaction that claimed it."""
    petition = threshold.petition
    language = petition.default_language
    asked = 0
    if threshold.action == ThresholdAction.ASK_RESPONSE:
        asked = responses.request_responses(petition, now=now)
    context = {
        "petition_id": petition.pk,
        "count": threshold.count,
        "description": threshold.description,
        "action": threshold.action,
        "reached_on": now.date().isoformat(),
    }
    with translation.override(language):
        context["url"] = absolute_url(petition.get_absolute_url())
        milestones_url = absolute_url(reverse("outcomes:milestones", args=[petition.slug]))
    if threshold.action == ThresholdAction.NOTIFY:
        for address in threshold.notify_addresses.splitlines():
            queue_message(
                kind="milestone-notify",
                to=address,
                template="petitions/mail/staff/milestone_notify.txt",
                context=context,
                language=language,
                now=now,
            )
    organiser_context = {
        **context,
        "asked": asked,
        "notified": len(threshold.notify_addresses.splitlines()),
        "milestones_url": milestones_url,
    }
    for address in staff_addresses(petition.organization_id):
        queue_message(
            kind="milestone-organisers",
            to=address,
            template="petitions/mail/staff/milestone_organisers.txt",
            context=organiser_context,
            language=language,
            now=now,
        )
