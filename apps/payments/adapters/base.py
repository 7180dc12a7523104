from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class WebhookRejected(Exception):
    """A notification that is not from the rail, or not one we can read."""


@dataclass(frozen=True)
class ProviderResult:
    """What a rail says about a payment (or a refund) after a call or in a webhook.

    `status` is one of Payment.Status's values (or succeeded/failed for refunds).
    """

    status: str
    provider_reference: str = ""
    next_action: dict | None = None
    confirmation_id: str = ""
    confirmation_verified: bool = False
    failure_code: str = ""
    captured_minor: int | None = None
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookNotice:
    event_id: str
    provider_reference: str
    result: ProviderResult


@dataclass(frozen=True)
class PayerAccount:
    """What a rail must know of the payer up front (the phone an STK prompt goes to)."""

    description: str
    pattern: str


class RailAdapter(Protocol):
    code: str
    payer_account: PayerAccount | None  # None: the rail asks the payer itself

    def authorize(self, payment, *, idempotency_key: str) -> ProviderResult: ...

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult: ...

    def void(self, payment, *, idempotency_key: str) -> ProviderResult: ...

    def refund(self, payment, amount: Decimal, *, idempotency_key: str) -> ProviderResult: ...

    def status(self, payment) -> ProviderResult: ...

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice: ...
