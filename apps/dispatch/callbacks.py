"""Status events POSTed to the agent's callback URL, signed with the order's callback
secret (`X-GeraOS-Signature`, the same scheme providers get), retried with backoff."""

import secrets

from django.db import transaction
from django.utils import timezone

from apps.core import hmac_signature
from apps.core.sealing import seal, unseal
from apps.dispatch import fulfilment, outbound
from apps.dispatch.models import CallbackDelivery, DispatchOrder


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


def deliver(*, delivery_id, final: bool) -> str:
    delivery = CallbackDelivery.objects.select_related("order").get(pk=delivery_id)
    if delivery.status != CallbackDelivery.Status.PENDING:
        return delivery.status
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


@transaction.atomic
def _record(delivery_id, *, delivered: bool, outcome: str, final: bool) -> str:
    delivery = CallbackDelivery.objects.select_for_update().get(pk=delivery_id)
    delivery.attempts += 1
    if delivery.status == CallbackDelivery.Status.DELIVERED:
        # Another run of it (a redelivered message, say) was answered first.
        delivery.save(update_fields=["attempts"])
        return delivery.status
    delivery.last_response = outcome[:200]
    if delivered:
        delivery.status = CallbackDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
    elif final:
        delivery.status = CallbackDelivery.Status.GAVE_UP
    delivery.save()
    return delivery.status
