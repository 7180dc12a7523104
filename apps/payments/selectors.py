"""Payments reads."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from djmoney.money import Money

from apps.core.errors import ApplicationError
from apps.payments import fx, routing
from apps.payments.models import Payment, ProviderEvent, Quote, Rail, Refund

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


@dataclass(frozen=True)
class RouteSimulation:
    home_amount: Money | None
    rail: Rail | None  # None: refused, see `problem`
    reason: str
    fallbacks: list[Rail]
    problem: str
    rules: list[routing.RuleConsidered]


def route_simulation(*, country: str, amount: Money) -> RouteSimulation:
    """Where a payment of `amount` from `country` would go now, and why: the rail and its
    fallbacks, the rules walked, and what refuses it (no rate, no rail, the rail's limits)."""
    try:
        home_amount = fx.convert(amount, settings.GERAOS_HOME_CURRENCY)
    except ApplicationError as error:
        return RouteSimulation(None, None, "", [], error.message, [])
    currency = str(amount.currency)
    rules = routing.rules_considered(country=country, amount=home_amount, currency=currency)
    try:
        decision = routing.choose_rail(country=country, amount=home_amount, currency=currency)
    except ApplicationError as error:
        return RouteSimulation(home_amount, None, "", [], error.message, rules)
    try:
        routing.check_rail_limits(decision.rail, home_amount)
        problem = ""
    except ApplicationError as error:
        problem = error.message
    return RouteSimulation(
        home_amount, decision.rail, decision.reason, decision.fallbacks, problem, rules
    )


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


def rail_summary(*, days: int = 7) -> list[dict]:
    """Per rail over the last `days`: payments started, captured, and the failure rate."""
    since = timezone.now() - dt.timedelta(days=days)
    recent = Q(payments__created_at__gte=since)
    rows = Rail.objects.annotate(
        started=Count("payments", filter=recent),
        captured=Count("payments", filter=recent & Q(payments__status__in=FINISHED)),
        failed=Count("payments", filter=recent & Q(payments__status=Payment.Status.FAILED)),
    ).order_by("name")
    return [
        {
            "rail": rail.name,
            "enabled": rail.enabled,
            "started": rail.started,
            "captured": rail.captured,
            "failure_rate": (rail.failed / rail.started) if rail.started else 0.0,
        }
        for rail in rows
    ]


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


def operator_kpis() -> list[dict]:
    """One dashboard card per rail: last week's captured payments and failure rate."""
    return [
        {
            "title": f"{row['rail']}{'' if row['enabled'] else ' (disabled)'}",
            "value": f"{row['captured']} captured · {row['failure_rate']:.0%} failed",
        }
        for row in rail_summary()
    ]


def money_to_look_at_kpis() -> list[dict]:
    """Dashboard cards for money only an operator can settle."""
    return [
        {"title": "Rail notices matching no payment", "value": notices_unmatched().count()},
        {"title": "Confirmed for another amount", "value": payments_amount_mismatched().count()},
        {"title": "Failed refunds not made since", "value": refunds_failed_outstanding().count()},
        {"title": "Refunds unanswered too long", "value": refunds_unanswered_too_long().count()},
    ]


def sandbox_environment(request) -> list[str] | None:
    """unfold's environment label on every admin page while any rail takes sandbox money,
    so nobody mistakes a sandbox for the real thing (or the reverse)."""
    sandboxed = list(
        Rail.objects.filter(sandbox=True).order_by("name").values_list("name", flat=True)
    )
    if not sandboxed:
        return None
    return [f"Sandbox: {', '.join(sandboxed)}", "warning"]
