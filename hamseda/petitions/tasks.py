"""Background jobs of the petitions app, run by `hamseda worker` on a schedule
(hamseda/runtime.py, SCHEDULE)."""

from django_tasks import task

from hamseda.petitions import services, thresholds


@task()
def purge_unconfirmed_signatures() -> int:
    return services.purge_unconfirmed()


@task()
def check_thresholds() -> int:
    """Reach the milestones whose petitions got there, and run their actions once
    (petitions.thresholds)."""
    return thresholds.check_thresholds()
