"""The audit log: who did what, when, in which organisation (PRIVACY.md rule 7).

`record()` is the only way in; it runs inside the caller's transaction, so an action
and its audit line commit or roll back together.
"""

import csv
import io
from collections.abc import Iterable

from django.utils import timezone

from hamseda.integrity.models import AuditAction, AuditEvent


def record(
    action: AuditAction | str,
    *,
    organization,
    actor=None,
    subject: str = "",
    details: dict | None = None,
    now=None,
) -> AuditEvent:
    """Append one event. `actor` is a user (or None for the system: CLI, scheduler)."""
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = actor.email or actor.get_username()
    return AuditEvent.objects.create(
        organization=organization,
        at=now or timezone.now(),
        action=str(action),
        actor_id=actor.pk if label else None,
        actor_label=label or "system",
        subject=subject[:200],
        details=details or {},
    )


def record_for_memberships(action: AuditAction | str, *, user, details=None, now=None) -> None:
    """Append an event about a user (a login, a 2FA change) to each of their organisations."""
    for membership in user.memberships.select_related("organization"):
        record(action, organization=membership.organization, actor=user, details=details, now=now)


def events_of(organization):
    return AuditEvent.objects.filter(organization=organization)


def as_csv(events: Iterable[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time (UTC)", "action", "actor", "subject", "details"])
    for event in events:
        writer.writerow(
            [
                event.at.isoformat(timespec="seconds"),
                event.action,
                event.actor_label,
                _spreadsheet_safe(event.subject),
                _spreadsheet_safe(_describe(event.details)),
            ]
        )
    return out.getvalue()


def _describe(details: dict) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted(details.items()))


def _spreadsheet_safe(text: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text
