"""The dispatch pipeline as Celery tasks. Each takes an order id, refetches, and calls
one service that returns quietly when its step is already done, so a redelivered or
duplicated message changes nothing, and every task retries a database or broker that
blinked (apps/core/transient.py). Retries back off; the countdowns and time limits stay
under the broker's visibility timeout (tests/dispatch/test_tasks.py checks)."""

from celery import shared_task

from apps.core.errors import ConflictError
from apps.core.transient import RETRY_SOON, TRANSIENT_ERRORS, retry_as_next_attempt
from apps.dispatch import callbacks, selectors, services
from apps.dispatch.fulfilment import ProviderUnavailable
from apps.payments.adapters import RAIL_CALL_ERRORS

RETRY = {"retry_backoff": 2, "retry_backoff_max": 300, "retry_jitter": True}
RAIL_ERRORS = (*RAIL_CALL_ERRORS, ConflictError)


@shared_task(
    bind=True,
    name="dispatch.authorize_payment",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=8,
    **RETRY,
)
def authorize_payment(self, order_id: str, attempt: int = 0) -> str:
    try:
        return services.order_authorize(order_id=order_id).status
    except RAIL_ERRORS as error:
        if attempt >= self.max_retries:
            raise  # the stuck-order sweep takes it up again
        return retry_as_next_attempt(self, error, order_id, attempt=attempt)


@shared_task(
    bind=True, name="dispatch.fulfil", autoretry_for=TRANSIENT_ERRORS, max_retries=6, **RETRY
)
def fulfil(self, order_id: str, attempt: int = 0) -> str:
    try:
        return services.order_fulfil(order_id=order_id).status
    except ProviderUnavailable as unavailable:
        if attempt >= self.max_retries:
            return services.order_fulfilment_failed(
                order_id=order_id, code="provider_unavailable", message=str(unavailable)
            ).status
        return retry_as_next_attempt(self, unavailable, order_id, attempt=attempt)


@shared_task(
    bind=True, name="dispatch.capture", autoretry_for=TRANSIENT_ERRORS, max_retries=8, **RETRY
)
def capture(self, order_id: str, attempt: int = 0) -> str:
    try:
        return services.order_capture(order_id=order_id).status
    except RAIL_ERRORS as error:
        if attempt >= self.max_retries:
            return services.order_capture_failed(order_id=order_id, message=str(error)).status
        return retry_as_next_attempt(self, error, order_id, attempt=attempt)


@shared_task(
    bind=True, name="dispatch.compensate", autoretry_for=TRANSIENT_ERRORS, max_retries=10, **RETRY
)
def compensate(self, order_id: str, attempt: int = 0) -> str:
    try:
        return services.order_compensate(order_id=order_id).status
    except RAIL_ERRORS as error:
        if attempt >= self.max_retries:
            raise  # the stuck-order sweep takes it up again
        return retry_as_next_attempt(self, error, order_id, attempt=attempt)


@shared_task(name="dispatch.give_up", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def give_up(order_id: str) -> str:
    return services.order_give_up(order_id=order_id).status


@shared_task(
    name="dispatch.issue_receipt",
    autoretry_for=(OSError, *TRANSIENT_ERRORS),
    max_retries=8,
    **RETRY,
)
def issue_receipt(order_id: str) -> str:
    return services.order_issue_receipt(order_id=order_id).status


@shared_task(name="dispatch.sync_payment", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def sync_payment(order_id: str) -> str:
    return services.order_sync_payment(order_id=order_id).status


@shared_task(
    name="dispatch.follow_refunds",
    autoretry_for=(OSError, *TRANSIENT_ERRORS),
    max_retries=8,
    **RETRY,
)
def follow_refunds(order_id: str) -> str:
    return services.order_follow_refunds(order_id=order_id).status


@shared_task(name="dispatch.resume_stuck", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def resume_stuck_orders() -> int:
    """The safety net (a dead worker's messages come back only after the visibility
    timeout): every order nobody moved for a while gets the step it is waiting on, and
    one whose payment was refunded without its knowing follows the refund."""
    stuck = list(selectors.orders_stuck().values_list("pk", flat=True)[:500])
    for order_id in stuck:
        services.order_resume(order_id=order_id, actor="beat")
    behind = list(selectors.orders_behind_their_refunds().values_list("pk", flat=True)[:500])
    for order_id in behind:
        follow_refunds.delay(str(order_id))
    return len(stuck) + len(behind)


@shared_task(
    bind=True,
    name="dispatch.deliver_callback",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=8,
    **RETRY,
)
def deliver_callback(self, delivery_id: str, attempt: int = 0) -> str:
    try:
        return callbacks.deliver(
            delivery_id=delivery_id, attempt=attempt, final=attempt >= self.max_retries
        )
    except callbacks.NotDelivered as refused:
        return retry_as_next_attempt(self, refused, delivery_id, attempt=attempt)


@shared_task(name="dispatch.resume_lost_callbacks", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def resume_lost_callbacks() -> int:
    """The safety net for agent callbacks: a delivery nobody attempted for a while is
    queued again with the attempts its budget has left, or given up an hour after its
    event. Its task rechecks the status before POSTing, so a delivered one is never sent
    again."""
    lost = list(selectors.callbacks_lost().values_list("pk", flat=True)[:500])
    for delivery_id in lost:
        attempt = callbacks.delivery_take_up(delivery_id=delivery_id)
        if attempt is not None:
            deliver_callback.apply_async(args=[str(delivery_id)], kwargs={"attempt": attempt})
    return len(lost)
