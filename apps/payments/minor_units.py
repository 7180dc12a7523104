"""Amounts in a currency's minor units (what Stripe and most rails speak). The one place
they are converted."""

from decimal import Decimal

from moneyed import get_currency

from apps.core.money import round_to_minor_units


def to_minor(amount: Decimal, currency: str) -> int:
    sub_unit = get_currency(currency.upper()).sub_unit
    return int(round_to_minor_units(amount, currency.upper()) * sub_unit)


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(value) / get_currency(currency.upper()).sub_unit
