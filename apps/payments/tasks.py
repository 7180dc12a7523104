from celery import shared_task

from apps.payments import fx, lifecycle, refunds, selectors
from apps.payments.adapters import RAIL_CALL_ERRORS


@shared_task(
    name="payments.import_fx_rates", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def import_fx_rates() -> int:
    return fx.import_rates()


@shared_task(name="payments.authorize", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def authorize_payment(payment_id: str) -> str:
    return lifecycle.payment_authorize(payment_id=payment_id).status


@shared_task(
    name="payments.refund_late_capture",
    autoretry_for=RAIL_CALL_ERRORS,
    retry_backoff=True,
    max_retries=8,
)
def refund_late_capture(payment_id: str) -> str:
    return refunds.refund_create(
        payment_id=payment_id, reason="captured after the payment was cancelled"
    ).status


@shared_task(name="payments.reconcile")
def reconcile_payment(payment_id: str) -> str:
    return lifecycle.payment_reconcile(payment_id=payment_id).status


@shared_task(name="payments.reconcile_stuck")
def reconcile_stuck_payments() -> int:
    """Payments left pending (a crash or lost response between the rail and our commit)
    are settled by asking the rail, with the same idempotency key: never a second charge."""
    stuck = list(selectors.payments_needing_reconciliation())
    for payment_id in stuck:
        reconcile_payment.delay(str(payment_id))
    return len(stuck)
