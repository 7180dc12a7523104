"""One adapter per rail, all behind the RailAdapter interface (base.py)."""

from apps.payments.adapters.base import ProviderResult, RailAdapter
from apps.payments.adapters.idram import IdramAdapter
from apps.payments.adapters.mpesa import MpesaAdapter
from apps.payments.adapters.pix import PixAdapter
from apps.payments.adapters.stripe_card import IdealAdapter, StripeAdapter
from apps.payments.adapters.upi import UpiAdapter

ADAPTERS: dict[str, type[RailAdapter]] = {
    "stripe": StripeAdapter,
    "mpesa": MpesaAdapter,
    "pix": PixAdapter,
    "idram": IdramAdapter,
    "upi": UpiAdapter,
    "ideal": IdealAdapter,
}


def adapter_for(rail_code: str, *, sandbox: bool) -> RailAdapter:
    try:
        return ADAPTERS[rail_code](sandbox=sandbox)
    except KeyError as exc:
        raise LookupError(f"No adapter for rail {rail_code!r}") from exc


__all__ = ["ADAPTERS", "ProviderResult", "RailAdapter", "adapter_for"]
