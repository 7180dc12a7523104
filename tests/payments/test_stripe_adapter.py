"""The production Stripe path: the SDK against recorded Stripe responses, and payment
webhooks verified for real (signature, tolerance both ways, replays)."""

import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from apps.payments import lifecycle, refunds
from apps.payments.adapters.stripe_card import StripeAdapter
from apps.payments.models import Payment, ProviderEvent, Rail, Refund
from tests.factories import make_payment
from tests.identity.stripe_recordings import RecordedStripe, event, signed_webhook

pytestmark = pytest.mark.django_db
RECORDINGS = Path(__file__).parent / "recordings"
SECRET = "whsec_payments_recorded"


@pytest.fixture
def live_stripe(settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = "sk_test_recorded"
    settings.STRIPE_PAYMENTS_WEBHOOK_SECRET = SECRET
    Rail.objects.filter(code="stripe").update(sandbox=False)
    recorded = RecordedStripe()
    monkeypatch.setattr("tests.identity.stripe_recordings.RECORDINGS", RECORDINGS)
    monkeypatch.setattr(StripeAdapter, "transport", recorded)
    return recorded


def test_production_adapter_speaks_stripe_with_our_idempotency_keys(user, live_stripe):
    payment = make_payment(user)

    payment = lifecycle.payment_authorize(payment_id=payment.pk)
    payment = lifecycle.payment_capture(payment_id=payment.pk)
    refunds.refund_create(payment_id=payment.pk, amount=Decimal("20.00"))

    (create, capture, refund) = live_stripe.sent
    assert create[:2] == ("POST", "/v1/payment_intents")
    assert create[2]["amount"] == ["5000"]
    assert create[2]["capture_method"] == ["manual"]
    assert capture[1] == "/v1/payment_intents/pi_3QrEcOrDeD1abcDEF0a1b2c3/capture"
    assert refund[2]["amount"] == ["2000"]
    payment.refresh_from_db()
    assert (payment.status, payment.confirmation_id) == (
        "partially_refunded",
        "pi_3QrEcOrDeD1abcDEF0a1b2c3",
    )


def intent_event(
    event_id: str, status: str, created: int | None = None, *, received: int = 5000
) -> dict:
    intent = {
        "id": "pi_3QrEcOrDeD1abcDEF0a1b2c3",
        "object": "payment_intent",
        "status": status,
        "amount": 5000,
        "amount_received": received if status == "succeeded" else 0,
        "currency": "gbp",
        "client_secret": "s",
        "last_payment_error": None,
    }
    return event(event_id, f"payment_intent.{status}", intent, created=created)


def deliver(client, evt: dict, *, secret: str = SECRET, at: int | None = None):
    body, signature = signed_webhook(evt, secret=secret, at=at)
    return client.post(
        reverse("rail-webhook", args=["stripe"]),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


@pytest.fixture
def authorized(user, live_stripe):
    return lifecycle.payment_authorize(payment_id=make_payment(user).pk)


def test_webhook_moves_the_payment_once(client, authorized):
    first = deliver(client, intent_event("evt_cap", "succeeded"))
    replay = deliver(client, intent_event("evt_cap", "succeeded"))

    assert first.json()["outcome"] == "processed"
    assert replay.json()["outcome"] == "duplicate"
    assert Payment.objects.get().status == Payment.Status.CAPTURED
    assert ProviderEvent.objects.count() == 1


def test_a_capture_of_another_amount_never_settles(client, authorized):
    deliver(client, intent_event("evt_short", "succeeded", received=100))  # 1.00 of 50.00 GBP

    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("failed", "amount_mismatch")
    assert payment.captured_amount.amount == 0


@pytest.mark.parametrize("skew", [-310, 310], ids=["too-old", "in-the-future"])
def test_timestamps_off_by_more_than_300s_either_way_are_refused(client, authorized, skew):
    response = deliver(client, intent_event("evt_skew", "succeeded"), at=int(time.time()) + skew)

    assert response.status_code == 400
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED


def test_forged_webhook_changes_nothing(client, authorized):
    response = deliver(client, intent_event("evt_forged", "succeeded"), secret="whsec_attacker")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()


def test_an_old_event_never_regresses_a_payment(client, authorized):
    deliver(client, intent_event("evt_new", "succeeded"))

    deliver(client, intent_event("evt_old", "requires_capture"))

    assert Payment.objects.get().status == Payment.Status.CAPTURED


def refund_event(event_id: str, status: str, failure_reason: str | None = None) -> dict:
    refund = {
        "id": "re_3QrEcOrDeD1abcDEF0pendng",
        "object": "refund",
        "amount": 5000,
        "currency": "gbp",
        "payment_intent": "pi_3QrEcOrDeD1abcDEF0a1b2c3",
        "status": status,
        "failure_reason": failure_reason,
    }
    return event(event_id, f"refund.{'failed' if status == 'failed' else 'updated'}", refund)


@pytest.fixture
def refund_pending(authorized, live_stripe):
    """A captured payment whose refund Stripe accepted but has not made yet."""
    live_stripe.overrides["/v1/refunds"] = ("POST_v1_refunds_pending.json", 200)
    lifecycle.payment_capture(payment_id=authorized.pk)
    return refunds.refund_create(payment_id=authorized.pk)


def test_a_pending_stripe_refund_is_not_money_returned_yet(refund_pending):
    assert refund_pending.status == Refund.Status.PENDING
    assert Payment.objects.get().status == Payment.Status.CAPTURED


def test_stripes_word_that_the_refund_succeeded_refunds_the_payment(client, refund_pending):
    response = deliver(client, refund_event("evt_ref_ok", "succeeded"))

    assert response.json()["outcome"] == "processed"
    refund_pending.refresh_from_db()
    assert refund_pending.status == Refund.Status.SUCCEEDED
    assert Payment.objects.get().status == Payment.Status.REFUNDED


def test_a_refund_stripe_could_not_make_frees_the_amount_again(client, refund_pending):
    deliver(
        client, refund_event("evt_ref_failed", "failed", failure_reason="expired_or_canceled_card")
    )

    refund_pending.refresh_from_db()
    assert (refund_pending.status, Payment.objects.get().status) == ("failed", "captured")
    again = refunds.refund_create(payment_id=refund_pending.payment_id)  # the operator retries
    assert again.pk != refund_pending.pk


def test_a_refund_notice_before_its_answer_is_recorded_is_sent_back(client, authorized):
    payment = lifecycle.payment_capture(payment_id=authorized.pk)
    Refund.objects.create(  # asked of Stripe, its answer not stored yet
        payment=payment, amount=payment.captured_amount, provider_idempotency_key="k-early"
    )

    response = deliver(client, refund_event("evt_early", "succeeded"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "refund_not_recorded"
    assert not ProviderEvent.objects.exists()  # so Stripe's retry is not a duplicate


def test_a_refund_made_outside_geraos_is_acknowledged_and_kept_for_operators(client, authorized):
    lifecycle.payment_capture(payment_id=authorized.pk)

    response = deliver(client, refund_event("evt_dashboard", "succeeded"))

    assert (response.status_code, response.json()["outcome"]) == (200, "held")
    assert ProviderEvent.objects.get().pending_result["status"] == "succeeded"
    assert Payment.objects.get().status == Payment.Status.CAPTURED


def test_a_signed_event_about_something_else_is_acknowledged_and_left_alone(client, authorized):
    charge = {"id": "ch_1", "object": "charge", "status": "succeeded", "amount": 5000}

    response = deliver(client, event("evt_charge", "charge.succeeded", charge))

    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED
