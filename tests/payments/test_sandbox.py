"""Sandbox can never reach production: a sandbox rail believes the webhook secret the
deployment configured, never the simulator's published one."""

import pytest
from django.urls import reverse
from djmoney.money import Money

from apps.payments import lifecycle, quotes
from apps.payments.adapters.stripe_sandbox import SANDBOX_WEBHOOK_SECRET
from apps.payments.models import Payment
from apps.payments.sandbox_payer import sandbox_stripe_bank_approves
from tests.factories import UserFactory, make_payment
from tests.identity.stripe_recordings import event, signed_webhook

pytestmark = pytest.mark.django_db
CONFIGURED_SECRET = "whsec_configured_for_this_deployment"


def captured_event(payment: Payment) -> dict:
    intent = {
        "id": payment.provider_reference,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 5000,
        "amount_received": 5000,
        "currency": "gbp",
        "client_secret": "s",
        "last_payment_error": None,
    }
    return event("evt_sandbox_forged", "payment_intent.succeeded", intent)


def deliver(client, evt: dict, *, secret: str):
    body, signature = signed_webhook(evt, secret=secret)
    return client.post(
        reverse("rail-webhook", args=["stripe"]),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


@pytest.fixture
def authorized_in_sandbox(settings):
    settings.STRIPE_PAYMENTS_WEBHOOK_SECRET = CONFIGURED_SECRET
    payment = lifecycle.payment_authorize(payment_id=make_payment(UserFactory()).pk)
    assert (payment.rail.sandbox, payment.status) == (True, Payment.Status.AUTHORIZED)
    return payment


def test_a_sandbox_rail_refuses_events_signed_with_the_published_secret_once_one_is_configured(
    client, authorized_in_sandbox
):
    forged = deliver(client, captured_event(authorized_in_sandbox), secret=SANDBOX_WEBHOOK_SECRET)

    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "invalid_signature"
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED


def test_a_sandbox_rail_believes_the_configured_secret(client, authorized_in_sandbox):
    genuine = deliver(client, captured_event(authorized_in_sandbox), secret=CONFIGURED_SECRET)

    assert genuine.json()["outcome"] == "processed"
    assert Payment.objects.get().status == Payment.Status.CAPTURED


def test_the_sandbox_bank_still_confirms_ideal_when_a_secret_is_configured(settings, monkeypatch):
    settings.STRIPE_PAYMENTS_WEBHOOK_SECRET = CONFIGURED_SECRET
    approvals = []
    monkeypatch.setattr(
        sandbox_stripe_bank_approves, "apply_async", lambda args, countdown: approvals.append(args)
    )
    user = UserFactory(country="NL")
    quote = quotes.quote_create(user=user, amount=Money("20.00", "GBP"))
    ideal = lifecycle.payment_create(user=user, quote=quote, reference="r", idempotency_key="nl")
    payment = lifecycle.payment_authorize(payment_id=ideal.pk)

    assert sandbox_stripe_bank_approves(*approvals[0]) == "processed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
