"""Payments reads."""

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from djmoney.money import Money

from apps.core.dashboard import bar_chart, since, trend
from apps.core.errors import ApplicationError
from apps.core.money import round_to_minor_units
from apps.payments import fx, routing
from apps.payments.models import Payment, ProviderEvent, Quote, Rail, Refund
from apps.trust.refunds import RefundMade

FINISHED = [Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED]


def payment_get_for_user(*, user, payment_id, grant_id=None) -> Payment | None:
    """The user's own payment with its refunds, or None (another's looks like none); with
    `grant_id`, only one that grant's agent made."""
    payments = Payment.objects.select_related("rail").prefetch_related("refunds")
    if grant_id:
        payments = payments.filter(grant_id=grant_id)
    return payments.filter(user=user, pk=payment_id).first()


# A payment pending or awaiting its payer this long missed a rail's answer: ask the rail.
STUCK_AFTER = dt.timedelta(minutes=10)


def payments_needing_reconciliation() -> QuerySet:  # of payment ids
    cutoff = timezone.now() - STUCK_AFTER
    return Payment.objects.filter(
        status__in=[Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION], updated_at__lt=cutoff
    ).values_list("pk", flat=True)


def payments_captured_late_unrefunded() -> QuerySet:  # of payment ids
    """Payers who approved after their payment was cancelled, whose refund was never made
    (its task gave up before asking the rail): a refund owed, not a sale."""
    cutoff = timezone.now() - STUCK_AFTER
    owed = Payment.objects.filter(
        status=Payment.Status.CAPTURED,
        events__to_status=Payment.Status.CAPTURED,
        events__data__late=True,
        updated_at__lt=cutoff,
    ).exclude(refunds__status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED])
    return owed.values_list("pk", flat=True).distinct()


def payment_get(*, payment_id) -> Payment:
    return Payment.objects.select_related("rail").get(pk=payment_id)


# Where no money of the payer's is held any more (or only what a refund owes back).
RELEASED = frozenset(
    {
        Payment.Status.VOIDED,
        Payment.Status.FAILED,
        Payment.Status.REFUNDED,
        Payment.Status.PARTIALLY_REFUNDED,
    }
)


def payment_released(payment: Payment) -> bool:
    """The rail let the payer's money go, or a refund of it is on its way."""
    return payment.status in RELEASED or payment_refund_waiting(payment_id=payment.pk)


def payment_refund_waiting(*, payment_id) -> bool:
    """A refund the rail or an operator (in the rail's back office) has yet to make. One
    whose sending broke off is not waiting: the next refund of the payment sends it again."""
    return Refund.objects.filter(
        payment_id=payment_id,
        status=Refund.Status.PENDING,
        send_started_at__isnull=True,
        send_interrupted_at__isnull=True,
    ).exists()


def payment_refunds_made(*, payment_id) -> list[RefundMade]:
    """The payment's succeeded refunds in the order they succeeded, as receipts record them."""
    succeeded = Refund.objects.filter(payment_id=payment_id, status=Refund.Status.SUCCEEDED)
    in_turn = succeeded.select_related("payment").order_by("refunded_total", "created_at")
    return [refund_made(refund) for refund in in_turn]


def refund_made(refund: Refund) -> RefundMade:
    """A succeeded refund as receipts record it, with what was refunded once it succeeded."""
    return RefundMade(
        refund_id=str(refund.pk),
        reference=refund.provider_reference,
        amount=refund.amount,
        refunded_total=refund.refunded_total,
        in_full=refund.refunded_total >= refund.payment.captured_amount,
    )


def rail_code_for(*, country: str, price: Money) -> str | None:
    """The rail a payment of `price` from `country` would take now (limits included), or
    None where no enabled rail would take it or the price's currency has no rate."""
    try:
        home = settings.GERAOS_HOME_CURRENCY  # routing's ranges are written in it
        home_amount = fx.convert(price, home)
        rail = routing.choose_rail(
            country=country, amount=home_amount, currency=str(price.currency)
        ).rail
        routing.check_rail_limits(rail, home_amount)
    except ApplicationError:
        return None
    return rail.code


