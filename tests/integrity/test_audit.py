"""The audit log is append-only (model and database), readable and exportable by owners."""

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from hamseda.integrity import audit
from hamseda.integrity.models import AuditAction, AuditEvent, AuditLogIsAppendOnly
from tests.two_factor import enable_two_factor


@pytest.fixture
def event(org, owner):
    return audit.record(
        AuditAction.EXPORT, organization=org.organization, actor=owner, subject="a-petition"
    )


def test_the_model_refuses_to_change_or_delete_an_event(event):
    event.subject = "something else"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()


@pytest.fixture
def triggers(db):
    """Install the append-only triggers (the test settings leave them out, because
    transactional tests empty every table); the test's transaction removes them again."""
    import importlib

    migration = importlib.import_module("hamseda.integrity.migrations.0002_audit_append_only")
    statements = migration.POSTGRES if connection.vendor == "postgresql" else migration.SQLITE
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE integrity_auditevent SET subject = 'rewritten'",
        "DELETE FROM integrity_auditevent",
    ],
)
def test_the_database_refuses_updates_and_deletes(triggers, event, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).subject == "a-petition"


def test_bulk_queries_are_refused_too(triggers, event):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().update(subject="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_inserting_still_works_with_the_triggers(triggers, event, org):
    audit.record(AuditAction.MAILOUT, organization=org.organization, subject="x")
    assert AuditEvent.objects.filter(action=AuditAction.MAILOUT).count() == 1


def test_the_system_is_named_when_no_person_acted(org):
    event = audit.record(AuditAction.RETENTION_PURGE, organization=org.organization)
    assert (event.actor_id, event.actor_label) == (None, "system")


def test_an_owner_reads_and_filters_the_log(client, org, owner, event):
    audit.record(AuditAction.MAILOUT, organization=org.organization, subject="mailout-1")
    enable_two_factor(owner)
    client.force_login(owner)
    url = reverse("audit:log", args=[org.organization.slug])
    page = client.get(url).content.decode()
    assert "a-petition" in page
    assert "mailout-1" in page
    page = client.get(url, {"action": "mailout"}).content.decode()
    assert "a-petition" not in page
    assert "mailout-1" in page
    # An unknown filter shows everything rather than failing.
    assert client.get(url, {"action": "<script>"}).status_code == 200
    assert client.get(url, {"page": "999999"}).status_code == 200
    assert client.get(url, {"page": "-1x"}).status_code == 200


def test_the_csv_export_is_complete_safe_and_itself_audited(client, org, owner):
    audit.record(
        AuditAction.INVALIDATION,
        organization=org.organization,
        subject='=HYPERLINK("http://evil")',
        details={"count": 12, "reason": "bot farm"},
    )
    enable_two_factor(owner)
    client.force_login(owner)
    response = client.get(reverse("audit:csv", args=[org.organization.slug]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["time (UTC)", "action", "actor", "subject", "details"]
    [row] = [row for row in rows if row[1] == "invalidation"]
    assert row[3].startswith("'=")  # a spreadsheet shows it as text, never runs it
    assert row[4] == "count=12; reason=bot farm"
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT).count() == 1


def test_other_organisations_events_stay_hidden(client, org, owner, outsider):
    from hamseda.orgs.models import Organization

    other = Organization.objects.get(slug="other-org")
    audit.record(AuditAction.EXPORT, organization=other, subject="their-secret-petition")
    enable_two_factor(owner)
    client.force_login(owner)
    page = client.get(reverse("audit:log", args=[org.organization.slug])).content.decode()
    assert "their-secret-petition" not in page
    assert client.get(reverse("audit:log", args=["other-org"])).status_code == 404
