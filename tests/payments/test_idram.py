"""Idram: the payment page form, the precheck and the checksum-signed confirmation."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from apps.core.errors import ApplicationError
from apps.payments import lifecycle, quotes, refunds
from apps.payments.adapters.idram import checksum
from apps.payments.models import Payment, ProviderEvent, Rail
from apps.payments.sandbox_payer import idram_sandbox_callbacks
from apps.trust import services as trust_services
from apps.trust.models import Dispute
from tests.factories import UserFactory, make_receipt

pytestmark = pytest.mark.django_db


def armenian_payment() -> Payment:
    user = UserFactory(country="AM")
    quote = quotes.quote_create(user=user, amount=Money("10.00", "GBP"))
    return lifecycle.payment_create(
        user=user, quote=quote, reference="taxi", idempotency_key=f"am-{quote.pk}"
    )


def test_payer_pays_on_idram_and_the_checksum_confirms_it():
    payment = lifecycle.payment_authorize(payment_id=armenian_payment().pk)

    assert payment.status == Payment.Status.CAPTURED
    assert payment.confirmation_verified
    assert str(payment.local_amount) == "AMD4,921.00"


def idram_form(payment: Payment) -> dict:
    return {"EDP_REC_ACCOUNT": "110000601", "EDP_AMOUNT": "4921", "EDP_BILL_NO": payment.pk.hex}


@pytest.fixture
def awaiting_payer():
    Rail.objects.filter(code="idram").update(sandbox=False)  # no simulated payer
    return lifecycle.payment_authorize(payment_id=armenian_payment().pk)


def post(client, fields: dict):
    return client.post(
        reverse("rail-webhook", args=["idram"]),
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
    )


def test_precheck_and_confirmation_are_answered_ok(client, awaiting_payer):
    assert awaiting_payer.next_action["type"] == "redirect_form"
    assert awaiting_payer.next_action["fields"]["EDP_AMOUNT"] == "4921"
    precheck, paid = idram_sandbox_callbacks(idram_form(awaiting_payer))

    for fields in (precheck, paid):
        response = post(client, fields)
        assert (response.status_code, response.content) == (200, b"OK")

    awaiting_payer.refresh_from_db()
    assert awaiting_payer.status == Payment.Status.CAPTURED
    assert awaiting_payer.confirmation_id == paid["EDP_TRANS_ID"]


def test_a_bad_checksum_is_refused(client, awaiting_payer):
    _, paid = idram_sandbox_callbacks(idram_form(awaiting_payer))

    response = post(client, {**paid, "EDP_CHECKSUM": "0" * 32})

    assert response.status_code == 400
    awaiting_payer.refresh_from_db()
    assert awaiting_payer.status == Payment.Status.REQUIRES_ACTION


def test_a_non_ascii_checksum_is_a_400(awaiting_payer):
    _, paid = idram_sandbox_callbacks(idram_form(awaiting_payer))

    response = post(Client(raise_request_exception=False), {**paid, "EDP_CHECKSUM": "Ж" * 32})

    assert response.status_code == 400
    awaiting_payer.refresh_from_db()
    assert awaiting_payer.status == Payment.Status.REQUIRES_ACTION


def test_a_precheck_for_a_bill_geraos_never_issued_is_kept_once(client):
    precheck = {"EDP_REC_ACCOUNT": "110000601", "EDP_BILL_NO": "not-ours", "EDP_PRECHECK": "YES"}

    for _ in range(3):
        post(client, precheck)

    assert ProviderEvent.objects.get().event_id == "precheck:not-ours"


@pytest.mark.parametrize("bill", ["b" * 300, "bill\x00"], ids=["over-long", "nul"])
def test_a_callback_with_a_bill_number_we_could_not_store_is_a_400(bill):
    precheck = {"EDP_REC_ACCOUNT": "110000601", "EDP_BILL_NO": bill, "EDP_PRECHECK": "YES"}

    response = post(Client(raise_request_exception=False), precheck)

    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_a_confirmation_for_another_amount_never_settles(client, awaiting_payer, settings):
    fields = {
        **idram_form(awaiting_payer),
        "EDP_AMOUNT": "10",
        "EDP_PAYER_ACCOUNT": "1",
        "EDP_TRANS_ID": "t1",
        "EDP_TRANS_DATE": "25/11/2026",
    }
    fields["EDP_CHECKSUM"] = checksum(fields, settings.IDRAM_SECRET_KEY)

    post(client, fields)

    awaiting_payer.refresh_from_db()
    assert (awaiting_payer.status, awaiting_payer.failure_code) == ("failed", "amount_mismatch")


def test_refund_waits_for_the_idram_cabinet_then_is_confirmed_in_admin(operator_client):
    payment = lifecycle.payment_authorize(payment_id=armenian_payment().pk)

    refund = refunds.refund_create(payment_id=payment.pk)
    assert refund.status == "pending"
    with pytest.raises(ApplicationError, match="can still be refunded"):
        refunds.refund_create(payment_id=payment.pk, amount=Decimal("1"))  # amount reserved

    operator_client.post(
        reverse("admin:payments_refund_change", args=[refund.pk]),
        {"provider_reference": "IDRAM-RF-778812"},
    )

    refund.refresh_from_db()
    payment.refresh_from_db()
    assert (refund.status, refund.provider_reference) == ("succeeded", "IDRAM-RF-778812")
    assert payment.status == Payment.Status.REFUNDED


def test_a_dispute_refunded_on_idram_resolves_once_the_cabinet_refund_is_confirmed(operator):
    payment = lifecycle.payment_authorize(payment_id=armenian_payment().pk)
    receipt = make_receipt(payment.user, payment_ref=str(payment.pk))
    dispute = trust_services.dispute_open(receipt=receipt, opened_by="buyer", reason="other")

    with pytest.raises(ApplicationError, match="back office"):
        trust_services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)
    refunds.refund_confirm_manual(
        refund_id=payment.refunds.get().pk, reference="IDRAM-RF-1", operator=operator
    )
    dispute = trust_services.dispute_resolve(
        dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED
    )

    assert dispute.resolution_receipt.payload["payment_ref"] == "IDRAM-RF-1"
