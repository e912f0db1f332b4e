"""Webhooks: partners' URLs that are POSTed signed JSON when something happens to a
petition they take part in (docs/api-osdi-webhooks.md).

The outbox pattern, as for mail:

1. `queue_event()` is called INSIDE the transaction of the state change (a milestone
   reached, an outcome set, a response published). It writes one WebhookDelivery row
   per active subscription that wants the event: of the petition's organisation, of
   its campaign's coalition partners and of its co-hosts. The rows commit or roll back
   with the change itself, so an event is sent exactly when it happened.
2. The worker (api.tasks, every 15 s) runs `deliver_due()` (api.webhook_delivery),
   which claims each due row with a conditional UPDATE, POSTs it, and retries with
   backoff.

An event's id is derived from what happened (event, petition, a key such as the
milestone's id), and (subscription, event_id) is unique: queueing the same event twice
adds nothing. Payloads hold public data only (PRIVACY.md rule 5): never a signer.
"""

import hashlib
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hamseda.api.models import (
    DeliveryState,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from hamseda.api.webhook_delivery import (
    MAX_ATTEMPTS,
    MAX_FAILURES_IN_A_ROW,
    PING,
    WebhookRefused,
    check_url,
    deliver,
    deliver_due,
    retry_delay,
    signature_header,
)
from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction
from hamseda.links import absolute_url
from hamseda.orgs.models import Organization
from hamseda.petitions.models import Petition, Response, Threshold
from hamseda.vault import crypto

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_FAILURES_IN_A_ROW",
    "PING",
    "WebhookRefused",
    "check_url",
    "create_subscription",
    "delete_subscription",
    "deliver",
    "deliver_due",
    "queue_event",
    "queue_milestone",
    "queue_outcome",
    "queue_response",
    "retry_delay",
    "send_test",
    "signature_header",
]

# Every delivery of an event fans out to each subscriber; a cap keeps that bounded.
MAX_SUBSCRIPTIONS = 10
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label in front of the random secret, not a secret.


def clean_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise WebhookRefused(_("Choose at least one event to be told about."))
    if any(event not in WebhookEvent.values for event in chosen):
        raise WebhookRefused(_("Choose events from the list."))
    return chosen


def create_subscription(
    organization: Organization,
    *,
    url: str,
    events: Iterable[str],
    created_by=None,
    now: datetime | None = None,
) -> tuple[WebhookSubscription, str]:
    """Subscribe `url` to `events` of the petitions the organisation takes part in.

    Returns the subscription and its signing secret, which is shown to the owner once
    and kept only locked with the server key (vault.crypto.lock): the worker needs it
    back to sign each payload. Raises WebhookRefused with a message for the owner.
    """
    now = now or timezone.now()
    url = check_url(url)
    chosen = clean_events(events)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        # Lock the organisation's row so two owners adding at once both see the count.
        Organization.objects.select_for_update().filter(pk=organization.pk).exists()
        if WebhookSubscription.objects.filter(organization=organization).count() >= (
            MAX_SUBSCRIPTIONS
        ):
            raise WebhookRefused(
                _("An organisation can have at most %(max)d webhooks. Delete one first.")
                % {"max": MAX_SUBSCRIPTIONS}
            )
        subscription = WebhookSubscription.objects.create(
            organization=organization,
            url=url,
            events=" ".join(chosen),
            locked_secret=crypto.lock({"secret": secret}),
            created_by=created_by,
            created_at=now,
        )
        audit.record(
            AuditAction.WEBHOOK_ADDED,
            organization=organization,
            actor=created_by,
            subject=url,
            details={"webhook": subscription.pk, "events": " ".join(chosen)},
            now=now,
        )
    return subscription, secret


def delete_subscription(
    subscription: WebhookSubscription, *, actor=None, now: datetime | None = None
) -> None:
    """Delete a subscription and its deliveries, queued ones included."""
    with transaction.atomic():
        deleted, _rows = WebhookSubscription.objects.filter(pk=subscription.pk).delete()
        if deleted:
            audit.record(
                AuditAction.WEBHOOK_REMOVED,
                organization=subscription.organization,
                actor=actor,
                subject=subscription.url,
                details={"webhook": subscription.pk},
                now=now,
            )


def secret_of(subscription: WebhookSubscription) -> str:
    return crypto.unlock(subscription.locked_secret)["secret"]


# --- queueing --------------------------------------------------------------------------


def event_id(event: str, petition_id: int, key: str) -> str:
    """A stable id for one thing that happened: the same event queued twice gets the
    same id, which the unique constraint (subscription, event_id) turns away."""
    digest = hashlib.sha256(f"{event}|{petition_id}|{key}".encode()).hexdigest()
    return f"evt_{digest[:40]}"


def _organisations_of(petition: Petition) -> set[int]:
    """The petition's organisation, its co-hosts and its campaign's coalition partners."""
    from hamseda.campaigns.models import CampaignPartner

    ids = {petition.organization_id}
    ids.update(petition.co_hosts.values_list("pk", flat=True))
    if petition.campaign_id:
        ids.update(
            CampaignPartner.objects.filter(campaign_id=petition.campaign_id).values_list(
                "organization_id", flat=True
            )
        )
    return ids


def subscribers(event: str, petition: Petition) -> list[WebhookSubscription]:
    candidates = WebhookSubscription.objects.filter(
        organization_id__in=_organisations_of(petition), is_active=True
    ).order_by("pk")
    return [subscription for subscription in candidates if event in subscription.event_list]


