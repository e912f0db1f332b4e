# Retention (PRIVACY.md rule 8): when organisers were warned of the purge, when the
# personal data was purged; and a "closed since" time for every closed or won petition.
# Erasure: the unique constraint's columns are swapped (fingerprint first) so its index
# also finds one address's signatures on every petition. Dropped and re-created in the
# migration's transaction (PostgreSQL), so uniqueness is never unguarded.

from django.db import migrations, models
from django.db.models import Max
from django.utils import timezone


def fill_closed_at(apps, schema_editor):
    """Give closed and won petitions that have no `closed_at` the best time we know.

    close_petition() and mark_won() always set it; petitions without one were closed
    by other means (the admin, an import). In order of preference: when it was won;
    its closing date, if that has passed; the last moment it took or confirmed a
    signature; when it opened; when it was created. The retention clock then starts no
    later than the real close, and the organisers are still warned before any purge.
    """
    Petition = apps.get_model("petitions", "Petition")
    Signature = apps.get_model("petitions", "Signature")
    now = timezone.now()
    for petition in Petition.objects.filter(state__in=["closed", "won"], closed_at=None):
        last = Signature.objects.filter(petition_id=petition.pk).aggregate(
            created=Max("created_at"), validated=Max("validated_at")
        )
        last_signature = max((t for t in last.values() if t is not None), default=None)
        past_closing = petition.closing_at if petition.closing_at and petition.closing_at <= now else None
        petition.closed_at = (
            petition.won_at
            or past_closing
            or last_signature
            or petition.opened_at
            or petition.created_at
        )
        petition.save(update_fields=["closed_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="signature",
            name="one_signature_per_email",
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(
                fields=("email_fingerprint", "petition"), name="one_signature_per_email"
            ),
        ),
        migrations.AddField(
            model_name="petition",
            name="personal_data_purged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="petition",
            name="retention_warned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_closed_at, migrations.RunPython.noop),
    ]
