"""Bulk invalidation of a petition's signatures, and its undo (PRIVACY.md rule 9).

A moderator who finds a flood (one e-mail domain, one network fingerprint, one burst in
time) invalidates the matching signatures with a reason. The confirmed ones leave the
public count exactly; the petition's `invalidated_count` says how many were removed; the
audit log says who and why; and `undo_invalidation()` puts back exactly the signatures
that one invalidation took.

Both services change many rows with a handful of statements (conditional UPDATEs and
aggregated counter decrements), never one statement per signature, so 100,000
signatures cost the same few queries as ten.

Lock order, the same as confirm_signature() and withdrawal.remove_signature():
signature rows first, then the petition row, then its per-country and per-day rows.
Taking the petition row first would deadlock on PostgreSQL against a confirmation that
has already updated one of our signatures and waits for the petition row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Greatest, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction, Invalidation
from hamseda.petitions import pagecache
from hamseda.petitions.counting import bump
from hamseda.petitions.models import CountryCount, DailyCount, Petition, Signature, SignatureState

# The columns' own limits: longer criteria could never match anything.
MAX_DOMAIN = 253
MAX_FINGERPRINT = 16
MAX_REASON = 500
# How many countries a dry run lists.
PREVIEW_COUNTRIES = 10

LIVE_STATES = [SignatureState.PENDING, SignatureState.VALIDATED]


class InvalidationRefused(ValueError):
    """The request cannot be carried out; the message says why, for the moderator."""


@dataclass(frozen=True)
class Criteria:
    """What to match, cleaned. Every given criterion must hold (AND)."""

    domain: str = ""
    network_fingerprint: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_json(self) -> dict:
        """As stored in Invalidation.criteria and the audit log: only the given ones."""
        values: dict[str, str] = {}
        if self.domain:
            values["domain"] = self.domain
        if self.network_fingerprint:
            values["network_fingerprint"] = self.network_fingerprint
        if self.since:
            values["since"] = self.since.astimezone(UTC).isoformat()
        if self.until:
            values["until"] = self.until.astimezone(UTC).isoformat()
        return values

    def matching(self, petition: Petition) -> QuerySet[Signature]:
        """The petition's signatures that match and are not invalidated already, so
        overlapping invalidations never take (or count) one signature twice."""
        signatures = Signature.objects.filter(petition=petition, state__in=LIVE_STATES)
        if self.domain:
            signatures = signatures.filter(email_domain=self.domain)
        if self.network_fingerprint:
            signatures = signatures.filter(network_fingerprint=self.network_fingerprint)
        if self.since:
            signatures = signatures.filter(created_at__gte=self.since)
        if self.until:
            signatures = signatures.filter(created_at__lt=self.until)
        return signatures


def clean_criteria(
    *,
    domain: str | None = None,
    network_fingerprint: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Criteria:
    """Normalise and check the criteria, or raise InvalidationRefused.

    The domain is compared lower-case, as Signature.email_domain is stored (an "@" typed
    before it is forgiven). The time range is half-open, [since, until), on created_at.
    """
    domain = (domain or "").strip().lower().removeprefix("@")
    network_fingerprint = (network_fingerprint or "").strip()
    if len(domain) > MAX_DOMAIN:
        raise InvalidationRefused(_("An e-mail domain has at most 253 characters."))
    if len(network_fingerprint) > MAX_FINGERPRINT:
        raise InvalidationRefused(_("A network fingerprint has at most 16 characters."))
    for moment in (since, until):
        if moment is not None and timezone.is_naive(moment):
            # A naive time is ambiguous by hours; callers decide (the command: UTC).
            raise InvalidationRefused(_("Times must carry a time zone."))
    if since is not None and until is not None and since >= until:
        raise InvalidationRefused(_("The start of the time range must be before its end."))
    criteria = Criteria(domain, network_fingerprint, since, until)
    if not criteria.as_json():
        raise InvalidationRefused(
            _("Give at least one criterion: an e-mail domain, a network fingerprint or a time.")
        )
    return criteria


@dataclass
class InvalidationResult:
    """What an invalidation took (or, in a dry run, would take)."""

    count: int
    confirmed: int
    pending: int
    criteria: dict
    dry_run: bool = False
    invalidation: Invalidation | None = None
    # Country code → matching confirmed signatures, largest first (dry run only).
    by_country: dict[str, int] = field(default_factory=dict)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidationRefused(_("Give a reason: it is kept in the audit log."))
    if len(reason) > MAX_REASON:
        raise InvalidationRefused(_("A reason has at most 500 characters."))
    return reason


def _actor_label(actor) -> str:
    if actor is not None and getattr(actor, "is_authenticated", False):
        return actor.email or actor.get_username()
    return "system"


def preview(petition: Petition, criteria: Criteria) -> InvalidationResult:
    """How many signatures the criteria would invalidate now, changing nothing."""
    by_state = dict(
        criteria.matching(petition)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    by_country = dict(
        criteria.matching(petition)
        .filter(state=SignatureState.VALIDATED)
        .values_list("country")
        .annotate(n=Count("id"))
        .order_by("-n", "country")
        .values_list("country", "n")[:PREVIEW_COUNTRIES]
    )
    confirmed = by_state.get(SignatureState.VALIDATED, 0)
    pending = by_state.get(SignatureState.PENDING, 0)
    return InvalidationResult(
        count=confirmed + pending,
        confirmed=confirmed,
        pending=pending,
        criteria=criteria.as_json(),
        dry_run=True,
        by_country=by_country,
    )


def invalidate_signatures(
    petition: Petition,
    *,
    domain: str | None = None,
    network_fingerprint: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    reason: str,
    actor=None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> InvalidationResult:
    """Invalidate the petition's signatures that match every given criterion.

    1. Clean the criteria and the reason; refuse if they are unusable.
    2. Dry run: count the matches (confirmed, pending, by country) and stop.
    3. In one transaction: create the Invalidation, then mark the matches invalidated
       with one conditional UPDATE (… AND state IN (pending, validated)), pointing them
       at it. The UPDATE takes the signature rows' locks, so a confirmation racing us
       either committed first (PostgreSQL re-reads the row: we take it as confirmed,
       with its validated_at) or waits and then finds the row no longer pending and
       counts nothing; a withdrawal either deleted the row first (we never see it) or
       waits and then takes the row out of invalidated_count, which we added it to.
    4. Nothing changed: refuse; the transaction rolls back, so nothing is recorded.
    5. From the rows that now point at this invalidation (locked by us, so stable), the
       confirmed ones grouped by country and by UTC day of validated_at, as
       counting.recount() groups them: take them out of signature_count, CountryCount
       and DailyCount with one decrement per group, the petition row first as
       counting.count_confirmation() does; add them all to invalidated_count.
    6. Audit event, and drop the petition's cached pages on commit.
    """
    now = now or timezone.now()
    criteria = clean_criteria(
        domain=domain, network_fingerprint=network_fingerprint, since=since, until=until
    )
    reason = _clean_reason(reason)
    if dry_run:
        return preview(petition, criteria)

    with transaction.atomic():
        invalidation = Invalidation.objects.create(
            petition=petition,
            criteria=criteria.as_json(),
            reason=reason,
            created_at=now,
            actor_label=_actor_label(actor),
        )
        count = criteria.matching(petition).update(
            state=SignatureState.INVALIDATED, invalidation=invalidation
        )
        if not count:
            raise InvalidationRefused(
                _("No signature matches these criteria (or they are all invalidated already).")
            )
        taken = Signature.objects.filter(invalidation=invalidation, validated_at__isnull=False)
        by_country, by_day = _groups(taken)
        confirmed = sum(by_country.values())
        Petition.objects.filter(pk=petition.pk).update(
            signature_count=Greatest(F("signature_count") - confirmed, 0),
            invalidated_count=F("invalidated_count") + count,
        )
        _decrement(petition.pk, by_country, by_day)
        invalidation.count = count
        invalidation.confirmed_count = confirmed
        invalidation.save(update_fields=["count", "confirmed_count"])
        audit.record(
            AuditAction.INVALIDATION,
            organization=petition.organization,
            actor=actor,
            subject=petition.slug,
            details={
                "invalidation": invalidation.pk,
                "criteria": invalidation.criteria,
                "reason": reason,
                "count": count,
                "confirmed": confirmed,
            },
            now=now,
        )
        slug = petition.slug
        transaction.on_commit(lambda: pagecache.forget(slug))
    return InvalidationResult(
        count=count,
        confirmed=confirmed,
        pending=count - confirmed,
        criteria=invalidation.criteria,
        invalidation=invalidation,
    )


def undo_invalidation(
    invalidation: Invalidation, *, actor=None, reason: str = "", now: datetime | None = None
) -> Invalidation:
    """Put back exactly the signatures this invalidation took and still holds.

    1. Claim the undo with a conditional UPDATE (… WHERE undone_at IS NULL): of two
       undos racing, or an undo of an undo, only one changes the row; the other is
       refused.
    2. The signatures still invalidated by it (withdrawn ones are gone; none can have
       been confirmed meanwhile, confirm_signature refuses invalidated ones): those
       confirmed before become validated again with their old validated_at, the others
       pending. Conditional UPDATEs, which lock the rows against a racing withdrawal.
    3. Count the restored confirmed ones back per country and per UTC day of their
       validated_at (so that counters equal counting.recount()), the petition row
       first; take all restored ones out of invalidated_count.
    4. Unlink them from the invalidation, so a later invalidation can take them again;
       audit event; drop the cached pages on commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Invalidation.objects.filter(pk=invalidation.pk, undone_at__isnull=True).update(
            undone_at=now, undone_by_label=_actor_label(actor)
        )
        if not claimed:
            raise InvalidationRefused(_("This invalidation has already been undone."))
        held = Signature.objects.filter(invalidation=invalidation, state=SignatureState.INVALIDATED)
        pending = held.filter(validated_at__isnull=True).update(state=SignatureState.PENDING)
        confirmed = held.filter(validated_at__isnull=False).update(state=SignatureState.VALIDATED)
        restored = Signature.objects.filter(
            invalidation=invalidation, state=SignatureState.VALIDATED
        )
        by_country, by_day = _groups(restored)
        petition = Petition.objects.select_related("organization").get(pk=invalidation.petition_id)
        Petition.objects.filter(pk=petition.pk).update(
            signature_count=F("signature_count") + confirmed,
            invalidated_count=Greatest(F("invalidated_count") - (pending + confirmed), 0),
        )
        for country, n in by_country.items():
            bump(CountryCount, {"petition_id": petition.pk, "country": country}, n)
        for day, n in by_day.items():
            bump(DailyCount, {"petition_id": petition.pk, "day": day}, n)
        Signature.objects.filter(invalidation=invalidation).exclude(
            state=SignatureState.INVALIDATED
        ).update(invalidation=None)
        audit.record(
            AuditAction.INVALIDATION_UNDONE,
            organization=petition.organization,
            actor=actor,
            subject=petition.slug,
            details={
                "invalidation": invalidation.pk,
                "restored": pending + confirmed,
                "confirmed": confirmed,
                **({"reason": reason.strip()[:MAX_REASON]} if reason.strip() else {}),
            },
            now=now,
        )
        slug = petition.slug
        transaction.on_commit(lambda: pagecache.forget(slug))
    invalidation.refresh_from_db()
    return invalidation


