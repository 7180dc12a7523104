"""M-Pesa: STK push in sandbox end to end (the approval arrives as Daraja's callback via
a Celery task), confirmation only by the status query, and the production adapter against
recorded Daraja responses."""

import datetime as dt
import json
import threading
import time
from decimal import Decimal
from math import ceil
from urllib.parse import urlsplit

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from apps.payments import lifecycle, notices, quotes, refunds
from apps.payments.adapters import mpesa_sandbox
from apps.payments.adapters.mpesa import MpesaAdapter
from apps.payments.models import Payment, ProviderEvent, Rail
from apps.payments.sandbox_payer import sandbox_mpesa_approve
from tests.factories import UserFactory
from tests.helpers import stk_push_answer_lost_once, stored_row

pytestmark = pytest.mark.django_db
PHONE = "254708374149"


def kenyan_payment(gbp: str = "10.00", key: str = "mpesa-1") -> Payment:
    user = UserFactory(country="KE")
    quote = quotes.quote_create(user=user, amount=Money(gbp, "GBP"))
    return lifecycle.payment_create(
        user=user, quote=quote, reference="plumber", idempotency_key=key, payer_account=PHONE
    )


def test_the_payers_phone_is_sealed_in_the_database():
    payment = kenyan_payment()

    assert PHONE not in stored_row(Payment, payment.pk)
    assert Payment.objects.get(pk=payment.pk).payer_account == PHONE


@pytest.fixture
def pushed(django_capture_on_commit_callbacks):
    """Authorize: the STK push, and (eager Celery) the customer's answer and Daraja's
    callback, which arrive even before the push's own response is stored; once it is,
    Daraja is asked about the held push after commit."""

    def push(payment: Payment) -> Payment:
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.payment_authorize(payment_id=payment.pk)
        payment.refresh_from_db()
        return payment

    return push


def test_stk_push_is_confirmed_by_the_status_query_and_captured(pushed):
    payment = pushed(kenyan_payment())  # KES 1,642

    assert payment.status == Payment.Status.CAPTURED
    assert payment.confirmation_verified
    assert payment.confirmation_id.startswith("SBX")
    assert payment.provider_reference.startswith("ws_CO_sandbox_")
    assert ProviderEvent.objects.get().pending_result is None


@pytest.mark.parametrize(
    ("kes_ending", "failure"), [("51", "insufficient_funds"), ("32", "cancelled_by_user")]
)
def test_customer_side_failures(pushed, kes_ending, failure):
    # The sandbox decides by the whole-shilling amount's last two digits (164.20 KES/GBP).
    pence = next(
        p for p in range(1000, 5000) if ceil(p * Decimal("1.642")) % 100 == int(kes_ending)
    )
    payment = kenyan_payment(gbp=str(Decimal(pence) / 100))
    assert str(payment.local_amount.amount).split(".")[0].endswith(kes_ending)

    payment = pushed(payment)

    assert (payment.status, payment.failure_code) == ("failed", failure)


def test_a_callback_naming_a_push_geraos_never_made_is_kept_once_and_daraja_never_asked(
    client, monkeypatch
):
    asked, query = [], MpesaAdapter._query
    monkeypatch.setattr(
        MpesaAdapter, "_query", lambda self, id: asked.append(id) or query(self, id)
    )
    forged = stk_callback("ws_CO_sandbox_unknown")

    outcomes = [
        client.post(
            reverse("rail-webhook", args=["mpesa"]), forged, content_type="application/json"
        ).json()["outcome"]
        for _ in range(3)
    ]

    assert outcomes == ["held", "duplicate", "duplicate"]
    assert asked == []
    held = ProviderEvent.objects.get()
    assert held.pending_result["status"] == "unconfirmed"  # nothing is believed, nor captured


def stk_callback(checkout_request_id: str) -> str:
    return json.dumps(
        {"Body": {"stkCallback": {"CheckoutRequestID": checkout_request_id, "ResultCode": 0}}}
    )


