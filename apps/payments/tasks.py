"""Payments tasks: thin wrappers that call one service each. Every one retries a database
or broker that blinked (apps/core/transient.py): the services recheck the payment under
its lock, and a rail is asked again with the same idempotency key (M-Pesa, which has
none, is never asked twice: lifecycle.payment_authorize)."""

from celery import shared_task

from apps.core.transient import RETRY_SOON, TRANSIENT_ERRORS, retry_as_next_attempt
from apps.payments import fx, lifecycle, refunds, selectors
from apps.payments.adapters import RAIL_CALL_ERRORS


@shared_task(
    name="payments.import_fx_rates",
    autoretry_for=(OSError, *TRANSIENT_ERRORS),
    retry_backoff=True,
    max_retries=5,
)
def import_fx_rates() -> int:
    return fx.import_rates()


@shared_task(
    bind=True,
    name="payments.authorize",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
)
def authorize_payment(self, payment_id: str, attempt: int = 0) -> str:
    try:
        return lifecycle.payment_authorize(payment_id=payment_id).status
    except OSError as error:
        if attempt >= self.max_retries:
            raise  # payments.reconcile_stuck settles it
        return retry_as_next_attempt(self, error, payment_id, attempt=attempt)


@shared_task(
    bind=True,
    name="payments.refund_late_capture",
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=8,
)
def refund_late_capture(self, payment_id: str, attempt: int = 0) -> str:
    try:
        return refunds.refund_create(
            payment_id=payment_id, reason="captured after the payment was cancelled"
        ).status
    # A refund of it already on its way (its answer lost): asked again until a resend
    # settles it.
    except (*RAIL_CALL_ERRORS, refunds.RefundInFlight) as error:
        if attempt >= self.max_retries:
            raise
        return retry_as_next_attempt(self, error, payment_id, attempt=attempt)


@shared_task(name="payments.reconcile", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def reconcile_payment(payment_id: str) -> str:
    return lifecycle.payment_reconcile(payment_id=payment_id).status


@shared_task(name="payments.reconcile_stuck", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def reconcile_stuck_payments() -> int:
    """Payments left pending (a crash or lost response between the rail and our commit)
    are settled by asking the rail, never for a second charge (the same idempotency key; a
    lost M-Pesa push is not sent again, and fails if its callback never comes)."""
    stuck = list(selectors.payments_needing_reconciliation())
    for payment_id in stuck:
        reconcile_payment.delay(str(payment_id))
    owed = list(selectors.payments_captured_late_unrefunded())
    for payment_id in owed:
        refund_late_capture.delay(str(payment_id))
    return len(stuck) + len(owed)
