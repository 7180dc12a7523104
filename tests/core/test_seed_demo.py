from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from apps.catalog.models import Product
from apps.identity import selectors
from apps.identity.models import AgentGrant, EntitlementUsage, Subscription, User
from apps.memory.models import ConsentGrant, MemoryItem
from apps.trust.models import Receipt, TreeHead

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return tuple(
        list(model.objects.order_by("pk").values())
        for model in (
            User,
            EmailAddress,
            Subscription,
            AgentGrant,
            EntitlementUsage,
            Product,
            MemoryItem,
            ConsentGrant,
            Receipt,
            TreeHead,
        )
    )


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_verified_operator_and_demo_user():
    output = seed()

    operator = User.objects.get(email="operator@gera.example")
    demo = User.objects.get(email="demo@gera.example")
    assert operator.is_staff
    assert operator.is_superuser
    assert not demo.is_staff
    assert demo.check_password("gera-demo-2026")
    assert EmailAddress.objects.filter(verified=True, primary=True).count() == 2
    assert "demo@gera.example / gera-demo-2026" in output
    assert selectors.plan_for_user(user=demo).code == "studio"
    grant = AgentGrant.objects.get(user=demo)
    assert f"gera_{grant.token_prefix}_" in output


def test_second_seed_changes_nothing():
    seed()
    first = snapshot()

    seed()

    assert snapshot() == first


def test_seed_demo_refuses_where_demo_accounts_are_not_allowed(settings):
    settings.GERAOS_DEMO_ALLOWED = False

    with pytest.raises(CommandError, match="published passwords"):
        seed()

    assert not User.objects.exists()