def quote_unpayable(quote: Quote) -> tuple[str, str] | None:
    """Why a quote can no longer be paid, as (code, reason), or None: it expired, or the
    rail it was priced on was switched off since."""
    if quote.expires_at <= timezone.now():
        return "quote_expired", "the quote has expired"
    if not quote.rail.enabled:
        return "rail_disabled", f"{quote.rail.name} was switched off after the quote was made"
    return None


def quote_get_for_user(*, user, quote_id) -> Quote | None:
    return Quote.objects.filter(user=user, pk=quote_id).first()


def _captured_in(period) -> QuerySet[Payment]:
    """Payments made in the period whose money was captured (refunded since or not): by
    when they were made, as the changelist a card links to filters them."""
    return Payment.objects.filter(period.contains("created_at"), status__in=FINISHED)


def _captured_list(period, **filters) -> str:
    query = urlencode({"status__in": ",".join(FINISHED), **filters})
    return f"/admin/payments/payment/?{query}&{since(period)}"


def _home_total(payments: QuerySet[Payment], field: str) -> Decimal:
    return payments.aggregate(total=Sum(field))["total"] or Decimal(0)


def _refunded_home_in(period) -> Decimal:
    """Refunds asked for in the period and made, in the home currency at each payment's
    own rate."""
    refunds = Refund.objects.filter(period.contains("created_at"), status=Refund.Status.SUCCEEDED)
    total = refunds.aggregate(total=Sum(F("amount") / F("payment__rate")))["total"]
    return round_to_minor_units(total or Decimal(0), settings.GERAOS_HOME_CURRENCY)


def money_summary(period) -> dict[str, Decimal]:
    """Home-currency money over the period: captured (what payers paid), refunded, and
    net settled (what the business keeps after fees and refunds)."""
    captured = _captured_in(period)
    refunded = _refunded_home_in(period)
    settled = _home_total(captured, "settled_amount")
    return {
        "captured": settled + _home_total(captured, "quote__fees"),
        "refunded": refunded,
        "net": settled - refunded,
    }


def money_kpis(period) -> list[dict]:
    """Dashboard cards: money captured, refunded and settled over the period, each against
    the period before, with the day-by-day captured volume."""
    now, before = money_summary(period), money_summary(period.previous())
    links = {
        "captured": _captured_list(period),
        "refunded": f"/admin/payments/refund/?status__exact=succeeded&{since(period)}",
        "net": f"/admin/payments/payment/?{since(period)}",
    }
    titles = {"captured": "Captured", "refunded": "Refunded", "net": "Net settled"}
    cards = [
        {
            "title": f"{titles[name]}, {period.label}",
            "value": str(Money(now[name], settings.GERAOS_HOME_CURRENCY)),
            "trend": trend(now[name], before[name]),
            "link": links[name],
        }
        for name in titles
    ]
    cards[0]["chart"] = _captured_by_day(period)
    return cards


def _captured_by_day(period) -> str:
    by_day = dict(
        _captured_in(period)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(total=Sum("settled_amount") + Sum("quote__fees"))
        .order_by()
    )
    days = period.days()
    return bar_chart("Captured", days, [by_day.get(day, Decimal(0)) for day in days])


def rail_summary(period) -> list[dict]:
    """Per rail over the period: payments started and captured, the money captured in the
    rail's own currencies, and the failure rate."""
    in_period = period.contains("payments__created_at")
    rows = Rail.objects.annotate(
        started=Count("payments", filter=in_period),
        captured=Count("payments", filter=in_period & Q(payments__status__in=FINISHED)),
        failed=Count("payments", filter=in_period & Q(payments__status=Payment.Status.FAILED)),
    ).order_by("name")
    local = _captured_local_by_rail(period)
    return [
        {
            "rail": rail,
            "started": rail.started,
            "captured": rail.captured,
            "local": local.get(rail.pk, []),
            "failure_rate": (rail.failed / rail.started) if rail.started else 0.0,
        }
        for rail in rows
    ]


