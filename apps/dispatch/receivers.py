"""Lower apps move on their own and tell dispatch by signal, after their commit: a
payment settles (a rail's webhook, a sandbox approval) or is refunded, a dispute is opened
or decided."""

from apps.dispatch import services
from apps.dispatch.models import DispatchOrder
from apps.payments.models import Payment


def carry_on_waiting_order(sender, *, payment_id, status, **kwargs) -> None:
    from apps.dispatch.tasks import sync_payment

    waiting = DispatchOrder.objects.filter(
        payment_id=payment_id, status=DispatchOrder.Status.AUTHORIZING
    ).values_list("pk", flat=True)
    for order_id in waiting:
        sync_payment.delay(str(order_id))


def follow_refund(sender, *, payment_id, status, **kwargs) -> None:
    from apps.dispatch.tasks import follow_refunds

    if status not in {Payment.Status.REFUNDED, Payment.Status.PARTIALLY_REFUNDED}:
        return
    refunded = DispatchOrder.objects.filter(
        payment_id=payment_id, status__in=services.FOLLOWS_REFUNDS
    ).values_list("pk", flat=True)
    for order_id in refunded:
        follow_refunds.delay(str(order_id))


def follow_dispute(sender, *, receipt_id, dispute_id, status, **kwargs) -> None:
    services.order_follow_dispute(receipt_id=receipt_id, dispute_id=dispute_id, status=status)
