"""Background jobs of the vault, run by `hamseda worker` on a schedule
(hamseda/runtime.py, SCHEDULE)."""

from django_tasks import task

from hamseda.vault import erasure, retention


@task()
def purge_personal_data() -> dict:
    """Daily: warn about and purge petitions past the retention period."""
    return retention.purge_personal_data().as_dict()


@task()
def prune_erasure_mail_limits() -> int:
    """Hourly: forget which addresses were recently sent an erasure link."""
    return erasure.prune_mail_limits()