def test_an_early_callback_does_not_use_up_the_approvals_event(client, monkeypatch):
    approvals = []
    monkeypatch.setattr(
        sandbox_mpesa_approve, "apply_async", lambda args, countdown: approvals.append(args[0])
    )
    payment = lifecycle.payment_authorize(payment_id=kenyan_payment().pk)

    # A "success" callback before the customer answered: the query says still processing.
    client.post(
        reverse("rail-webhook", args=["mpesa"]),
        stk_callback(payment.provider_reference),
        content_type="application/json",
    )
    outcome = sandbox_mpesa_approve(approvals[0])  # the customer approves; Daraja calls back

    payment.refresh_from_db()
    assert outcome == "processed"
    assert payment.status == Payment.Status.CAPTURED


def test_a_callback_whose_push_became_ours_meanwhile_is_confirmed_with_daraja(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(sandbox_mpesa_approve, "apply_async", lambda *a, **k: None)
    payment = lifecycle.payment_authorize(payment_id=kenyan_payment().pk)
    callback = mpesa_sandbox.approve(payment.provider_reference)
    payments_of = notices._payments_of
    looks = []

    def stored_just_after_the_first_look(rail, notice):
        looks.append(notice)
        found = payments_of(rail, notice)
        return found.none() if len(looks) == 1 else found

    monkeypatch.setattr(notices, "_payments_of", stored_just_after_the_first_look)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = notices.webhook_receive(
            rail_code="mpesa", body=json.dumps(callback).encode(), headers={}
        )

    payment.refresh_from_db()
    assert (outcome, payment.status) == ("processed", Payment.Status.CAPTURED)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_a_callback_racing_the_push_response_is_applied_all_the_same(monkeypatch):
    """The callback looks for the payment just before the push's response stores its
    reference; that apply then waits for the callback's commit and finds it held."""
    monkeypatch.setattr(sandbox_mpesa_approve, "apply_async", lambda *a, **k: None)
    payment = kenyan_payment(key="race")
    pushed = MpesaAdapter(sandbox=True).authorize(
        payment, idempotency_key=payment.provider_idempotency_key
    )
    callback = mpesa_sandbox.approve(pushed.provider_reference)
    response_arrives = threading.Thread(target=apply_in_own_connection, args=(payment, pushed))
    real_save = ProviderEvent.save

    def hold_then_let_the_response_race(event, *args, **kwargs):
        real_save(event, *args, **kwargs)
        if event.pending_result is not None:  # the callback is being held
            response_arrives.start()
            time.sleep(0.5)  # without the lock, the apply commits in here and misses it

    monkeypatch.setattr(ProviderEvent, "save", hold_then_let_the_response_race)
    outcome = notices.webhook_receive(
        rail_code="mpesa", body=json.dumps(callback).encode(), headers={}
    )
    response_arrives.join()

    payment.refresh_from_db()
    assert (outcome, payment.status) == ("held", Payment.Status.CAPTURED)
    assert ProviderEvent.objects.get().pending_result is None


def apply_in_own_connection(payment, result):
    try:
        lifecycle.payment_apply_result(payment_id=payment.pk, result=result, cause="authorize")
    finally:
        connection.close()


@pytest.fixture
def answer_lost(monkeypatch):
    """A payment whose STK push Daraja took and whose answer was lost; and the prompts
    its payer got."""
    prompts = stk_push_answer_lost_once(monkeypatch)
    payment = kenyan_payment()
    with pytest.raises(OperationalError):
        lifecycle.payment_authorize(payment_id=payment.pk)
    return payment, prompts


def unanswered_for_too_long(payment: Payment) -> None:
    sent = timezone.now() - lifecycle.UNANSWERED_AFTER - dt.timedelta(seconds=1)
    Payment.objects.filter(pk=payment.pk).update(authorize_sent_at=sent)


def test_a_push_whose_answer_was_lost_is_not_sent_again_and_fails_unanswered(answer_lost):
    payment, prompts = answer_lost

    lifecycle.payment_authorize(payment_id=payment.pk)  # the step, retried
    lifecycle.payment_reconcile(payment_id=payment.pk)  # the stuck-payment sweep
    assert len(prompts) == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING

    unanswered_for_too_long(payment)
    payment = lifecycle.payment_reconcile(payment_id=payment.pk)

    assert (payment.status, payment.failure_code) == ("failed", "unanswered")
    assert len(prompts) == 1


def test_the_callback_of_a_push_whose_answer_was_lost_finds_the_payment_by_its_url(
    answer_lost, client
):
    payment, (prompt,) = answer_lost
    callback = mpesa_sandbox.approve(prompt)  # the payer approves; Daraja calls back

    response = client.post(
        urlsplit(mpesa_sandbox.callback_url(prompt)).path,
        json.dumps(callback),
        content_type="application/json",
    )

    payment.refresh_from_db()
    assert response.json()["outcome"] == "processed"
    assert (payment.status, payment.provider_reference) == ("captured", prompt)
    assert payment.confirmation_verified


def test_a_lost_push_approved_after_the_payment_failed_is_refunded(
    answer_lost, django_capture_on_commit_callbacks
):
    payment, (prompt,) = answer_lost
    unanswered_for_too_long(payment)
    lifecycle.payment_reconcile(payment_id=payment.pk)

    with django_capture_on_commit_callbacks(execute=True):
        sandbox_mpesa_approve(prompt)  # the prompt, approved late

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.events.filter(to_status="captured", data__late=True).exists()


def test_a_payments_callback_url_names_no_other_push_once_its_own_is_stored(
    pushed, client, monkeypatch
):
    payment = pushed(kenyan_payment())
    asked, query = [], MpesaAdapter._query
    monkeypatch.setattr(
        MpesaAdapter, "_query", lambda self, id: asked.append(id) or query(self, id)
    )

    response = client.post(
        reverse("rail-webhook-for-payment", args=["mpesa", payment.provider_idempotency_key]),
        stk_callback("ws_CO_sandbox_another"),
        content_type="application/json",
    )

    assert response.json()["outcome"] == "held"
    assert asked == []


@pytest.mark.parametrize("checkout_request_id", ["ws_CO_" + "9" * 300, "ws_CO_\x00"])
def test_a_callback_with_an_id_we_could_not_store_is_a_400(checkout_request_id):
    response = Client(raise_request_exception=False).post(
        reverse("rail-webhook", args=["mpesa"]),
        stk_callback(checkout_request_id),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_garbage_callback_is_a_400(client):
    response = client.post(
        reverse("rail-webhook", args=["mpesa"]), "not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"


def test_refund_is_a_reversal(pushed):
    payment = pushed(kenyan_payment())

    refund = refunds.refund_create(payment_id=payment.pk)

    assert refund.status == "succeeded"
    assert refund.provider_reference.startswith("AG_sandbox_")


class RecordedDaraja:
    """Daraja's documented responses, as the production adapter receives them."""

    def __init__(self):
        self.sent = []

    def request(self, method, url, *, headers, body):
        self.sent.append((method, url, body))
        if "oauth" in url:
            return 200, {"access_token": "c9SQxWWhmdVRlyh0zh8gZDTkubVF", "expires_in": "3599"}
        if url.endswith("/processrequest"):
            return 200, {
                "MerchantRequestID": "29115-34620561-1",
                "CheckoutRequestID": "ws_CO_191220191020363925",
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            }
        return 200, {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResultCode": "0",
            "ResultDesc": "The service request is processed successfully.",
            "MpesaReceiptNumber": "NLJ7RT61SV",
        }


def test_production_adapter_speaks_daraja(monkeypatch, settings):
    settings.MPESA_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
    Rail.objects.filter(code="mpesa").update(sandbox=False)
    recorded = RecordedDaraja()
    monkeypatch.setattr(MpesaAdapter, "transport", recorded)

    payment = lifecycle.payment_authorize(payment_id=kenyan_payment().pk)
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert payment.next_action["type"] == "mpesa_stk_push"
    payment = lifecycle.payment_reconcile(payment_id=payment.pk)

    push = next(body for _, url, body in recorded.sent if url.endswith("/processrequest"))
    assert push["PhoneNumber"] == PHONE
    assert push["Amount"] == 1642
    assert push["CallBackURL"].endswith(
        f"/webhooks/rails/mpesa/{payment.provider_idempotency_key}/"
    )
    assert (payment.status, payment.confirmation_id) == ("captured", "NLJ7RT61SV")
