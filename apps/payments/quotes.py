"""Quotes: the local amount the user sees and the home-currency amount the business
settles, tied together by one signature."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from babel.numbers import get_territory_currencies
from django.conf import settings
from django.utils import timezone
from djmoney.contrib.exchange.models import ExchangeBackend
from djmoney.money import Money

from apps.core.errors import ApplicationError
from apps.core.money import money_document, round_to_minor_units
from apps.payments import fx, routing
from apps.payments.errors import AmountOutOfRange, RateUnavailable, UnsupportedCurrency
from apps.payments.models import Quote, Rail
from apps.trust import jose
from apps.trust import services as trust_services


def local_currency_for(*, user, rail: Rail) -> str:
    """The currency the user sees: the rail's own, or for multi-currency rails the user's
    preference, else their country's, else the home currency. A currency we hold no
    exchange rate for is passed over."""
    if len(rail.currencies) == 1:
        return rail.currencies[0]
    country = user.country.code
    candidates = [user.preferred_currency]
    if country:
        candidates += get_territory_currencies(country, tender=True)
    for currency in filter(None, candidates):
        if (not rail.currencies or currency in rail.currencies) and _has_rate(currency):
            return currency
    return settings.GERAOS_HOME_CURRENCY


def _has_rate(currency: str) -> bool:
    try:
        fx.rate(settings.GERAOS_HOME_CURRENCY, currency)
    except RateUnavailable:
        return False
    return True


def quote_create(*, user, amount: Money) -> Quote:
    home = settings.GERAOS_HOME_CURRENCY
    requested = str(amount.currency)
    _require_minor_unit_precision(amount)
    try:
        home_amount = fx.convert(amount, home)
    except RateUnavailable as exc:
        raise UnsupportedCurrency(f"Quotes in {requested} are not offered.") from exc
    decision = routing.choose_rail(
        country=user.country.code, amount=home_amount, currency=requested
    )
    rail = decision.rail
    routing.check_rail_limits(rail, home_amount)
    local = local_currency_for(user=user, rail=rail)
    fees = _quote_fees(rail, home_amount)
    now = timezone.now()
    quote = Quote(
        user=user,
        rail=rail,
        requested=amount,
        local_amount=_local_amount(amount, local, whole_units=rail.whole_units),
        settlement_amount=home_amount - fees,
        fees=fees,
        rate=fx.rate(home, local),
        rate_at=ExchangeBackend.objects.get(name=fx.BACKEND_NAME).last_update,
        routing_reason=decision.reason,
        expires_at=now + dt.timedelta(seconds=settings.GERAOS_QUOTE_TTL_SECONDS),
    )
    quote.jws = trust_services.sign_document(payload=quote_document(quote), typ=jose.QUOTE_TYPE)
    quote.save()
    return quote


@dataclass(frozen=True)
class RouteSimulation:
    home_amount: Money | None
    rail: Rail | None  # None: refused, see `problem`
    reason: str
    fallbacks: list[Rail]
    problem: str
    rules: list[routing.RuleConsidered]


def route_simulation(*, country: str, amount: Money) -> RouteSimulation:
    """Where a quote for `amount` from `country` would be priced now, and why: the rail and
    its fallbacks, the rules walked, and what a quote would refuse (an amount finer than
    the currency's unit, no rate, no rail, the rail's limits, fees that leave nothing)."""
    try:
        _require_minor_unit_precision(amount)
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
        _quote_fees(decision.rail, home_amount)
        problem = ""
    except ApplicationError as error:
        problem = error.message
    return RouteSimulation(
        home_amount, decision.rail, decision.reason, decision.fallbacks, problem, rules
    )


def _require_minor_unit_precision(amount: Money) -> None:
    """The signed quote states the amount in the currency's minor units, so an amount
    finer than those would be priced as one amount and signed as another."""
    currency = str(amount.currency)
    if round_to_minor_units(amount.amount, currency) != amount.amount:
        message = f"{amount.amount} {currency} is finer than the currency's smallest unit."
        raise ApplicationError(
            message,
            code="amount_too_precise",
            status=400,
            fields={"amount": [{"code": "amount_too_precise", "message": message}]},
        )


def _local_amount(amount: Money, local: str, *, whole_units: bool) -> Money:
    """Priced from the amount asked for, not from its rounded home-currency value: in its
    own currency it is charged as asked."""
    value = fx.convert(amount, local).amount
    if whole_units:  # charged in whole units: round up, never charge less than quoted
        value = value.to_integral_value(rounding=ROUND_CEILING)
    return Money(value, local)


def _quote_fees(rail: Rail, home_amount: Money) -> Money:
    home = str(home_amount.currency)
    fee = home_amount.amount * Decimal(rail.fee_percent) / 100 + rail.fee_fixed.amount
    fees = Money(round_to_minor_units(fee, home), home)
    if fees >= home_amount:
        raise AmountOutOfRange(
            f"{rail.name}'s fees of {fees.amount} {home} leave nothing of {home_amount.amount}.",
            code="amount_below_minimum",
            extra={"rail": rail.code, "fees": str(fees.amount)},
        )
    return fees


def quote_document(quote: Quote) -> dict:
    """What the quote's signature covers."""
    return {
        "quote_id": str(quote.id),
        "subject": trust_services.user_pseudonym(quote.user_id),
        "rail": quote.rail.code,
        "requested": money_document(quote.requested),
        "local": money_document(quote.local_amount),
        "settlement": money_document(quote.settlement_amount),
        "fees": money_document(quote.fees),
        "rate": str(quote.rate),
        "rate_at": quote.rate_at.isoformat(),
        "expires_at": quote.expires_at.isoformat(),
    }
