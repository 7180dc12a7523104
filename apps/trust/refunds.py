"""How trust asks for money back, and hears of refunds, without depending on payments.

The payments app registers its refund service here in its AppConfig.ready(); until one is
registered, resolving a dispute as "refunded" is refused rather than recorded falsely.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from djmoney.money import Money

from apps.core.errors import ApplicationError
from apps.core.money import money_document


@dataclass(frozen=True)
class RefundMade:
    """A refund the rail made, as a receipt records it: which refund (its id names it once
    across every receipt), the rail's reference, this refund's amount and the total refunded
    with it, in the payment's local currency."""

    refund_id: str
    reference: str
    amount: Money
    refunded_total: Money
    in_full: bool

    def document(self) -> dict:
        return {
            "id": self.refund_id,
            "amount": money_document(self.amount),
            "refunded_total": money_document(self.refunded_total),
        }


# (receipt, reason, amount, request, requested_for) -> the refund made
RefundHandler = Callable[..., RefundMade]
_handler: RefundHandler | None = None


class RefundUnavailable(ApplicationError):
    code = "refund_unavailable"
    status = 503


def register_refund_handler(handler: RefundHandler | None) -> None:
    global _handler  # one process-wide registration, made at startup
    _handler = handler


def request_refund(
    *, receipt, reason: str, requested_for: str, amount: Decimal | None = None, request=None
) -> RefundMade:
    """Refund `amount` (local currency; by default all that is left) of what `receipt`
    records, for `requested_for` (asked again for it, the same refund answers);
    `request` is the operator's, for the audit log."""
    if _handler is None:
        raise RefundUnavailable("No payments service is registered to refund this receipt.")
    return _handler(
        receipt=receipt,
        reason=reason,
        amount=amount,
        request=request,
        requested_for=requested_for,
    )
