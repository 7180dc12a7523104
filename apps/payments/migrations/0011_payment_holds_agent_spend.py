import uuid

from django.db import migrations, models

BATCH = 500  # under SQLite's limit on query parameters


def mark_payments_holding_spend(apps, schema_editor):
    """Payments made through the API reserved their agent's spend as `payment:<id>`."""
    Payment = apps.get_model("payments", "Payment")
    AgentSpend = apps.get_model("identity", "AgentSpend")
    references = AgentSpend.objects.filter(reference__startswith="payment:").values_list(
        "reference", flat=True
    )
    payment_ids = list(filter(None, map(_payment_id, references.iterator())))
    for start in range(0, len(payment_ids), BATCH):
        batch = payment_ids[start : start + BATCH]
        Payment.objects.filter(pk__in=batch).update(holds_agent_spend=True)


def _payment_id(reference: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(reference.removeprefix("payment:"))
    except ValueError:
        return None  # not a payment's reservation


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0005_subscription_unpaid_and_paused"),
        ("payments", "0010_rail_notice_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="holds_agent_spend",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "The payment reserved its agent's spend itself (paid through the API) "
                    "and gives it back if no money moves. A dispatch's payment leaves that "
                    "to its order."
                ),
            ),
        ),
        migrations.RunPython(mark_payments_holding_spend, migrations.RunPython.noop),
    ]
