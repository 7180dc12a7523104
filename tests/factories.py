import datetime as dt
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from djmoney.money import Money

from apps.catalog import services as catalog_services
from apps.catalog.models import Product, Skill
from apps.identity import services
from apps.identity.models import Plan, Subscription, User
from apps.payments import lifecycle as payment_lifecycle
from apps.payments import quotes as payment_quotes
from apps.trust import integration
from apps.trust import services as trust_services
from apps.trust.refunds import RefundMade

PASSWORD = "correct-horse-battery-staple"
# Hashing with Argon2 is deliberately slow; hash the shared test password once.
_PASSWORD_HASH = make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    country = "GB"
    preferred_currency = "GBP"
    password = _PASSWORD_HASH

    @factory.post_generation
    def verified_email(self, create: bool, extracted: bool | None, **kwargs) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


def make_grant(user, **overrides):
    """Issue a grant through the service; returns (grant, token)."""
    kwargs = {
        "user": user,
        "name": "Trip planner",
        "client_id": "agent-123",
        "scopes": ["dispatch:create", "dispatch:read"],
        "per_action_limit": Money("50.00", "GBP"),
        "daily_limit": Money("50.00", "GBP"),
        "expires_at": timezone.now() + dt.timedelta(days=30),
    }
    return services.agent_grant_issue(**{**kwargs, **overrides})


def put_on_plan(user, code: str):
    return services.subscription_apply(
        user=user,
        plan=Plan.objects.get(code=code),
        status=Subscription.Status.ACTIVE,
        event_created=timezone.now(),
    )


def product(code: str = "gerahome") -> Product:
    names = {"gerahome": "GeraHome", "geraclinic": "GeraClinic"}
    return Product.objects.get_or_create(code=code, defaults={"name": names.get(code, code)})[0]


def studio_only_skill() -> Skill:
    """A published GeraHome skill that only the Studio plan's entitlement allows."""
    skill = Skill.objects.create(
        product=product("gerahome"),
        capability="home.concierge",
        title="Home concierge",
        description="Someone runs your household errands.",
        input_schema={"type": "object"},
        price_from=Money("80.00", "GBP"),
        countries=["GB"],
        cities=["London"],
        required_entitlement="premium_skills",
    )
    return catalog_services.skill_publish(skill=skill)


def make_receipt(user, *, integrated: bool = True, **overrides):
    """Issue a receipt through the trust service, as dispatch will, and (unless asked not
    to) integrate it into the log, as the integration its commit queues does moments later
    (a test's transaction never commits)."""
    kwargs = {
        "user": user,
        "source": {"product": "gerahome", "provider": "Ade Plumbing", "skill": "home.plumbing"},
        "amount_local": Money("45000.00", "NGN"),
        "amount_settled": Money("22.50", "GBP"),
        "fx_rate": Decimal("0.0005"),
        "rail": "stripe",
        "payment_ref": "pi_3Qrecorded",
        "resolution": "completed",
        "agent": "planner-7",
    }
    receipt = trust_services.issue_receipt(**{**kwargs, **overrides})
    if integrated:
        integration.integrate()
    return receipt


def refund_in_full(reference: str) -> RefundMade:
    """A refund of the whole of make_receipt's amount, as the payments app reports one."""
    paid = Money("45000.00", "NGN")
    return RefundMade(
        refund_id=reference, reference=reference, amount=paid, refunded_total=paid, in_full=True
    )


def make_quote(user, amount: str = "50.00"):
    return payment_quotes.quote_create(user=user, amount=Money(amount, "GBP"))


def make_payment(user, amount: str = "50.00", key: str | None = None):
    """A quote and a pending payment for it, through the services."""
    quote = make_quote(user, amount)
    return payment_lifecycle.payment_create(
        user=user, quote=quote, reference="order", idempotency_key=key or f"pay-{quote.pk}"
    )
