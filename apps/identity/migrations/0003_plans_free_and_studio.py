from decimal import Decimal

from django.db import migrations

# The plans every GeraOS starts with, written out as they were when this migration was
# made; operators edit them in the admin afterwards. Only what is missing is created.
PLANS = [
    {
        "code": "free",
        "name": "Free",
        "description": "One Gera account, a few agents, memory kept per product.",
        "price": Decimal("0.00"),
        "is_default": True,
        "entitlements": {"dispatches": 20, "memory_items": 100, "agent_grants": 2},
    },
    {
        "code": "studio",
        "name": "Studio",
        "description": "For people who let agents do real work: more of everything, "
        "memory shared across products, premium skills.",
        "price": Decimal("29.00"),
        "is_default": False,
        "entitlements": {
            "dispatches": 1000,
            "memory_items": 10000,
            "agent_grants": 20,
            "cross_product_memory": None,
            "premium_skills": None,
        },
    },
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("identity", "Plan")
    PlanEntitlement = apps.get_model("identity", "PlanEntitlement")
    for spec in PLANS:
        plan, created = Plan.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "price": spec["price"],
                "price_currency": "GBP",
                "is_default": spec["is_default"],
            },
        )
        if created:
            PlanEntitlement.objects.bulk_create(
                PlanEntitlement(plan=plan, feature=feature, quota=quota)
                for feature, quota in spec["entitlements"].items()
            )


class Migration(migrations.Migration):
    dependencies = [("identity", "0002_plans_subscriptions_agent_grants")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
