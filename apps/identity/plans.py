"""The plans every GeraOS starts with. Operators edit them in the admin afterwards; this
only creates what is missing (the data migration and a fresh test database use it)."""

from decimal import Decimal

DEFAULT_PLANS = [
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


def ensure_default_plans(plan_model, entitlement_model) -> None:
    """Takes the models as arguments so a migration can pass its historical ones."""
    for spec in DEFAULT_PLANS:
        plan, created = plan_model.objects.get_or_create(
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
            entitlement_model.objects.bulk_create(
                entitlement_model(plan=plan, feature=feature, quota=quota)
                for feature, quota in spec["entitlements"].items()
            )
