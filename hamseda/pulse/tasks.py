"""Background work of pulse, run by `hamseda worker` on a schedule (hamseda/runtime.py,
SCHEDULE): fetching the campaigns' sources (pulse.fetch, docs/pulse-fetching.md)."""

from django_tasks import task

from hamseda.pulse import fetch


@task()
def fetch_pulse_sources() -> int:
    """Fetch every source that is due: active, its last fetch older than
    fetch.FETCH_INTERVAL, and past any rate-limit pause. Enqueued every minute; each
    source is claimed by one worker only."""
    return fetch.fetch_due_sources()
