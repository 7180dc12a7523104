"""Status events POSTed to the agent's callback URL, signed with the order's callback
secret (`X-GeraOS-Signature`, the same scheme providers get), retried with backoff."""

from django.db import transaction
from django.utils import timezone

from apps.core import hmac_signature
from apps.core.sealing import unseal
from apps.dispatch import fulfilment
from apps.dispatch.models import CallbackDelivery


class NotDelivered(Exception):
    pass


def deliver(*, delivery_id, final: bool) -> str:
    delivery = CallbackDelivery.objects.select_related("order").get(pk=delivery_id)
    if delivery.status != CallbackDelivery.Status.PENDING:
        return delivery.status
    order = delivery.order
    secret = unseal(order.callback_secret_sealed, context=f"dispatch-callback:{order.pk}")
    body = fulfilment.encode(delivery.event)
    headers = {
        "Content-Type": "application/json",
        fulfilment.SIGNATURE_HEADER: hmac_signature.sign(body, secret),
        "X-GeraOS-Delivery": str(delivery.pk),
    }
    try:
        status, _, _ = fulfilment.HttpTransport().post(
            order.callback_url, headers=headers, body=body
        )
        outcome = f"HTTP {status}"
    except (fulfilment.ProviderUnavailable, fulfilment.ProviderDeclined) as error:
        status, outcome = 0, str(error)
    recorded = _record(delivery.pk, delivered=200 <= status < 300, outcome=outcome, final=final)
    if recorded == CallbackDelivery.Status.PENDING:
        raise NotDelivered(outcome)  # the task retries it later
    return recorded


@transaction.atomic
def _record(delivery_id, *, delivered: bool, outcome: str, final: bool) -> str:
    delivery = CallbackDelivery.objects.select_for_update().get(pk=delivery_id)
    delivery.attempts += 1
    delivery.last_response = outcome[:200]
    if delivered:
        delivery.status = CallbackDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
    elif final:
        delivery.status = CallbackDelivery.Status.GAVE_UP
    delivery.save()
    return delivery.status
