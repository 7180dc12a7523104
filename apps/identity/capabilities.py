"""What identity knows of skill capabilities, without depending on the catalogue.

The consent page shows what an agent asks to do in words and says which capabilities
the user's plan does not include. The catalog app registers its lookup here in its
AppConfig.ready(); until one is registered, every capability is unknown, so none is
granted.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Capability:
    code: str
    title: str
    # An identity Feature the user's plan must include; empty: any plan.
    required_feature: str = ""


CapabilityLookup = Callable[[list[str]], dict[str, Capability]]
_lookup: CapabilityLookup | None = None


def register_capability_lookup(lookup: CapabilityLookup | None) -> None:
    global _lookup  # one process-wide registration, made at startup
    _lookup = lookup


def capabilities_named(codes: Iterable[str]) -> dict[str, Capability]:
    """The capabilities among `codes` that some product offers, by code."""
    codes = list(codes)
    if _lookup is None or not codes:
        return {}
    return _lookup(codes)
