from django.db import migrations

from apps.identity.plans import ensure_default_plans


def create_plans(apps, schema_editor):
    ensure_default_plans(apps.get_model("identity", "Plan"), apps.get_model("identity", "PlanEntitlement"))


class Migration(migrations.Migration):
    dependencies = [("identity", "0002_plans_subscriptions_agent_grants")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
