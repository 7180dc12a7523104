"""Payments writes. Quotes first: the local amount the user sees and the home-currency
amount the business settles, tied together by one signature."""

import datetime as dt
from decimal import Decimal

from babel.numbers import get_territory_currencies
from django.conf import settings
from django.utils import timezone
from djmoney.contrib.exchange.exceptions import MissingRate
from djmoney.contrib.exchange.models import ExchangeBackend, get_rate
from djmoney.money import Money

from apps.core.errors import ApplicationError
from apps.core.money import round_to_minor_units
from apps.payments import fx, routing
from apps.payments.errors import RateUnavailable
from apps.payments.models import Quote, Rail
from apps.trust import services as trust_services

QUOTE_TYPE = "geraos-quote+jws"


def _rate(source: str, target: str) -> Decimal:
    try:
        return Decimal(get_rate(source, target, backend=fx.BACKEND_NAME))
    except MissingRate as exc:
        raise RateUnavailable(f"No exchange rate from {source} to {target}.") from exc


def local_currency_for(*, user, rail: Rail) -> str:
    """The currency the user sees: the rail's own, or for multi-currency rails the user's
    preference, else their country's, else the home currency."""
    if len(rail.currencies) == 1:
        return rail.currencies[0]
    country = user.country.code
    candidates = [user.preferred_currency]
    if country:
        candidates += get_territory_currencies(country, tender=True)
    for currency in filter(None, candidates):
        if not rail.currencies or currency in rail.currencies:
            return currency
    return settings.GERAOS_HOME_CURRENCY


def quote_create(*, user, amount: Money) -> Quote:
    home = settings.GERAOS_HOME_CURRENCY
    try:
        to_home = _rate(str(amount.currency), home)
    except RateUnavailable as exc:
        raise ApplicationError(
            f"Quotes in {amount.currency} are not offered.", code="unsupported_currency", status=422
        ) from exc
    home_amount = Money(round_to_minor_units(amount.amount * to_home, home), home)
    decision = routing.choose_rail(country=user.country.code, amount=home_amount)
    rail = decision.rail
    routing.check_rail_limits(rail, home_amount)
    local = local_currency_for(user=user, rail=rail)
    rate = _rate(home, local)
    local_amount = Money(round_to_minor_units(home_amount.amount * rate, local), local)
    fee = home_amount.amount * Decimal(rail.fee_percent) / 100 + rail.fee_fixed.amount
    fees = Money(round_to_minor_units(fee, home), home)
    now = timezone.now()
    quote = Quote(
        user=user,
        rail=rail,
        requested=amount,
        local_amount=local_amount,
        settlement_amount=home_amount - fees,
        fees=fees,
        rate=rate,
        rate_at=ExchangeBackend.objects.get(name=fx.BACKEND_NAME).last_update,
        routing_reason=decision.reason,
        expires_at=now + dt.timedelta(seconds=settings.GERAOS_QUOTE_TTL_SECONDS),
    )
    quote.jws = trust_services.sign_document(payload=quote_document(quote), typ=QUOTE_TYPE)
    quote.save()
    return quote


def _money(value: Money) -> dict:
    return {"amount": str(value.amount), "currency": str(value.currency)}


def quote_document(quote: Quote) -> dict:
    """What the quote's signature covers."""
    return {
        "quote_id": str(quote.id),
        "subject": trust_services.user_pseudonym(quote.user_id),
        "rail": quote.rail.code,
        "requested": _money(quote.requested),
        "local": _money(quote.local_amount),
        "settlement": _money(quote.settlement_amount),
        "fees": _money(quote.fees),
        "rate": str(quote.rate),
        "rate_at": quote.rate_at.isoformat(),
        "expires_at": quote.expires_at.isoformat(),
    }
