from django.db import migrations, models
from django.db.models import Max


def sequence_from_the_log(apps, schema_editor):
    """Until now every receipt was integrated as it was issued, so the next index to hand
    out follows the last receipt's; both singleton rows exist from here on."""
    Receipt = apps.get_model("trust", "Receipt")
    LogSequence = apps.get_model("trust", "LogSequence")
    TransparencyLog = apps.get_model("trust", "TransparencyLog")
    last = Receipt.objects.aggregate(last=Max("log_index"))["last"]
    LogSequence.objects.update_or_create(
        pk=1, defaults={"next_index": 0 if last is None else last + 1}
    )
    TransparencyLog.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("trust", "0009_export_permission"),
    ]

    operations = [
        migrations.CreateModel(
            name="LogSequence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("next_index", models.PositiveBigIntegerField(default=0)),
                (
                    "integration_queued_by",
                    models.PositiveBigIntegerField(
                        help_text="The index of the receipt whose commit queued an "
                        "integration that has not started yet (it will integrate the receipts "
                        "issued meanwhile, so they queue none).",
                        null=True,
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="transparencylog",
            name="integrated_at",
            field=models.DateTimeField(
                help_text="When the latest batch was integrated and its checkpoint signed.",
                null=True,
            ),
        ),
        migrations.RunPython(sequence_from_the_log, migrations.RunPython.noop),
    ]
