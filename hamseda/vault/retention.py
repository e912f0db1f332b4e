"""Retention (PRIVACY.md rule 8): supporters' personal data is kept for RETENTION_DAYS
after a petition stopped taking signatures, then deleted; its counts stay.

`purge_personal_data()` runs daily (vault.tasks, runtime.SCHEDULE) and by hand
(`hamseda purge-personal-data [--dry-run]`):

1. A petition *stopped* when it was closed or won (`closed_at`, set by close_petition()
   and mark_won()), or when its closing date passed while it was still open.
2. RETENTION_WARNING_DAYS before the period ends, the organisation's owners and
   organizers are mailed, once: `retention_warned_at` is set by a conditional UPDATE,
   so two runs at once (the worker and the command) warn once.
3. Once the period has passed and the warning is RETENTION_WARNING_DAYS old, every
   Signature row of the petition is deleted (sealed data, fingerprints, opted-in first
   names, pending ones too), `personal_data_purged_at` is set and an audit event
   written, in one transaction. Petition.signature_count, invalidated_count and the
   country and day counts are left untouched, and `recount` leaves them alone from then
   on. A petition that became due without a warning (the first run after an upgrade, a
   shorter retention) is warned now and purged one lead time later: organisers always
   get their notice before the data is gone.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from hamseda.integrity.audit import record
from hamseda.integrity.models import AuditAction
from hamseda.mail.services import queue_message
from hamseda.orgs.services import staff_addresses
from hamseda.petitions import pagecache
from hamseda.petitions.models import Petition, PetitionState, Signature
from hamseda.petitions.withdrawal import delete_signature_rows


@dataclass
class RetentionReport:
    """What a run did, or with `dry_run` would do: petition slug → mails queued to its
    organisers (`warned`), and slug → signature rows deleted (`purged`)."""

    dry_run: bool = False
    warned: dict[str, int] = field(default_factory=dict)
    purged: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "warned": self.warned, "purged": self.purged}


def _period() -> timedelta:
    return timedelta(days=settings.HAMSEDA["RETENTION_DAYS"])


def _lead() -> timedelta:
    return timedelta(days=settings.HAMSEDA["RETENTION_WARNING_DAYS"])


def stopped_at(petition: Petition) -> datetime | None:
    """When a petition stopped taking signatures; None while it still may."""
    if petition.state in {PetitionState.CLOSED, PetitionState.WON}:
        return petition.closed_at
    if petition.state == PetitionState.OPEN:
        return petition.closing_at
    return None


def _stopped_by(cutoff: datetime) -> Q:
    """stopped_at(petition) <= cutoff, as a query."""
    return Q(state__in=[PetitionState.CLOSED, PetitionState.WON], closed_at__lte=cutoff) | Q(
        state=PetitionState.OPEN, closing_at__lte=cutoff
    )


def _holding_personal_data() -> QuerySet[Petition]:
    return (
        Petition.objects.filter(personal_data_purged_at=None)
        .select_related("organization")
        .order_by("pk")
    )


def due_for_purge(now: datetime) -> QuerySet[Petition]:
    due = _holding_personal_data().filter(_stopped_by(now - _period()))
    if _lead():
        # The organisers must have had their full notice (see the module docstring).
        due = due.filter(retention_warned_at__lte=now - _lead())
    return due


def due_for_warning(now: datetime) -> QuerySet[Petition]:
    if not _lead():
        return Petition.objects.none()
    return _holding_personal_data().filter(
        _stopped_by(now - _period() + _lead()), retention_warned_at=None
    )


def warn_organisers(petition: Petition, *, now: datetime) -> int | None:
    """Mail the petition's organisers that its supporters' data will be purged, once.
    Returns how many mails were queued, or None if another run warned first."""
    stopped = stopped_at(petition) or now
    purge_on = max(stopped + _period(), now + _lead())
    with transaction.atomic():
        # Conditional UPDATE: of two runs warning at once, only one gets the row.
        claimed = Petition.objects.filter(
            pk=petition.pk, retention_warned_at=None, personal_data_purged_at=None
        ).update(retention_warned_at=now)
        if not claimed:
            return None
        recipients = staff_addresses(petition.organization_id)
        for address in recipients:
            queue_message(
                kind="retention-warning",
                to=address,
                template="vault/mail/retention_warning.txt",
                context={
                    "petition_id": petition.pk,
                    "purge_on": purge_on.date().isoformat(),
                    "retention_days": settings.HAMSEDA["RETENTION_DAYS"],
                    "warning_days": settings.HAMSEDA["RETENTION_WARNING_DAYS"],
                },
                language=petition.default_language,
                now=now,
            )
    return len(recipients)


def purge_petition(petition: Petition, *, now: datetime) -> int | None:
    """Delete every signature of one petition, keep its counts, mark it and audit it.
    Returns how many rows were deleted, or None if another run purged it first.

    The signature rows are deleted before the petition row is marked: the same lock
    order as a withdrawal (signature rows, then the petition row), so a supporter
    withdrawing during the purge never deadlocks with it. Of two purges racing, the
    second finds the petition already marked and rolls back (its DELETE found nothing
    left anyway), so one audit event is written.
    """
    with transaction.atomic():
        deleted = delete_signature_rows(Signature.objects.filter(petition_id=petition.pk))
        claimed = Petition.objects.filter(pk=petition.pk, personal_data_purged_at=None).update(
            personal_data_purged_at=now
        )
        if not claimed:
            transaction.set_rollback(True)
            return None
        record(
            AuditAction.RETENTION_PURGE,
            organization=petition.organization,
            actor=None,
            subject=petition.slug,
            details={
                "signatures_deleted": deleted,
                "retention_days": settings.HAMSEDA["RETENTION_DAYS"],
                "closed_at": petition.closed_at.isoformat() if petition.closed_at else "",
            },
            now=now,
        )
        slug = petition.slug
        transaction.on_commit(lambda: pagecache.forget(slug))
    return deleted


def purge_personal_data(*, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Purge the petitions that are due, then warn about those coming due (see the
    module docstring). With `dry_run`, change nothing and report what would be done."""
    now = now or timezone.now()
    report = RetentionReport(dry_run=dry_run)
    for petition in due_for_purge(now):
        if dry_run:
            report.purged[petition.slug] = Signature.objects.filter(petition=petition).count()
        elif (deleted := purge_petition(petition, now=now)) is not None:
            report.purged[petition.slug] = deleted
    for petition in due_for_warning(now):
        if dry_run:
            report.warned[petition.slug] = len(staff_addresses(petition.organization_id))
        elif (sent := warn_organisers(petition, now=now)) is not None:
            report.warned[petition.slug] = sent
    return report
