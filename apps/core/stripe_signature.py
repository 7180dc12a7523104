"""A check Stripe's SDK leaves out: it rejects old Stripe-Signature timestamps but accepts
ones from the future. Both Stripe endpoints (billing, payments) call this first."""

import time

TOLERANCE_SECONDS = 300


class SkewedTimestamp(ValueError):
    pass


def reject_skewed_timestamp(signature_header: str, *, tolerance: int = TOLERANCE_SECONDS) -> None:
    fields = dict(part.split("=", 1) for part in signature_header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError) as exc:
        raise SkewedTimestamp("Stripe-Signature has no timestamp") from exc
    # In integers: a float of a timestamp with hundreds of digits overflows.
    if abs(int(time.time()) - timestamp) > tolerance:
        raise SkewedTimestamp(f"timestamp outside the {tolerance} s tolerance")
