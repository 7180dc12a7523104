"""Sandbox only: the payer's side of the rails that need one (an STK prompt answered, a
PIX charge or an Idram page paid, a UPI collect request approved, an iDEAL bank page
finished), each ending in the notification the real rail would send us. Each retries a
database or broker that blinked (apps/core/transient.py): a notice that arrives again
moves nothing, as when a real rail sends one twice.

The sandbox transports queue these tasks by name (`adapters.base.sandbox_payer_acts`):
this module imports the adapters and the notices that use them, so the adapters never
import it.
"""

import json
import secrets
from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.urls import resolve
from django.utils import timezone

from apps.core.transient import RETRY_SOON, TRANSIENT_ERRORS
from apps.payments.adapters import (
    idram,
    mpesa_sandbox,
    pix_sandbox,
    stripe_sandbox,
    upi,
    upi_sandbox,
)
from apps.payments.notices import webhook_receive


@shared_task(name="payments.sandbox_mpesa_approve", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def sandbox_mpesa_approve(checkout_request_id: str) -> str:
    """The customer answers the STK prompt and Daraja calls back the push's CallBackURL."""
    callback = mpesa_sandbox.approve(checkout_request_id)
    url = mpesa_sandbox.callback_url(checkout_request_id)
    called = resolve(url.removeprefix(settings.GERAOS_PUBLIC_URL)).kwargs
    return webhook_receive(
        rail_code=called["rail"],
        body=json.dumps(callback).encode(),
        headers={},
        payment_key=called.get("payment_key", ""),
    )


@shared_task(name="payments.sandbox_pix_pay", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def sandbox_pix_pay(txid: str) -> str:
    """The payer pays the PIX charge and the PSP notifies us."""
    notification = pix_sandbox.pay(txid)
    return webhook_receive(rail_code="pix", body=json.dumps(notification).encode(), headers={})


@shared_task(name="payments.sandbox_idram_pay", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def sandbox_idram_pay(form: dict) -> str:
    """The payer pays on Idram's page; Idram prechecks, then confirms."""
    for callback in idram_sandbox_callbacks(form):
        outcome = webhook_receive(rail_code="idram", body=urlencode(callback).encode(), headers={})
    return outcome


def idram_sandbox_callbacks(form: dict) -> list[dict]:
    precheck = {k: form[k] for k in ("EDP_BILL_NO", "EDP_REC_ACCOUNT", "EDP_AMOUNT")}
    paid = {
        **precheck,
        "EDP_PAYER_ACCOUNT": "100000000",
        "EDP_TRANS_ID": secrets.token_hex(6),
        "EDP_TRANS_DATE": timezone.now().strftime("%d/%m/%Y"),
    }
    paid["EDP_CHECKSUM"] = idram.checksum(paid, settings.IDRAM_SECRET_KEY)
    return [{**precheck, "EDP_PRECHECK": "YES"}, paid]


@shared_task(name="payments.sandbox_upi_approve", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def sandbox_upi_approve(txn_ref: str) -> str:
    """The payer answers the collect request; the PSP calls us back."""
    body = upi_sandbox.approve(txn_ref)
    signed = {"X-Signature": upi.signature(body, settings.UPI_WEBHOOK_SECRET)}
    return webhook_receive(rail_code="upi", body=body, headers=signed)


@shared_task(
    name="payments.sandbox_stripe_bank_approves", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON
)
def sandbox_stripe_bank_approves(intent_id: str) -> str:
    """The iDEAL payer approves at their bank; Stripe sends the webhook."""
    body, signature = stripe_sandbox.bank_approves(intent_id)
    return webhook_receive(rail_code="ideal", body=body, headers={"Stripe-Signature": signature})
