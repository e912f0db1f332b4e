"""Background jobs of integrity, run by `hamseda worker` on a schedule
(hamseda/runtime.py, SCHEDULE)."""

from django_tasks import task

from hamseda.integrity import limits, trends


@task()
def prune_limit_counters() -> int:
    """Hourly: delete expired limit counters and spent proof-of-work challenges from
    the database (in Redis they expire by themselves)."""
    return limits.prune()


@task()
def aggregate_trends() -> int:
    """Every minute: add new signatures into the per-minute trend buckets."""
    return trends.aggregate_trends().signatures


@task()
def blank_network_fingerprints() -> int:
    """Hourly: blank network fingerprints older than their retention (PRIVACY.md rule 4)."""
    return trends.blank_old_network_fingerprints()
