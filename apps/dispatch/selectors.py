"""Dispatch reads: skills with the rails that would take payment, a user's orders, the
orders stuck in the pipeline, the agent callbacks whose delivery was lost, and the operator
dashboard's numbers."""

import datetime as dt
import statistics

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from djmoney.money import Money

from apps.catalog.models import Skill
from apps.core.dashboard import since
from apps.dispatch.models import AT_REST, DISPUTABLE, FINISHED, CallbackDelivery, DispatchOrder
from apps.payments import selectors as payment_selectors
from apps.payments.models import Payment


def rails_for_skill(skill: Skill, *, decided: dict | None = None) -> dict[str, str]:
    """Country -> the rail routing would choose there for the skill's starting price.

    `decided` carries decisions across the skills of one listing, so skills with the same
    price and countries cost one routing query per country, not one per skill.
    """
    decided = {} if decided is None else decided
    price = Money(skill.price_from.amount, skill.price_from.currency)
    rails = {}
    for country in skill.countries:
        if (country, price) not in decided:
            decided[(country, price)] = payment_selectors.rail_code_for(
                country=country, price=price
            )
        if decided[(country, price)]:
            rails[country] = decided[(country, price)]
    return rails


def _orders():
    return DispatchOrder.objects.select_related(
        "skill__product", "provider", "quote__rail", "payment", "receipt", "grant"
    ).prefetch_related("transitions")


def dispatch_get_for_user(*, user, order_id, grant_id=None) -> DispatchOrder | None:
    """The user's own order, or None (another's looks like none); with `grant_id`, only
    if it was dispatched under that grant."""
    orders = _orders().filter(user=user, pk=order_id)
    if grant_id:
        orders = orders.filter(grant_id=grant_id)
    return orders.first()


def dispatch_list_for_user(
    *, user, status: str = "", grant_id=None, limit: int = 50
) -> list[DispatchOrder]:
    orders = _orders().filter(user=user)
    if status:
        orders = orders.filter(status=status)
    if grant_id:
        orders = orders.filter(grant_id=grant_id)
    return list(orders[:limit])


STUCK_AFTER = dt.timedelta(minutes=2)


def orders_stuck(*, older_than: dt.timedelta = STUCK_AFTER) -> QuerySet[DispatchOrder]:
    """Orders nobody has moved for a while: unfinished ones, and finished ones without
    their receipt (the worker died between the last move and the receipt)."""
    cutoff = timezone.now() - older_than
    unfinished = [s for s in DispatchOrder.Status if s not in FINISHED | AT_REST]
    return DispatchOrder.objects.filter(
        Q(status__in=unfinished) | Q(status__in=FINISHED, receipt__isnull=True),
        updated_at__lt=cutoff,
    ).order_by("updated_at")


def orders_behind_their_refunds(
    *, older_than: dt.timedelta = STUCK_AFTER
) -> QuerySet[DispatchOrder]:
    """Orders whose payment was refunded since, with no sign of it on the order after a
    while (the news of it, dispatch.follow_refunds, was lost or gave up)."""
    cutoff = timezone.now() - older_than
    refunded = [Payment.Status.REFUNDED, Payment.Status.PARTIALLY_REFUNDED]
    Status = DispatchOrder.Status
    return DispatchOrder.objects.filter(
        Q(status__in=[Status.COMPLETED, Status.RESOLVED_UPHELD], payment__status__in=refunded)
        | Q(status=Status.PARTIALLY_REFUNDED, payment__status=Payment.Status.REFUNDED),
        receipt__isnull=False,
        updated_at__lt=cutoff,
    ).order_by("updated_at")


# A delivery's own attempts are never this far apart (the backoff's longest pause, 300 s,
# and a POST's 10 s timeout): one untouched for longer has lost its task.
CALLBACK_LOST_AFTER = dt.timedelta(minutes=10)


def callbacks_lost(*, older_than: dt.timedelta = CALLBACK_LOST_AFTER) -> QuerySet[CallbackDelivery]:
    """Callback deliveries still pending that nobody attempted for a while: their task was
    lost (never queued while the broker was down, its worker killed, or a blink outlasted
    its retries)."""
    cutoff = timezone.now() - older_than
    return CallbackDelivery.objects.filter(
        status=CallbackDelivery.Status.PENDING, updated_at__lt=cutoff
    ).order_by("updated_at")


def operator_kpis(period) -> list[dict]:
    """Dashboard cards: the period's dispatches, how many completed, how long an intent
    took to become a receipt, and the orders stuck now."""
    orders = DispatchOrder.objects.filter(period.contains("created_at"))
    counts = dict(orders.values_list("status").annotate(n=Count("pk")).order_by())
    finished = sum(counts.get(status, 0) for status in FINISHED | AT_REST)
    completed = sum(counts.get(status, 0) for status in DISPUTABLE)  # took money, did the work
    in_period, took_money = since(period), ",".join(sorted(DISPUTABLE))
    return [
        {
            "title": f"Dispatched, {period.label}",
            "value": sum(counts.values()),
            "link": f"/admin/dispatch/dispatchorder/?{in_period}",
        },
        {
            "title": "Completed",
            "value": f"{completed / finished:.0%}" if finished else "-",
            "trend": f"{completed} of {finished} finished",
            "link": f"/admin/dispatch/dispatchorder/?status__in={took_money}&{in_period}",
        },
        {"title": "Intent to receipt (median)", "value": _median_to_receipt(orders)},
        {
            "title": "Stuck now",
            "value": orders_stuck().count(),
            "link": "/admin/dispatch/dispatchorder/?stuck=yes",
        },
    ]


def _median_to_receipt(orders: QuerySet[DispatchOrder]) -> str:
    spans = [
        issued - created
        for created, issued in orders.filter(receipt__isnull=False).values_list(
            "created_at", "receipt__issued_at"
        )
    ]
    if not spans:
        return "-"
    seconds = statistics.median(span.total_seconds() for span in spans)
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
