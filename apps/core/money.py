"""Money helpers shared by every app."""

from decimal import ROUND_HALF_UP, Decimal

from moneyed import get_currency


def round_to_minor_units(amount: Decimal, currency: str) -> Decimal:
    """Round as the currency's smallest unit requires (JPY 0 decimals, KES 2, BHD 3)."""
    places = len(str(get_currency(currency).sub_unit)) - 1
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money_document(value) -> dict:
    """A Money value as signed documents and the API carry it: a decimal string in the
    currency's minor-unit precision, and the ISO code."""
    currency = str(value.currency)
    return {"amount": str(round_to_minor_units(value.amount, currency)), "currency": currency}
