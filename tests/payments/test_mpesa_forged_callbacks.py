"""A callback URL names one payment whose STK push answer was lost: a forged callback
there must never take the payment over, settle it with another push's money, or reach a
payment that no longer waits."""

import datetime as dt
import json
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from apps.payments import lifecycle, notices
from apps.payments.adapters import mpesa_sandbox
from apps.payments.adapters.mpesa import MpesaAdapter
from apps.payments.models import Payment
from apps.payments.sandbox_payer import sandbox_mpesa_approve
from tests.helpers import stk_push_answer_lost_once
from tests.payments.test_mpesa import kenyan_payment, stk_callback

pytestmark = pytest.mark.django_db


def answer_lost(monkeypatch, key: str = "mpesa-1") -> tuple[Payment, str]:
    prompts = stk_push_answer_lost_once(monkeypatch)
    payment = kenyan_payment(key=key)
    with pytest.raises(OperationalError):
        lifecycle.payment_authorize(payment_id=payment.pk)
    [prompt] = prompts
    return payment, prompt


def keyed_url(payment: Payment) -> str:
    return reverse("rail-webhook-for-payment", args=["mpesa", payment.provider_idempotency_key])


def test_a_forged_push_id_at_a_payments_url_does_not_keep_the_real_approval_out(
    monkeypatch, client
):
    payment, prompt = answer_lost(monkeypatch)
    url = urlsplit(mpesa_sandbox.callback_url(prompt)).path

    client.post(url, stk_callback("ws_CO_forged"), content_type="application/json")
    approval = mpesa_sandbox.approve(prompt)  # the payer really approves and pays
    client.post(url, json.dumps(approval), content_type="application/json")

    payment.refresh_from_db()
    assert (payment.status, payment.provider_reference) == (Payment.Status.CAPTURED, prompt)


def test_a_callback_naming_another_payments_push_does_not_settle_this_one(monkeypatch, client):
    monkeypatch.setattr(sandbox_mpesa_approve, "apply_async", lambda *args, **kwargs: None)
    other = lifecycle.payment_authorize(payment_id=kenyan_payment(key="b").pk)
    mpesa_sandbox.approve(other.provider_reference)
    monkeypatch.undo()
    waiting, _ = answer_lost(monkeypatch, key="a")

    client.post(
        keyed_url(waiting), stk_callback(other.provider_reference), content_type="application/json"
    )

    waiting.refresh_from_db()
    assert (waiting.status, waiting.provider_reference) == (Payment.Status.PENDING, "")


def test_a_payment_that_no_longer_waits_takes_no_reference_from_its_url(monkeypatch, client):
    payment, _ = answer_lost(monkeypatch)
    long_ago = timezone.now() - dt.timedelta(days=30)
    Payment.objects.filter(pk=payment.pk).update(authorize_sent_at=long_ago)
    lifecycle.payment_reconcile(payment_id=payment.pk)  # failed: unanswered

    client.post(keyed_url(payment), stk_callback("ws_CO_forged"), content_type="application/json")

    payment.refresh_from_db()
    assert (payment.status, payment.provider_reference) == (Payment.Status.FAILED, "")


@pytest.mark.django_db(transaction=True)
def test_a_callback_beating_the_push_answer_and_the_answer_both_go_through(monkeypatch):
    """Daraja's callback at the payment's URL takes the reference's lock, then the row's;
    the push's answer must take them in that order too, or one of them deadlocks."""
    monkeypatch.setattr(sandbox_mpesa_approve, "apply_async", lambda *args, **kwargs: None)
    payment = kenyan_payment(key="race")
    assert lifecycle._mark_sent(payment.pk)
    answer = MpesaAdapter(sandbox=True).authorize(
        payment, idempotency_key=payment.provider_idempotency_key
    )
    approval = mpesa_sandbox.approve(answer.provider_reference)
    refused = []

    def record_the_answer():
        try:
            lifecycle.payment_apply_result(payment_id=payment.pk, result=answer, cause="authorize")
        except OperationalError as error:
            refused.append(error)
        finally:
            connection.close()

    answering = threading.Thread(target=record_the_answer)
    apply_the_callback = notices.payment_apply_result

    def callback_holding_the_reference(**recorded):
        answering.start()
        time.sleep(0.5)  # the answer reaches its locks meanwhile
        return apply_the_callback(**recorded)

    monkeypatch.setattr(notices, "payment_apply_result", callback_holding_the_reference)
    outcome = notices.webhook_receive(
        rail_code="mpesa",
        body=json.dumps(approval).encode(),
        headers={},
        payment_key=payment.provider_idempotency_key,
    )
    answering.join()

    payment.refresh_from_db()
    assert (outcome, refused, payment.status) == ("processed", [], Payment.Status.CAPTURED)
