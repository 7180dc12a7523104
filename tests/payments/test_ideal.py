"""iDEAL through Stripe: redirect to the bank, then Stripe's signed webhook."""

import pytest
from djmoney.money import Money

from apps.payments import lifecycle, quotes, refunds
from apps.payments.models import Payment
from apps.payments.sandbox_payer import sandbox_stripe_bank_approves
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def dutch_payment() -> Payment:
    user = UserFactory(country="NL")
    quote = quotes.quote_create(user=user, amount=Money("20.00", "GBP"))
    return lifecycle.payment_create(
        user=user, quote=quote, reference="cleaner", idempotency_key=f"nl-{quote.pk}"
    )


def test_payer_redirected_to_the_bank_then_captured_by_the_webhook(monkeypatch):
    approvals = []
    monkeypatch.setattr(
        sandbox_stripe_bank_approves,
        "apply_async",
        lambda args, countdown: approvals.append(args[0]),
    )

    payment = lifecycle.payment_authorize(payment_id=dutch_payment().pk)

    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert payment.next_action["type"] == "redirect"
    assert payment.next_action["url"].startswith("https://sandbox.geraos.example/ideal/")
    assert str(payment.local_amount) == "€23.30"

    assert sandbox_stripe_bank_approves(approvals[0]) == "processed"

    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert payment.next_action is None
    assert payment.confirmation_verified


def test_ideal_refund():
    payment = lifecycle.payment_authorize(payment_id=dutch_payment().pk)
    assert payment.status == Payment.Status.CAPTURED  # eager: the bank approved at once

    refund = refunds.refund_create(payment_id=payment.pk)

    assert refund.status == "succeeded"
