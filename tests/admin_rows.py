"""One more row of each model the operator admin shows, built as the application builds it
where it can, for tests that walk every operator screen. `ROWS[label](n)` builds the n-th
(n from 0); they need the rails and FX rates (`rails_and_rates`)."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from djmoney.contrib.exchange.models import ExchangeBackend, Rate
from djmoney.money import Money

from apps.catalog.demo import seed as seed_catalog
from apps.catalog.models import Provider, Skill
from apps.core import audit
from apps.identity.models import Feature, Plan, StripeEvent
from apps.identity.oidc.clients import client_register
from apps.memory import services as memory_services
from apps.memory.models import MemoryScope
from apps.payments import fx, refunds
from apps.payments import lifecycle as payment_lifecycle
from apps.payments.models import ProviderEvent, Rail, RoutingRule
from apps.payments.rails import ensure_default_rails
from apps.trust import services as trust_services
from tests.dispatch.conftest import ANYTIME, Agent
from tests.factories import (
    UserFactory,
    make_grant,
    make_payment,
    make_quote,
    make_receipt,
    product,
    put_on_plan,
)
from tests.memory.conftest import MEMORY_SCOPES


def rails_and_rates() -> None:
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()


def _skill(n: int) -> Skill:
    return Skill.objects.create(
        product=product(f"product{n % 3}"),
        capability=f"home.job{n}",
        title=f"Job {n}",
        description="d",
        input_schema={"type": "object"},
        price_from=10,
        countries=["GB"],
        cities=["London"],
    )


def _provider(n: int) -> Provider:
    provider = Provider.objects.create(
        name=f"Provider {n}", country="GB", city="London", price=Money("30.00", "GBP")
    )
    provider.skills.add(_skill(n))  # the skills widget of the change page grows too
    return provider


def _plan(n: int) -> Plan:
    plan = Plan.objects.create(code=f"plan{n}", name=f"Plan {n}", price=Money(n, "GBP"))
    plan.entitlements.create(feature=Feature.DISPATCHES, quota=n)
    return plan


def _group(n: int) -> Group:
    group = Group.objects.create(name=f"Operators {n}")
    group.permissions.set(Permission.objects.all()[:5])
    return group


def _access_log_entry(n: int):
    user = UserFactory()
    grant, _ = make_grant(user, scopes=MEMORY_SCOPES)
    memory_services.memory_read(
        user=user,
        product=product("gerahome"),
        scope=MemoryScope.objects.get(code="home"),
        grant=grant,
        purpose="booking a plumber",
    )


def _memory_item(n: int):
    return memory_services.memory_write(
        user=UserFactory(),
        product=product("gerahome"),
        scope=MemoryScope.objects.get(code="home"),
        kind="preference",
        key="boiler",
        value={"make": "Ideal"},
    )


def _consent(n: int):
    return memory_services.consent_set(
        user=UserFactory(),
        product=product("geraclinic"),
        scope=MemoryScope.objects.get(code="health"),
        allow=True,
    )


def _captured_payment(n: int):
    payment = make_payment(UserFactory())
    payment_lifecycle.payment_authorize(payment_id=payment.pk)
    return payment_lifecycle.payment_capture(payment_id=payment.pk)


def _refund(n: int):
    return refunds.refund_create(payment_id=_captured_payment(n).pk, reason="asked by the payer")


def _rate(n: int) -> Rate:
    backend = ExchangeBackend.objects.first()
    return Rate.objects.create(currency=f"X{n:02d}", value=n + 1, backend=backend)


def _dispatch_order(n: int) -> None:
    if n == 0:
        seed_catalog()
    # Without running what commits queue, the order stays pending: enough for a list.
    response = Agent(UserFactory()).dispatch(key=f"order-{n}", text=ANYTIME)
    assert response.status_code == 202, response.content


def _dispute(n: int):
    return trust_services.dispute_open(
        receipt=make_receipt(UserFactory()), opened_by="buyer", reason="not_delivered"
    )


def _audit_event(n: int):
    return audit.record(action="identity.user_update", obj=UserFactory())


def _rail(n: int) -> Rail:
    return Rail.objects.create(
        code=f"rail{n}", name=f"Rail {n}", currencies=["GBP"], min_amount=1, max_amount=1000
    )


ROWS: dict[str, Callable[[int], object]] = {
    "core.auditevent": _audit_event,
    "identity.user": lambda n: UserFactory(),
    "account.emailaddress": lambda n: UserFactory(),
    "auth.group": _group,
    "identity.plan": _plan,
    "identity.subscription": lambda n: put_on_plan(UserFactory(), "studio"),
    "identity.agentgrant": lambda n: make_grant(UserFactory())[0],
    "allauth_idp_oidc.client": lambda n: client_register(
        client_id=f"product{n}",
        name=f"Product {n}",
        scopes=["openid", "plan"],
        redirect_uris=[f"https://product{n}.gera.example/callback"],
    )[0],
    "identity.stripeevent": lambda n: StripeEvent.objects.create(
        event_id=f"evt_{n}", type="customer.subscription.updated", created=timezone.now()
    ),
    "mfa.authenticator": lambda n: Authenticator.objects.create(
        user=UserFactory(), type=Authenticator.Type.RECOVERY_CODES, data={}
    ),
    "catalog.product": lambda n: product(f"product{n}"),
    "catalog.skill": _skill,
    "catalog.provider": _provider,
    "memory.memoryscope": lambda n: MemoryScope.objects.create(code=f"scope{n}", name=f"S{n}"),
    "memory.memoryitem": _memory_item,
    "memory.consentgrant": _consent,
    "memory.accesslogentry": _access_log_entry,
    "payments.rail": _rail,
    "payments.routingrule": lambda n: RoutingRule.objects.create(
        country="GB", priority=n, rail=Rail.objects.get(code="stripe")
    ),
    "payments.quote": lambda n: make_quote(UserFactory()),
    "exchange.rate": _rate,
    "payments.payment": _captured_payment,
    "payments.refund": _refund,
    "payments.providerevent": lambda n: ProviderEvent.objects.create(
        rail="stripe", event_id=f"evt_{n}", provider_reference=f"pi_{n}"
    ),
    "dispatch.dispatchorder": _dispatch_order,
    "trust.receipt": lambda n: make_receipt(UserFactory()),
    "trust.treehead": lambda n: make_receipt(UserFactory()),  # each receipt signs a head
    "trust.auditcheckpoint": _audit_event,  # each event's head is signed
    "trust.signingkey": lambda n: trust_services.signing_key_rotate(),
    "trust.dispute": _dispute,
}
