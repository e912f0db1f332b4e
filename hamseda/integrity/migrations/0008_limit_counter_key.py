"""The limit counters' key becomes their primary key (no id column: one index to
maintain per row written, not two), and on SQLite the table is WITHOUT ROWID (the rows
live in the key's b-tree itself). Counters are worth nothing across a schema change, so
the table is dropped and made anew; on PostgreSQL it stays UNLOGGED (0006)."""

from django.db import migrations, models

SQLITE_TABLE = (
    "CREATE TABLE integrity_limitcounter ("
    "key varchar(64) NOT NULL PRIMARY KEY, "
    "period bigint NOT NULL, "
    "count integer unsigned NOT NULL CHECK (count >= 0), "
    "previous integer unsigned NOT NULL CHECK (previous >= 0), "
    "expires_at datetime NOT NULL"
    ") WITHOUT ROWID"
)


def tune(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("ALTER TABLE integrity_limitcounter SET UNLOGGED")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TABLE integrity_limitcounter")
        schema_editor.execute(SQLITE_TABLE)


class Migration(migrations.Migration):

    dependencies = [
        ("integrity", "0007_kit_design_audit"),
    ]

    operations = [
        migrations.DeleteModel(name="LimitCounter"),
        migrations.CreateModel(
            name="LimitCounter",
            fields=[
                ("key", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("period", models.BigIntegerField(default=0)),
                ("count", models.PositiveIntegerField(default=0)),
                ("previous", models.PositiveIntegerField(default=0)),
                ("expires_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(tune, migrations.RunPython.noop),
    ]
