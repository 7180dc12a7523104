"""Payments moves on its own (a rail's webhook, a sandbox approval); an order waiting on
its payment is carried on as soon as that move is committed."""

from apps.dispatch.models import DispatchOrder


def carry_on_waiting_order(sender, *, payment_id, status, **kwargs) -> None:
    from apps.dispatch.tasks import sync_payment

    waiting = DispatchOrder.objects.filter(
        payment_id=payment_id, status=DispatchOrder.Status.AUTHORIZING
    ).values_list("pk", flat=True)
    for order_id in waiting:
        sync_payment.delay(str(order_id))
