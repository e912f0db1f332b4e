"""Limit counters keep the current and the previous window in one row (one upsert per
sign attempt, integrity.limits), lose the index on expires_at (so that upsert is a HOT
update on PostgreSQL), and on PostgreSQL live in an UNLOGGED table (no WAL flush for a
counter; a crash only forgets them). Old rows were keyed per window: they are dropped,
which forgets at most two windows of counts."""

from django.db import migrations, models


def drop_old_counters(apps, schema_editor):
    apps.get_model("integrity", "LimitCounter").objects.all().delete()


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE integrity_limitcounter SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE integrity_limitcounter SET LOGGED")


class Migration(migrations.Migration):

    dependencies = [
        ('integrity', '0005_limits'),
    ]

    operations = [
        migrations.RunPython(drop_old_counters, migrations.RunPython.noop),
        migrations.AddField(
            model_name='limitcounter',
            name='period',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='limitcounter',
            name='previous',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='limitcounter',
            name='expires_at',
            field=models.DateTimeField(),
        ),
        migrations.RunPython(unlogged, logged),
    ]
