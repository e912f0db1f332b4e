# The dashboard's top co-occurring hashtags read (campaign, tag, posts) only: with this
# index, one pass over it in tag order, without the table's rows (pulse.analytics).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pulse", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="hashtagday",
            index=models.Index(
                fields=["campaign", "tag", "posts"], name="hashtag_day_tag_totals"
            ),
        ),
    ]
