import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0008_seal_details"),
    ]

    operations = [
        # Existing rows count as touched now: a delivery whose own retries are still running
        # records its next attempt before the sweep, which waits ten minutes, takes it up.
        migrations.AddField(
            model_name="callbackdelivery",
            name="updated_at",
            field=models.DateTimeField(
                auto_now=True,
                default=django.utils.timezone.now,
                help_text="Its last attempt, or when the sweep queued it again.",
            ),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="callbackdelivery",
            index=models.Index(fields=["status", "updated_at"], name="callback_lost_idx"),
        ),
    ]
