"""Which rail takes a payment: operators' routing rules, rail status and rail limits.

`choose_rail(country, amount, currency)` walks the rules that match (a country's own rules
before catch-all ones, then by priority; a rule limited to a currency matches only
requests in it); for the first rule that matches, its rail is used if enabled, else its
fallback. The decision says why, so operators and agents can tell.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from djmoney.money import Money

from apps.core import audit
from apps.payments.errors import AmountOutOfRange, NoRailAvailable
from apps.payments.models import Rail, RoutingRule


@dataclass(frozen=True)
class RouteDecision:
    rail: Rail
    reason: str
    fallbacks: list[Rail] = field(default_factory=list)


def _matching_rules(country: str, amount: Money, currency: str) -> list[RoutingRule]:
    home = amount.amount
    rules = (
        RoutingRule.objects.select_related("rail", "fallback_rail")
        .filter(Q(country=country) | Q(country=""))
        .filter(Q(currency=currency) | Q(currency=""))
        .filter(Q(min_amount__isnull=True) | Q(min_amount__lte=home))
        .filter(Q(max_amount__isnull=True) | Q(max_amount__gte=home))
    )
    # A country's own rules come before the catch-all ones, then priority decides.
    return sorted(rules, key=lambda rule: (rule.country == "", rule.priority, rule.pk))


def choose_rail(*, country: str, amount: Money, currency: str = "") -> RouteDecision:
    """`amount` is in the home currency (the range rules are written in it); `currency` is
    the one the amount was asked in (empty: unknown, so only rules for any currency apply)."""
    for rule in _matching_rules(country.upper(), amount, currency.upper()):
        decision = _decide(rule, country)
        if decision is not None:
            return decision
    raise NoRailAvailable(
        f"No enabled payment rail serves {country or 'this country'} for {amount}.",
        extra={"country": country},
    )


@dataclass(frozen=True)
class RuleConsidered:
    rule: RoutingRule
    outcome: str


def rules_considered(*, country: str, amount: Money, currency: str = "") -> list[RuleConsidered]:
    """Every rule that matches, in the order choose_rail walks them, and what each did:
    what an operator simulating a route needs to see."""
    considered, decided = [], False
    for rule in _matching_rules(country.upper(), amount, currency.upper()):
        if decided:
            outcome = "Not reached: an earlier rule decided."
        else:
            decision = _decide(rule, country)
            decided = decision is not None
            outcome = decision.reason if decided else _passed_over(rule)
        considered.append(RuleConsidered(rule, outcome))
    return considered


def _decide(rule: RoutingRule, country: str) -> RouteDecision | None:
    where = f"country {country}" if rule.country else "any country"
    if rule.rail.enabled:
        fallbacks = [rule.fallback_rail] if rule.fallback_rail else []
        return RouteDecision(rule.rail, f"{rule.rail.name}: routing rule for {where}", fallbacks)
    if rule.fallback_rail and rule.fallback_rail.enabled:
        reason = f"{rule.rail.name} is disabled; fallback {rule.fallback_rail.name} for {where}"
        return RouteDecision(rule.fallback_rail, reason)
    return None


def _passed_over(rule: RoutingRule) -> str:
    fallback = rule.fallback_rail
    without = f"its fallback {fallback.name} is disabled too" if fallback else "it has no fallback"
    return f"Passed over: {rule.rail.name} is disabled and {without}."


def check_rail_limits(rail: Rail, home_amount: Money) -> None:
    """Refuse an amount (in the home currency) outside the rail's limits."""
    if home_amount.amount < Decimal(rail.min_amount):
        raise AmountOutOfRange(
            f"{rail.name} takes at least {rail.min_amount} {home_amount.currency}.",
            code="amount_below_minimum",
            extra={"rail": rail.code, "min_amount": str(rail.min_amount)},
        )
    if home_amount.amount > Decimal(rail.max_amount):
        raise AmountOutOfRange(
            f"{rail.name} takes at most {rail.max_amount} {home_amount.currency}.",
            code="amount_above_maximum",
            extra={"rail": rail.code, "max_amount": str(rail.max_amount)},
        )


@transaction.atomic
def rail_set_enabled(*, rail: Rail, enabled: bool, request, reason: str = "") -> None:
    """An operator switches a rail on or off: routing follows from the next payment (a
    disabled rail's rules fall back), and the audit event is written with the switch."""
    locked = Rail.objects.select_for_update().get(pk=rail.pk)
    was_enabled, locked.enabled = locked.enabled, enabled
    locked.save(update_fields=["enabled", "updated_at"])
    audit.record(
        request=request,
        action="payments.rail_enable" if enabled else "payments.rail_disable",
        obj=locked,
        changes={"enabled": (was_enabled, enabled)},
        reason=reason,
    )