def _captured_local_by_rail(period) -> dict[int, list[Money]]:
    totals: dict[int, list[Money]] = {}
    rows = (
        _captured_in(period)
        .values_list("rail_id", "local_amount_currency")
        .annotate(total=Sum("local_amount"))
        .order_by("rail_id", "local_amount_currency")
    )
    for rail_id, currency, total in rows:
        totals.setdefault(rail_id, []).append(Money(total, currency))
    return totals


# A held notice its payment has not claimed in this long names no payment of ours: money
# a rail may have taken that nothing records (a second prompt approved, say).
UNMATCHED_AFTER = dt.timedelta(hours=1)


def notices_unmatched() -> QuerySet[ProviderEvent]:
    return ProviderEvent.objects.filter(
        pending_result__isnull=False, received_at__lt=timezone.now() - UNMATCHED_AFTER
    )


def payments_amount_mismatched() -> QuerySet[Payment]:
    """Payments a rail confirmed for another amount: never settled, for an operator."""
    return Payment.objects.filter(failure_code="amount_mismatch")


def refunds_failed_outstanding() -> QuerySet[Refund]:
    """Refunds the rail failed on payments not refunded since: money owed back that no
    refund is on its way for (a Stripe refund pending, then failed, for instance)."""
    return Refund.objects.filter(status=Refund.Status.FAILED).exclude(
        payment__status=Payment.Status.REFUNDED
    )


# Rails keep an idempotency key for a day (Stripe: 24 hours); sent again later, the same
# key could make a second refund, so services resend only younger unanswered refunds.
REFUND_RESEND_WITHIN = dt.timedelta(hours=23)


def refunds_unanswered_too_long() -> QuerySet[Refund]:
    """Sent, never answered, and too old to send again with the same key: an operator
    must ask the rail what became of them."""
    too_old = timezone.now() - REFUND_RESEND_WITHIN
    return Refund.objects.filter(status=Refund.Status.PENDING, created_at__lte=too_old).filter(
        Q(send_started_at__isnull=False) | Q(send_interrupted_at__isnull=False)
    )


def operator_kpis(period) -> list[dict]:
    """One dashboard card per rail: what it captured in its own currencies over the
    period, and its failure rate; each links to the rail's payments."""
    return [
        {
            "title": f"{row['rail'].name}{'' if row['rail'].enabled else ' (disabled)'}",
            "value": " + ".join(str(money) for money in row["local"]) or "nothing captured",
            "trend": f"{row['captured']} captured · {row['failure_rate']:.0%} failed",
            "link": _captured_list(period, rail__id__exact=row["rail"].pk),
        }
        for row in rail_summary(period)
    ]


def money_to_look_at_kpis(_period) -> list[dict]:
    """Dashboard cards for money only an operator can settle: what is outstanding now,
    whatever the period."""
    return [
        {
            "title": "Rail notices matching no payment",
            "value": notices_unmatched().count(),
            "link": "/admin/payments/providerevent/?held=unmatched",
        },
        {"title": "Confirmed for another amount", "value": payments_amount_mismatched().count()},
        {"title": "Failed refunds not made since", "value": refunds_failed_outstanding().count()},
        {"title": "Refunds unanswered too long", "value": refunds_unanswered_too_long().count()},
    ]


def sandbox_rail_names() -> list[str]:
    return list(Rail.objects.filter(sandbox=True).order_by("name").values_list("name", flat=True))


def sandbox_environment(request) -> list[str] | None:
    """unfold's environment label on every admin page while any rail takes sandbox money,
    so nobody mistakes a sandbox for the real thing (or the reverse)."""
    sandboxed = sandbox_rail_names()
    if not sandboxed:
        return None
    return [f"Sandbox: {', '.join(sandboxed)}", "warning"]
