"""Status events POSTed to the agent's callback URL, signed with the order's callback
secret (`X-GeraOS-Signature`, the same scheme providers get), retried with backoff; the
beat's sweep takes up a delivery whose task was lost, or gives it up."""

import datetime as dt
import secrets

from django.db import transaction
from django.utils import timezone

from apps.core import hmac_signature
from apps.core.sealing import seal, unseal
from apps.dispatch import fulfilment, outbound, selectors
from apps.dispatch.models import CallbackDelivery, DispatchOrder

# News nobody waits for by now (the agent can poll the order): six times what a delivery's
# whole budget takes (nine POSTs, 510 s of pauses between them), so one whose task was lost
# once or twice, or queued after a broker outage of half an hour, still gets every attempt.
GIVE_UP_AFTER = dt.timedelta(hours=1)


class NotDelivered(Exception):
    pass


def new_secret(order: DispatchOrder) -> str:
    """The order's callback signing secret: returned once, stored sealed."""
    secret = f"gcs_{secrets.token_urlsafe(32)}"
    order.callback_secret_sealed = seal(secret.encode(), context=_context(order))
    order.save(update_fields=["callback_secret_sealed"])
    return secret


def _context(order: DispatchOrder) -> str:
    return f"dispatch-callback:{order.pk}"


def deliver(*, delivery_id, attempt: int, final: bool) -> str:
    """Attempt number `attempt` (from 0) of the delivery: the POST, then its outcome. Only
    the attempt the delivery is at runs (`_take_attempt`): a run holding a stale number
    (the sweep queued the delivery again while its own task was only late) stops."""
    delivery = CallbackDelivery.objects.select_related("order").get(pk=delivery_id)
    if delivery.status != CallbackDelivery.Status.PENDING:
        return delivery.status
    if not _take_attempt(delivery_id, attempt=attempt):
        return delivery.status  # another run made this attempt: its chain carries on
    order = delivery.order
    secret = unseal(order.callback_secret_sealed, context=_context(order))
    body = fulfilment.encode(delivery.event)
    headers = {
        "Content-Type": "application/json",
        fulfilment.SIGNATURE_HEADER: hmac_signature.sign(body, secret),
        "X-GeraOS-Delivery": str(delivery.pk),
    }
    try:
        status, _, _ = outbound.post(order.callback_url, headers=headers, body=body)
        outcome = f"HTTP {status}"
    except (outbound.Unreachable, outbound.Refused) as error:
        status, outcome = 0, str(error)
    recorded = _record(delivery.pk, delivered=200 <= status < 300, outcome=outcome, final=final)
    if recorded == CallbackDelivery.Status.PENDING:
        raise NotDelivered(outcome)  # the task retries it later
    return recorded


def _take_attempt(delivery_id, *, attempt: int) -> bool:
    """The lease on one attempt, taken before its POST: counted (and the delivery marked
    touched, so the sweep leaves it) only if the delivery is still pending at that
    attempt. Two runs holding one number (the delivery's own task, late behind a backlog,
    and the sweep's) cannot both take it, so one chain runs and the budget holds. A run
    that took its attempt and stopped before recording it (its worker killed, or the
    database away: its retry finds the attempt taken) leaves the delivery pending, and
    the sweep queues the next attempt once it has been untouched for
    CALLBACK_LOST_AFTER: callbacks stay at least once."""
    return bool(
        CallbackDelivery.objects.filter(
            pk=delivery_id, status=CallbackDelivery.Status.PENDING, attempts=attempt
        ).update(attempts=attempt + 1, updated_at=timezone.now())
    )


@transaction.atomic
def _record(delivery_id, *, delivered: bool, outcome: str, final: bool) -> str:
    delivery = CallbackDelivery.objects.select_for_update().get(pk=delivery_id)
    if delivery.status == CallbackDelivery.Status.DELIVERED:
        # A run the sweep queued after this one went quiet was answered first.
        return delivery.status
    delivery.last_response = outcome[:200]
    if delivered:
        delivery.status = CallbackDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
    elif final:
        delivery.status = CallbackDelivery.Status.GAVE_UP
    delivery.save()
    return delivery.status


@transaction.atomic
def delivery_take_up(*, delivery_id) -> int | None:
    """For the sweep: the attempt to queue for a delivery whose task was lost, its budget
    carrying on, and marked touched so the next sweep leaves it to that attempt. None when
    there is none to queue: it was delivered or attempted meanwhile, or it has waited past
    GIVE_UP_AFTER since its event and is given up, unsent."""
    delivery = selectors.callbacks_lost().select_for_update().filter(pk=delivery_id).first()
    if delivery is None:
        return None
    if delivery.created_at < timezone.now() - GIVE_UP_AFTER:
        delivery.status = CallbackDelivery.Status.GAVE_UP
        delivery.save(update_fields=["status", "updated_at"])
        return None
    delivery.save(update_fields=["updated_at"])
    return delivery.attempts
