import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.idp.oidc.models import Client as OIDCClient
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from apps.catalog.models import Product
from apps.identity import selectors
from apps.identity.models import AgentGrant, EntitlementUsage, Subscription, User
from apps.memory.models import ConsentGrant, MemoryItem
from apps.trust.models import Receipt, TreeHead
from tests.helpers import totp_code

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return tuple(
        list(model.objects.order_by("pk").values())
        for model in (
            User,
            EmailAddress,
            Authenticator,
            Subscription,
            AgentGrant,
            EntitlementUsage,
            Product,
            MemoryItem,
            ConsentGrant,
            Receipt,
            TreeHead,
            OIDCClient,
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


def printed(output: str, label: str) -> str:
    return re.search(rf"{label}\s+(\S+)", output).group(1)


def operator_signs_in(second_factor: str) -> Client:
    client = Client()
    client.post(
        reverse("account_login"), {"login": "operator@gera.example", "password": "gera-demo-2026"}
    )
    client.post(reverse("mfa_authenticate"), {"code": second_factor})
    return client


def test_the_operator_reaches_the_admin_with_the_totp_secret_or_recovery_code_printed():
    output = seed()
    secret = printed(output, "operator TOTP secret")
    recovery_code = printed(output, "operator recovery")

    with_app = operator_signs_in(totp_code(secret))
    with_recovery_code = operator_signs_in(recovery_code)

    assert with_app.get(reverse("admin:index")).status_code == 200
    assert with_recovery_code.get(reverse("admin:index")).status_code == 200
    assert recovery_code not in seed()  # used up: the next run prints another


def test_the_seeded_products_sign_people_in_with_the_printed_secret():
    output = seed()

    secret = re.search(r"OIDC products .* \(secret (\S+)\)", output).group(1)
    products = OIDCClient.objects.filter(id__in=["gerahome", "geraclinic", "gera-warranty"])
    assert len(products) == 3
    assert all(client.check_secret(secret) and client.skip_consent for client in products)
    agent = OIDCClient.objects.get(id=printed(output, "OIDC agent client"))
    assert agent.type == OIDCClient.Type.PUBLIC
    assert not agent.skip_consent
    assert "dispatch:create" in agent.get_scopes()


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
