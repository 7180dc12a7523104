from django.db import migrations, models


def mark_payments_holding_spend(apps, schema_editor):
    """Payments made through the API reserved their agent's spend as `payment:<id>`."""
    Payment = apps.get_model("payments", "Payment")
    AgentSpend = apps.get_model("identity", "AgentSpend")
    references = AgentSpend.objects.filter(reference__startswith="payment:").values_list(
        "reference", flat=True
    )
    payment_ids = [reference.removeprefix("payment:") for reference in references]
    Payment.objects.filter(pk__in=payment_ids).update(holds_agent_spend=True)


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
