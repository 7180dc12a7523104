"""The simulated agents: each a person of their own on the Studio plan, with memory GeraHome
may read, and one agent grant whose spend limits never get in the way. Made through the
services, as sign-up, billing and the grant page would make them, on a database that
`seed_demo` filled (the catalogue, rails and rates)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from apps.catalog.selectors import product_get_active
from apps.identity import selectors as identity_selectors
from apps.identity import services as identity_services
from apps.identity.models import Plan, Subscription
from apps.memory import services as memory_services
from apps.memory.models import MemoryItem, MemoryScope

AGENT_SCOPES = [
    "dispatch:create",
    "dispatch:read",
    "receipts:read",
    "memory:read:preferences",
    "memory:read:home",
]
READ_SCOPES = ["preferences", "home"]
MEMORY = [
    ("preferences", MemoryItem.Kind.PREFERENCE, "visit_time", {"prefers": "weekday mornings"}),
    ("home", MemoryItem.Kind.PREFERENCE, "boiler", {"make": "Worcester Bosch", "age_years": 9}),
    ("home", MemoryItem.Kind.PRIOR_ACTION, "last_plumber", {"paid": "GBP 45.00"}),
]
GENEROUS = "1000000"


def agents_create(*, count: int) -> list[str]:
    """`count` people, each with an agent grant; returns the grants' bearer tokens."""
    studio = Plan.objects.get(code="studio")
    gerahome = product_get_active(code="gerahome")
    scopes = {code: MemoryScope.objects.get(code=code) for code in READ_SCOPES}
    return [_agent_create(number, studio, gerahome, scopes) for number in range(count)]


@transaction.atomic
def _agent_create(number: int, studio: Plan, gerahome, scopes: dict[str, MemoryScope]) -> str:
    # No usable password: agents call with their token and nobody signs in as these people
    # (hashing one with Argon2 would cost a tenth of a second each).
    user = identity_services.user_create_verified(
        email=f"agent{number}@loadtest.gera.example",
        password=None,
        name=f"Load-test person {number}",
        country="GB",
        preferred_currency="GBP",
    )
    identity_services.subscription_apply(
        user=user, plan=studio, status=Subscription.Status.ACTIVE, event_created=timezone.now()
    )
    for code, kind, key, value in MEMORY:
        memory_services.memory_write(
            user=user, product=gerahome, scope=scopes[code], kind=kind, key=key, value=value
        )
    for scope in scopes.values():
        memory_services.consent_set(user=user, product=gerahome, scope=scope, allow=True)
    generous = Money(GENEROUS, identity_selectors.home_currency())
    _, token = identity_services.agent_grant_issue(
        user=user,
        name=f"Load-test agent {number}",
        client_id=f"loadtest-{number}",
        scopes=AGENT_SCOPES,
        per_action_limit=generous,
        daily_limit=generous,
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return token
