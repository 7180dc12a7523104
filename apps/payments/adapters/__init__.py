"""One adapter per rail, all behind the RailAdapter interface (base.py)."""

import stripe
from django.conf import settings

from apps.payments.adapters.base import ProviderResult, RailAdapter
from apps.payments.adapters.idram import IdramAdapter
from apps.payments.adapters.mpesa import MpesaAdapter, MpesaError
from apps.payments.adapters.pix import PixAdapter, PixError
from apps.payments.adapters.stripe_card import IdealAdapter, StripeAdapter
from apps.payments.adapters.upi import UpiAdapter, UpiError
from apps.payments.errors import SandboxNotAllowed

ADAPTERS: dict[str, type[RailAdapter]] = {
    "stripe": StripeAdapter,
    "mpesa": MpesaAdapter,
    "pix": PixAdapter,
    "idram": IdramAdapter,
    "upi": UpiAdapter,
    "ideal": IdealAdapter,
}

# What a rail call raises when it got no answer to act on: worth asking again, with the
# same idempotency key.
RAIL_CALL_ERRORS = (
    OSError,
    stripe.APIConnectionError,
    stripe.APIError,
    stripe.RateLimitError,
    MpesaError,
    PixError,
    UpiError,
)

# A rail's definite "no" to a request (Stripe's 4xx): asking again, even with the same
# key, gets the same answer.
RAIL_REFUSALS = (stripe.InvalidRequestError, stripe.CardError)


def adapter_for(rail_code: str, *, sandbox: bool) -> RailAdapter:
    """The one place a sandbox adapter (simulated transports, published secrets) is made:
    refused where sandbox is not allowed, whatever process asks (web, worker, shell) and
    even for a rail switched to sandbox after the process started."""
    if sandbox and not settings.GERAOS_SANDBOX_ALLOWED:
        raise SandboxNotAllowed(
            f"The {rail_code} rail is in sandbox mode, which this deployment does not allow "
            "(GERAOS_SANDBOX_ALLOWED)."
        )
    try:
        return ADAPTERS[rail_code](sandbox=sandbox)
    except KeyError as exc:
        raise LookupError(f"No adapter for rail {rail_code!r}") from exc


__all__ = [
    "ADAPTERS",
    "RAIL_CALL_ERRORS",
    "RAIL_REFUSALS",
    "ProviderResult",
    "RailAdapter",
    "adapter_for",
]
