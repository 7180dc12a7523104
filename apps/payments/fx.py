"""Exchange rates, through django-money's exchange tables.

Operators refresh them from GERAOS_FX_SOURCE (a JSON file path or an https URL giving
`{"base": "GBP", "rates": {"KES": "164.20", …}}`) with `manage.py import_fx_rates` or the
hourly beat task. Rates are stored as local units per one base (home) unit.
"""

import json
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from djmoney.contrib.exchange.backends.base import BaseExchangeBackend
from djmoney.contrib.exchange.exceptions import MissingRate
from djmoney.contrib.exchange.models import ExchangeBackend, get_rate
from djmoney.money import Money

from apps.core.errors import ApplicationError
from apps.core.money import round_to_minor_units
from apps.payments.errors import RateUnavailable

BACKEND_NAME = "geraos"


class RatesSourceBackend(BaseExchangeBackend):
    name = BACKEND_NAME

    def __init__(self, source: str | None = None) -> None:
        self.source = source or settings.GERAOS_FX_SOURCE
        self.url = self.source

    def get_rates(self, **params) -> dict[str, Decimal]:
        if self.source.startswith("https://"):
            document = self.parse_json(self.get_response())
        else:
            document = json.loads(Path(self.source).read_text(), parse_float=Decimal)
        if document.get("base") != params["base_currency"]:
            raise ApplicationError(
                f"Rates are based on {document.get('base')}, not {params['base_currency']}.",
                code="fx_source_invalid",
            )
        return {currency: Decimal(str(value)) for currency, value in document["rates"].items()}


def import_rates(source: str | None = None) -> int:
    backend = RatesSourceBackend(source)
    backend.update_rates(base_currency=settings.GERAOS_HOME_CURRENCY)
    return ExchangeBackend.objects.get(name=BACKEND_NAME).rates.count()


def rate(source: str, target: str) -> Decimal:
    """Units of `target` per unit of `source`, from the last imported rates."""
    try:
        return Decimal(get_rate(source, target, backend=BACKEND_NAME))
    except MissingRate as exc:
        raise RateUnavailable(f"No exchange rate from {source} to {target}.") from exc


def convert(amount: Money, currency: str) -> Money:
    """`amount` in `currency`, rounded to that currency's minor units: how GeraOS prices
    every amount it compares or charges in another currency."""
    value = amount.amount * rate(str(amount.currency), currency)
    return Money(round_to_minor_units(value, currency), currency)
