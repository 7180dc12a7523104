"""UPI: a collect request approved in the payer's app, a signed callback, and the status
query as the confirmation (its RRN is kept)."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from apps.payments import lifecycle, quotes, refunds
from apps.payments.adapters.upi import signature
from apps.payments.models import Payment, Rail
from tests.factories import UserFactory
from tests.helpers import stored_row

pytestmark = pytest.mark.django_db


def indian_payment(vpa: str = "asha@okbank") -> Payment:
    user = UserFactory(country="IN")
    quote = quotes.quote_create(user=user, amount=Money("10.00", "GBP"))
    return lifecycle.payment_create(
        user=user,
        quote=quote,
        reference="tutor",
        idempotency_key=f"in-{quote.pk}",
        payer_account=vpa,
    )


def test_the_payers_upi_id_is_sealed_in_the_database():
    payment = indian_payment("priya.sharma@okicici")

    assert "priya.sharma" not in stored_row(Payment, payment.pk)
    assert Payment.objects.get(pk=payment.pk).payer_account == "priya.sharma@okicici"


def test_collect_request_approved_in_the_upi_app_is_captured():
    payment = lifecycle.payment_authorize(payment_id=indian_payment().pk)

    assert payment.status == Payment.Status.CAPTURED
    assert payment.confirmation_verified
    assert len(payment.confirmation_id) == 12  # the RRN
    assert str(payment.local_amount) == "₹1,073.50"


def test_payer_declining_fails_the_payment():
    payment = lifecycle.payment_authorize(payment_id=indian_payment("fail@okbank").pk)

    assert (payment.status, payment.failure_code) == ("failed", "declined_by_payer")


def test_unsigned_or_forged_callbacks_are_refused(client, settings):
    Rail.objects.filter(code="upi").update(sandbox=False)
    body = json.dumps({"txn_ref": "x", "status": "SUCCESS"}).encode()

    forged = client.post(
        reverse("rail-webhook", args=["upi"]),
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature(body, "not-our-secret"),
    )

    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "invalid_signature"


def test_a_non_ascii_signature_is_a_400():
    body = json.dumps({"txn_ref": "x", "status": "SUCCESS"}).encode()

    response = Client(raise_request_exception=False).post(
        reverse("rail-webhook", args=["upi"]),
        body,
        content_type="application/json",
        HTTP_X_SIGNATURE="é" * 64,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"


def test_upi_refund():
    payment = lifecycle.payment_authorize(payment_id=indian_payment().pk)

    refund = refunds.refund_create(payment_id=payment.pk)

    assert refund.status == "succeeded"
    assert refund.provider_reference.startswith("UPIRF")
