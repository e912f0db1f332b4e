"""The denormalised counters of a petition: counted in the confirming transaction,
taken out on withdrawal, rebuilt by `recount` (the repair path, `hamseda recount`).

Reading a count never scans signatures (DESIGN.md); these functions keep the
counters true.
"""

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import Greatest, TruncDate

from hamseda.petitions.models import CountryCount, DailyCount, Petition, Signature, SignatureState


def bump(model, lookup: dict, amount: int) -> None:
    """count += amount on the row matching `lookup`, creating it if it does not exist."""
    if model.objects.filter(**lookup).update(count=F("count") + amount):
        return
    try:
        with transaction.atomic():
            model.objects.create(**lookup, count=amount)
    except IntegrityError:
        # Created by a concurrent transaction between our UPDATE and INSERT.
        model.objects.filter(**lookup).update(count=F("count") + amount)


def count_confirmation(petition_id: int, country: str, now: datetime, amount: int = 1) -> None:
    """Add validated signatures to the petition's counters (call inside a transaction).

    The petition row is updated first: on PostgreSQL its row lock orders concurrent
    confirmations of one petition, so the per-country and per-day rows never deadlock.
    """
    Petition.objects.filter(pk=petition_id).update(signature_count=F("signature_count") + amount)
    bump(CountryCount, {"petition_id": petition_id, "country": country}, amount)
    # The UTC day, as recount() groups them and uncount() takes them out.
    bump(DailyCount, {"petition_id": petition_id, "day": now.astimezone(UTC).date()}, amount)


def uncount(petition_id: int, country: str, validated_at: datetime | None) -> None:
    """Take one validated signature out of the petition's counters (inside a transaction).

    The petition row first, as in count_confirmation(), so the same lock orders this
    against concurrent confirmations. A per-country or per-day row that reaches zero is
    deleted, as `recount` would not create it. Greatest(…, 0): counters that drifted
    must not make a withdrawal fail on the non-negative check; `hamseda recount` repairs.
    """
    Petition.objects.filter(pk=petition_id).update(
        signature_count=Greatest(F("signature_count") - 1, 0)
    )
    counters: list[QuerySet] = [
        CountryCount.objects.filter(petition_id=petition_id, country=country)
    ]
    if validated_at is not None:
        day = validated_at.astimezone(UTC).date()
        counters.append(DailyCount.objects.filter(petition_id=petition_id, day=day))
    for counter in counters:
        counter.update(count=Greatest(F("count") - 1, 0))
        counter.filter(count=0).delete()


# --- repair and read --------------------------------------------------------------------------


def recount(petition: Petition) -> dict:
    """Rebuild every denormalised counter of a petition from its signatures.

    The repair path for the counters (`hamseda recount`). Runs in one transaction;
    on PostgreSQL the petition row is locked so no confirmation interleaves. A petition
    whose personal data was purged (vault.retention) keeps its counts as they are.
    """
    with transaction.atomic():
        locked = Petition.objects.select_for_update().filter(pk=petition.pk).first()
        if locked is not None and locked.personal_data_purged_at is not None:
            # After the retention purge the counts are all that is left of the
            # signatures: rebuilding them from the (deleted) rows would zero them.
            return {
                "signature_count": locked.signature_count,
                "countries": CountryCount.objects.filter(petition=petition).count(),
                "invalidated": locked.invalidated_count,
            }
        validated = Signature.objects.filter(petition=petition, state=SignatureState.VALIDATED)
        by_country = dict(
            validated.values_list("country").annotate(n=Count("id")).values_list("country", "n")
        )
        by_day = dict(
            validated.annotate(day=TruncDate("validated_at", tzinfo=UTC))
            .values_list("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
        CountryCount.objects.filter(petition=petition).delete()
        CountryCount.objects.bulk_create(
            CountryCount(petition=petition, country=c, count=n) for c, n in by_country.items()
        )
        DailyCount.objects.filter(petition=petition).delete()
        DailyCount.objects.bulk_create(
            DailyCount(petition=petition, day=d, count=n) for d, n in by_day.items()
        )
        total = sum(by_country.values())
        invalidated = Signature.objects.filter(
            petition=petition, state=SignatureState.INVALIDATED
        ).count()
        Petition.objects.filter(pk=petition.pk).update(
            signature_count=total, invalidated_count=invalidated
        )
    return {"signature_count": total, "countries": len(by_country), "invalidated": invalidated}


def live_numbers(petition: Petition) -> dict:
    """What an organiser's dashboard shows. Pending is counted over an index, bounded by
    the pending signatures that exist (they expire), and only on organiser pages."""
    counts = dict(
        Signature.objects.filter(petition=petition)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    days = list(petition.daily_counts.values_list("day", "count"))
    cumulative, running = [], 0
    for day, count in days:
        running += count
        cumulative.append((day, count, running))
    return {
        "confirmed": petition.signature_count,
        "pending": counts.get(SignatureState.PENDING, 0),
        "invalidated": counts.get(SignatureState.INVALIDATED, 0),
        "countries": list(petition.country_counts.all()),
        "days": cumulative,
        "counted_total": petition.country_counts.aggregate(n=Sum("count"))["n"] or 0,
    }
