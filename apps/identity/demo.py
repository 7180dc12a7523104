"""Demo accounts, plan and agent for `manage.py seed_demo`. Safe to run again: rows that
exist are kept as they are."""

import datetime as dt
from dataclasses import dataclass

from allauth.idp.oidc.models import Client
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.utils import timezone
from djmoney.money import Money

from apps.identity import selectors, services
from apps.identity.models import AgentGrant, Plan, Subscription, User
from apps.identity.oidc.clients import client_register
from apps.identity.tokens import adopt_token


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    country: str
    preferred_currency: str
    is_operator: bool


OPERATOR = DemoAccount("operator@gera.example", "Gera Operator", "GB", "GBP", is_operator=True)
DEMO_USER = DemoAccount("demo@gera.example", "Ada Demo", "GB", "GBP", is_operator=False)
DEMO_AGENT_SCOPES = [
    "dispatch:create",
    "dispatch:read",
    "receipts:read",
    "memory:read:preferences",
    "memory:read:home",
    "memory:read:health",  # the grant allows it; consent (off for health) still refuses
    "memory:write:conversations",
]


def seed() -> list[str]:
    """Create the operator, the demo user on Studio and the demo agent; return the lines
    `make run` prints."""
    password = settings.GERAOS_DEMO_PASSWORD
    operator = _ensure_account(OPERATOR, password)
    second_factor = _ensure_second_factor(operator)
    demo = _ensure_account(DEMO_USER, password)
    _ensure_studio(demo)
    token = _ensure_demo_agent(demo)
    return [
        f"{'operator (admin)':20} {operator.email} / {password}",
        *second_factor,
        f"{'demo user (Studio)':20} {demo.email} / {password}",
        f"{'demo agent token':20} {token}",
        *_ensure_sign_in_clients(),
    ]


def _ensure_account(account: DemoAccount, password: str) -> User:
    return selectors.user_get_by_email(email=account.email) or services.user_create_verified(
        email=account.email,
        password=password,
        name=account.name,
        is_operator=account.is_operator,
        country=account.country,
        preferred_currency=account.preferred_currency,
    )


def _ensure_second_factor(operator: User) -> list[str]:
    """The admin needs a second factor: an authenticator app holding the published demo
    secret, and recovery codes. allauth has no public call that activates them outside
    its forms; these are the calls its forms make."""
    if not Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(operator, settings.GERAOS_DEMO_TOTP_SECRET)
    unused = RecoveryCodes.activate(operator).get_unused_codes()
    recovery = unused[0] if unused else "none left: make new ones at /accounts/2fa/"
    return [
        f"{'operator TOTP secret':20} {settings.GERAOS_DEMO_TOTP_SECRET} "
        "(add it to an authenticator app)",
        f"{'operator recovery':20} {recovery} (instead of a TOTP code, once)",
    ]


def _ensure_studio(user: User) -> None:
    if not Subscription.objects.filter(user=user).exists():
        services.subscription_apply(
            user=user,
            plan=Plan.objects.get(code="studio"),
            status=Subscription.Status.ACTIVE,
            event_created=timezone.now(),
        )


def _ensure_demo_agent(user: User) -> str:
    token = adopt_token(settings.GERAOS_DEMO_AGENT_TOKEN)
    if not AgentGrant.objects.filter(token_prefix=token.prefix).exists():
        home = selectors.home_currency()
        services.agent_grant_issue(
            user=user,
            name="Demo assistant",
            client_id="demo-agent",
            scopes=DEMO_AGENT_SCOPES,
            per_action_limit=Money("50.00", home),
            daily_limit=Money("500.00", home),
            expires_at=timezone.now() + dt.timedelta(days=365),
            token=token,
        )
    return token.token


# --- Sign in with Gera ---------------------------------------------------------------

# The products sign people in at these (a developer runs one on 127.0.0.1).
DEMO_PRODUCTS = [
    ("gerahome", "GeraHome", "https://home.gera.example", 8101),
    ("geraclinic", "GeraClinic", "https://clinic.gera.example", 8102),
    ("gera-warranty", "Gera Action Warranty", "https://warranty.gera.example", 8103),
]
DEMO_AGENT_CLIENT = "gera-demo-assistant"
DEMO_AGENT_CLIENT_SCOPES = [
    "openid",
    "dispatch:create",
    "dispatch:read",
    "receipts:read",
    "disputes:create",
    "memory:read:preferences",
    "memory:read:home",
    "memory:write:conversations",
]


def _ensure_sign_in_clients() -> list[str]:
    """The products as first-party clients (no consent page), sharing the published demo
    secret, and one agent: a public client (PKCE, the device flow) that asks for a
    grant on the consent page."""
    for client_id, name, site, port in DEMO_PRODUCTS:
        if not Client.objects.filter(id=client_id).exists():
            client, _ = client_register(
                client_id=client_id,
                name=name,
                scopes=["openid", "email", "profile", "plan"],
                redirect_uris=[f"{site}/auth/callback", f"http://127.0.0.1:{port}/auth/callback"],
                post_logout_uris=[f"{site}/signed-out", f"http://127.0.0.1:{port}/signed-out"],
                skip_consent=True,
            )
            client.set_secret(settings.GERAOS_DEMO_CLIENT_SECRET)
            client.save(update_fields=["secret"])
    if not Client.objects.filter(id=DEMO_AGENT_CLIENT).exists():
        client_register(
            client_id=DEMO_AGENT_CLIENT,
            name="Gera demo assistant",
            scopes=DEMO_AGENT_CLIENT_SCOPES,
            redirect_uris=["http://127.0.0.1/callback"],
            grant_types=[
                Client.GrantType.AUTHORIZATION_CODE,
                Client.GrantType.REFRESH_TOKEN,
                Client.GrantType.DEVICE_CODE,
            ],
            public=True,
        )
    products = ", ".join(client_id for client_id, *_ in DEMO_PRODUCTS)
    return [
        f"{'OIDC products':20} {products} (secret {settings.GERAOS_DEMO_CLIENT_SECRET})",
        f"{'OIDC agent client':20} {DEMO_AGENT_CLIENT} (public: PKCE or the device flow)",
    ]
