"""Background work of the API, run by `hamseda worker` on a schedule
(hamseda/runtime.py, SCHEDULE): webhook deliveries (api.webhook_delivery)."""

from django_tasks import task

from hamseda.api import webhooks


@task()
def deliver_webhooks() -> int:
    """POST the webhook deliveries that are due; retries wait for their time."""
    return webhooks.deliver_due()


@task()
def prune_webhook_deliveries() -> int:
    """Delete delivered and given-up webhook deliveries older than 30 days."""
    return webhooks.prune_deliveries()


@task()
def purge_idempotency_records() -> int:
    """Delete the write API's idempotency records older than 24 hours."""
    from hamseda.api.idempotency import purge_idempotency_records

    return purge_idempotency_records()
