"""Background jobs of the petitions app, run by `hamseda worker` on a schedule
(hamseda/runtime.py, SCHEDULE)."""

from django_tasks import task

from hamseda.petitions import services


@task()
def purge_unconfirmed_signatures() -> int:
    return services.purge_unconfirmed()
