"""Money helpers shared by every app."""

from decimal import ROUND_HALF_UP, Decimal

from moneyed import CURRENCIES, get_currency


def round_to_minor_units(amount: Decimal, currency: str) -> Decimal:
    """Round as the currency's smallest unit requires (JPY 0 decimals, KES 2, BHD 3)."""
    places = len(str(get_currency(currency).sub_unit)) - 1
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money_document(value) -> dict:
    """A Money value as signed documents and the API carry it: a decimal string in the
    currency's minor-unit precision, and the ISO code."""
    currency = str(value.currency)
    return {"amount": str(round_to_minor_units(value.amount, currency)), "currency": currency}


# ISO 4217's code for "no currency" (py-moneyed lists it): nothing can be priced in it.
NO_CURRENCY = CURRENCIES["XXX"]

# Every ISO 4217 currency (py-moneyed's list), for what a person or an agent may name: a
# price asked in one, the currency a user prefers to see. Money GeraOS keeps is limited
# to settings.CURRENCY_CHOICES; a currency without an exchange rate is refused or passed
# over where it is used.
ISO_CURRENCY_CHOICES = [
    (code, f"{code} ({currency.name})")
    for code, currency in sorted(CURRENCIES.items())
    if currency != NO_CURRENCY
]
ISO_CURRENCY_CODES = frozenset(code for code, _ in ISO_CURRENCY_CHOICES)
