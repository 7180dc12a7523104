"""Demo memory for the demo user, written as GeraHome, with GeraHome's consents."""

from apps.catalog.selectors import product_get_active
from apps.identity import selectors as identity_selectors
from apps.memory import selectors, services
from apps.memory.models import ConsentGrant, MemoryItem, MemoryScope

DEMO_ITEMS = [
    ("preferences", MemoryItem.Kind.PREFERENCE, "visit_time", {"prefers": "weekday mornings"}),
    ("home", MemoryItem.Kind.PREFERENCE, "boiler", {"make": "Worcester Bosch", "age_years": 9}),
    (
        "home",
        MemoryItem.Kind.PRIOR_ACTION,
        "last_plumber",
        {"when": "2026-09-14", "paid": "GBP 45.00"},
    ),
]
GERAHOME_CONSENTS = ["preferences", "home"]


def seed() -> list[str]:
    user = identity_selectors.user_get_by_email(email="demo@gera.example")
    gerahome = product_get_active(code="gerahome")
    for scope_code, kind, key, value in DEMO_ITEMS:
        scope = MemoryScope.objects.get(code=scope_code)
        if not selectors.memory_items_under_key(
            user=user, scope=scope, product=gerahome, key=key
        ).exists():
            services.memory_write(
                user=user,
                product=gerahome,
                scope=scope,
                kind=kind,
                key=key,
                value=value,
                purpose="demo data",
            )
    for scope_code in GERAHOME_CONSENTS:
        scope = MemoryScope.objects.get(code=scope_code)
        if not ConsentGrant.objects.filter(user=user, product=gerahome, scope=scope).exists():
            services.consent_set(user=user, product=gerahome, scope=scope, allow=True)
    return [f"{'demo memory':20} {len(DEMO_ITEMS)} items; GeraHome may read Preferences and Home"]
