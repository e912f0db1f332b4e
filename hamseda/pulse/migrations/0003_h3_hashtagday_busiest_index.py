# The dashboard's top co-occurring hashtags start from the busiest tag-days
# (pulse.analytics.Figures._hashtag_rows), read from this index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pulse", "0002_h3_hashtagday_tag_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="hashtagday",
            index=models.Index(fields=["campaign", "-posts"], name="hashtag_day_busiest"),
        ),
    ]