def queue_event(
    event: str,
    petition: Petition,
    payload: dict,
    *,
    key: str | None = None,
    now: datetime | None = None,
) -> int:
    """Queue `event` about `petition` for every subscriber; call it inside the
    transaction of the change. `key` names the occurrence (a milestone's id); without
    one, the payload itself does. Returns how many deliveries were added."""
    now = now or timezone.now()
    if key is None:
        key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    identifier = event_id(event, petition.pk, key)
    body = {
        "id": identifier,
        "event": event,
        "created_at": now.isoformat(timespec="seconds"),
        "data": payload,
    }
    rows = [
        WebhookDelivery(
            subscription=subscription,
            event=event,
            event_id=identifier,
            payload=body,
            next_attempt_at=now,
            created_at=now,
        )
        for subscription in subscribers(event, petition)
    ]
    if not rows:
        return 0
    before = WebhookDelivery.objects.filter(event_id=identifier).count()
    # ON CONFLICT DO NOTHING: a repeat must not raise inside the caller's transaction
    # (on PostgreSQL an IntegrityError would abort it).
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return WebhookDelivery.objects.filter(event_id=identifier).count() - before


def petition_data(petition: Petition) -> dict:
    """The public facts of a petition that every payload carries."""
    with translation.override(petition.default_language):
        texts = {t.language: t for t in petition.translations.all()}
        text = petition.text()
        url = absolute_url(petition.get_absolute_url())
    return {
        "slug": petition.slug,
        "title": text.title if text else petition.slug,
        "titles": {language: t.title for language, t in sorted(texts.items())},
        "state": petition.state,
        "signature_count": petition.signature_count,
        "goal": petition.current_goal,
        "url": url,
    }


def queue_milestone(threshold: Threshold, *, now: datetime | None = None) -> int:
    """petition.milestone, from the transaction that reached the milestone."""
    petition = threshold.petition
    payload = {
        "petition": petition_data(petition),
        "milestone": {
            "count": threshold.count,
            "reached_at": (threshold.reached_at or now or timezone.now()).isoformat(
                timespec="seconds"
            ),
            "description": threshold.description,
        },
    }
    return queue_event(
        WebhookEvent.MILESTONE, petition, payload, key=f"threshold-{threshold.pk}", now=now
    )


def queue_outcome(petition: Petition, *, now: datetime | None = None) -> int:
    """petition.outcome, once per outcome (won, or closed): editing the statement later
    sends nothing new."""
    from hamseda.petitions.outcomes import outcome_date

    # Fresh from the database: the caller's object may predate the state change.
    petition = Petition.objects.prefetch_related("translations").get(pk=petition.pk)
    statements = {
        t.language: t.closing_statement for t in petition.translations.all() if t.closing_statement
    }
    decided = outcome_date(petition)
    payload = {
        "petition": petition_data(petition),
        "outcome": {
            "state": petition.state,
            "decided_at": decided.isoformat(timespec="seconds") if decided else None,
            "statement": statements.get(petition.default_language, ""),
            "statements": statements,
        },
    }
    return queue_event(
        WebhookEvent.OUTCOME, petition, payload, key=f"outcome-{petition.state}", now=now
    )


def queue_response(response: Response, *, now: datetime | None = None) -> int:
    """petition.response, when a decision-maker's response is published."""
    petition = response.petition
    target = response.decision_maker
    with translation.override(petition.default_language):
        page = absolute_url(petition.get_absolute_url())
    payload = {
        "petition": petition_data(petition),
        "response": {
            "name": target.name,
            "position": target.position,
            "responded_on": response.responded_on.isoformat(),
            "language": response.language,
            "url": f"{page}#response-{response.pk}",
        },
    }
    return queue_event(
        WebhookEvent.RESPONSE, petition, payload, key=f"response-{response.pk}", now=now
    )


def send_test(subscription: WebhookSubscription, *, now: datetime | None = None) -> WebhookDelivery:
    """Queue a `ping` for one subscription, delivered by the worker within seconds.

    A ping goes out even to a subscription that was switched off, and a 2xx answer to
    it switches the subscription back on (api.webhook_delivery): that is how an owner
    who fixed their endpoint resumes deliveries.
    """
    now = now or timezone.now()
    identifier = f"ping_{secrets.token_hex(16)}"
    return WebhookDelivery.objects.create(
        subscription=subscription,
        event=PING,
        event_id=identifier,
        payload={
            "id": identifier,
            "event": PING,
            "created_at": now.isoformat(timespec="seconds"),
            "data": {
                "organization": subscription.organization.slug,
                "message": "A test event from Hamseda.",
            },
        },
        next_attempt_at=now,
        created_at=now,
    )


def recent_deliveries(organization: Organization, limit: int = 30):
    return (
        WebhookDelivery.objects.filter(subscription__organization=organization)
        .select_related("subscription")
        .order_by("-created_at", "-pk")[:limit]
    )


def prune_deliveries(*, now: datetime | None = None, days: int = 30) -> int:
    """Delete finished deliveries older than `days` (the list shows recent ones)."""
    now = now or timezone.now()
    deleted, _rows = WebhookDelivery.objects.filter(
        state__in=[DeliveryState.DELIVERED, DeliveryState.FAILED],
        created_at__lt=now - timedelta(days=days),
    ).delete()
    return deleted
