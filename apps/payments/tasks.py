import json
import secrets
from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.payments import fx, services
from apps.payments.adapters import (
    RAIL_CALL_ERRORS,
    idram,
    mpesa_sandbox,
    pix_sandbox,
    stripe_sandbox,
    upi,
    upi_sandbox,
)


@shared_task(
    name="payments.import_fx_rates", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def import_fx_rates() -> int:
    return fx.import_rates()


@shared_task(name="payments.authorize", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def authorize_payment(payment_id: str) -> str:
    return services.payment_authorize(payment_id=payment_id).status


@shared_task(
    name="payments.refund_late_capture",
    autoretry_for=RAIL_CALL_ERRORS,
    retry_backoff=True,
    max_retries=8,
)
def refund_late_capture(payment_id: str) -> str:
    return services.refund_create(
        payment_id=payment_id, reason="captured after the payment was cancelled"
    ).status


@shared_task(name="payments.reconcile")
def reconcile_payment(payment_id: str) -> str:
    return services.payment_reconcile(payment_id=payment_id).status


@shared_task(name="payments.reconcile_stuck")
def reconcile_stuck_payments() -> int:
    """Payments left pending (a crash or lost response between the rail and our commit)
    are settled by asking the rail, with the same idempotency key: never a second charge."""
    stuck = list(services.payments_needing_reconciliation())
    for payment_id in stuck:
        reconcile_payment.delay(str(payment_id))
    return len(stuck)


@shared_task(name="payments.sandbox_mpesa_approve")
def sandbox_mpesa_approve(checkout_request_id: str) -> str:
    """Sandbox only: the customer answers the STK prompt and Daraja calls us back."""
    callback = mpesa_sandbox.approve(checkout_request_id)
    return services.webhook_receive(
        rail_code="mpesa", body=json.dumps(callback).encode(), headers={}
    )


@shared_task(name="payments.sandbox_pix_pay")
def sandbox_pix_pay(txid: str) -> str:
    """Sandbox only: the payer pays the PIX charge and the PSP notifies us."""
    notification = pix_sandbox.pay(txid)
    return services.webhook_receive(
        rail_code="pix", body=json.dumps(notification).encode(), headers={}
    )


@shared_task(name="payments.sandbox_idram_pay")
def sandbox_idram_pay(form: dict) -> str:
    """Sandbox only: the payer pays on Idram's page; Idram prechecks, then confirms."""
    for callback in idram_sandbox_callbacks(form):
        outcome = services.webhook_receive(
            rail_code="idram", body=urlencode(callback).encode(), headers={}
        )
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


@shared_task(name="payments.sandbox_upi_approve")
def sandbox_upi_approve(txn_ref: str) -> str:
    """Sandbox only: the payer answers the collect request; the PSP calls us back."""
    body = upi_sandbox.approve(txn_ref)
    signed = {"X-Signature": upi.signature(body, settings.UPI_WEBHOOK_SECRET)}
    return services.webhook_receive(rail_code="upi", body=body, headers=signed)


@shared_task(name="payments.sandbox_stripe_bank_approves")
def sandbox_stripe_bank_approves(intent_id: str) -> str:
    """Sandbox only: the iDEAL payer approves at their bank; Stripe sends the webhook."""
    body, signature = stripe_sandbox.bank_approves(intent_id)
    return services.webhook_receive(
        rail_code="ideal", body=body, headers={"Stripe-Signature": signature}
    )
