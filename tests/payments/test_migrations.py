"""Payments' data migrations, run against today's tables."""

from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps as installed_apps
from django.test import Client
from djmoney.money import Money

from apps.identity.models import AgentSpend
from apps.payments import lifecycle, quotes, refunds
from apps.payments.models import Payment, Refund
from tests.factories import make_grant, make_payment

pytestmark = pytest.mark.django_db
holds_agent_spend = import_module("apps.payments.migrations.0011_payment_holds_agent_spend")
running_totals = import_module(
    "apps.payments.migrations.0016_refund_requested_for_and_running_total"
)


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


def test_refunds_made_before_running_totals_get_them_in_the_order_they_were_asked(user):
    payment = make_payment(user, amount="42.00")
    lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)
    for amount in ("10", "32"):
        refunds.refund_create(payment_id=payment.pk, amount=Decimal(amount), reason="r")
    Refund.objects.update(refunded_total=None)

    running_totals.running_totals(installed_apps, None)

    in_turn = Refund.objects.order_by("created_at", "pk").values_list("refunded_total", flat=True)
    assert list(in_turn) == [Decimal("10.00"), Decimal("42.00")]
