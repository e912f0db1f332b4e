"""Database triggers that refuse UPDATE and DELETE on the audit log (PRIVACY.md rule 7).

The model refuses too; the triggers also stop raw SQL, the admin and bulk queries.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON integrity_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON integrity_auditevent
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;""",
]
SQLITE_REVERSE = ["DROP TRIGGER audit_no_update;", "DROP TRIGGER audit_no_delete;"]

POSTGRES = [
    """CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$;""",
    """CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON integrity_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();""",
    """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON integrity_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER audit_no_truncate ON integrity_auditevent;",
    "DROP TRIGGER audit_no_change ON integrity_auditevent;",
    "DROP FUNCTION audit_refuse_change();",
]


def forwards(apps, schema_editor):
    from django.conf import settings

    # The test suite empties tables between transactional tests, which the triggers
    # would refuse; it installs them itself where it tests them (tests/integrity).
    if not settings.HAMSEDA.get("AUDIT_TRIGGERS", True):
        return
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    from django.conf import settings

    if not settings.HAMSEDA.get("AUDIT_TRIGGERS", True):
        return
    statements = (
        POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    )
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("integrity", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
