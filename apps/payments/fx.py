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
from djmoney.contrib.exchange.models import ExchangeBackend

from apps.core.errors import ApplicationError

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
