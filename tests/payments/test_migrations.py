"""Payments' data migrations, run against today's tables."""

from importlib import import_module

import pytest
from django.apps import apps as installed_apps
from django.test import Client
from djmoney.money import Money

from apps.identity.models import AgentSpend
from apps.payments import quotes
from apps.payments.models import Payment
from tests.factories import make_grant, make_payment

pytestmark = pytest.mark.django_db
holds_agent_spend = import_module("apps.payments.migrations.0011_payment_holds_agent_spend")


def test_only_payments_that_reserved_their_agents_spend_are_marked_as_holding_it(
    user, django_capture_on_commit_callbacks
):
    grant, token = make_grant(user, scopes=["dispatch:create"])
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))
    with django_capture_on_commit_callbacks(execute=True):
        paid = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
            "/api/v1/payments",
            {"quote": str(quote.pk), "reference": "x"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="pay-1",
        )
    own = make_payment(user)
    AgentSpend.objects.create(grant=grant, amount=Money("1.00", "GBP"), reference="payment:old")
    Payment.objects.update(holds_agent_spend=False)

    holds_agent_spend.mark_payments_holding_spend(installed_apps, None)

    marked = Payment.objects.filter(holds_agent_spend=True).values_list("pk", flat=True)
    assert [str(pk) for pk in marked] == [paid.json()["id"]]
    assert not Payment.objects.get(pk=own.pk).holds_agent_spend