def invalidations_of(petition: Petition) -> QuerySet[Invalidation]:
    return Invalidation.objects.filter(petition=petition)


def _groups(signatures: QuerySet[Signature]) -> tuple[dict[str, int], dict[date, int]]:
    """Confirmed signatures counted per country and per UTC day of validated_at."""
    by_country = dict(
        signatures.order_by()
        .values_list("country")
        .annotate(n=Count("id"))
        .values_list("country", "n")
    )
    by_day = dict(
        signatures.order_by()
        .annotate(day=TruncDate("validated_at", tzinfo=UTC))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return by_country, by_day


def _decrement(petition_id: int, by_country: dict[str, int], by_day: dict[date, int]) -> None:
    """One decrement per country and per day; rows that reach zero are deleted, as
    counting.recount() would not create them. Greatest(…, 0): counters that drifted
    must not make an invalidation fail on the non-negative check (`hamseda recount`
    repairs them)."""
    for country, n in by_country.items():
        _take(CountryCount.objects.filter(petition_id=petition_id, country=country), n)
    for day, n in by_day.items():
        _take(DailyCount.objects.filter(petition_id=petition_id, day=day), n)


def _take(counter: QuerySet, amount: int) -> None:
    counter.update(count=Greatest(F("count") - amount, 0))
    counter.filter(count=0).delete()
