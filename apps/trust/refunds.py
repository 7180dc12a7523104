"""How trust asks for money back without depending on payments.

The payments app registers its refund service here in its AppConfig.ready(); until one is
registered, resolving a dispute as "refunded" is refused rather than recorded falsely.
"""

from collections.abc import Callable

from apps.core.errors import ApplicationError

# receipt -> the provider's refund reference
RefundHandler = Callable[..., str]
_handler: RefundHandler | None = None


class RefundUnavailable(ApplicationError):
    code = "refund_unavailable"
    status = 503


def register_refund_handler(handler: RefundHandler | None) -> None:
    global _handler  # one process-wide registration, made at startup
    _handler = handler


def request_refund(*, receipt, reason: str) -> str:
    if _handler is None:
        raise RefundUnavailable("No payments service is registered to refund this receipt.")
    return _handler(receipt=receipt, reason=reason)
