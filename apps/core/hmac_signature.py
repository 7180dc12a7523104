"""Timestamped HMAC-SHA256 signatures for HTTP bodies, in the familiar
`t=<unix seconds>,v1=<hex>` form over "<t>.<body>": GeraOS signs its requests to
providers and its callbacks to agents with it, and providers sign their answers."""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


class BadSignature(ValueError):
    pass


def sign(body: bytes, secret: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(body, secret, timestamp)}"


def verify(header: str, body: bytes, secret: bytes, *, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise BadSignature unless `header` signs `body` with `secret`, within the tolerance
    either side of now (a replayed or pre-dated message is refused alike)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError) as exc:
        raise BadSignature("malformed signature header") from exc
    # In integers: a float of a timestamp with hundreds of digits overflows.
    if abs(int(time.time()) - timestamp) > tolerance:
        raise BadSignature(f"timestamp outside the {tolerance} s tolerance")
    if not digests_match(_digest(body, secret, timestamp), given):
        raise BadSignature("signature does not match")


def digests_match(expected: str, received: str) -> bool:
    """Constant-time check of a signature from a request, which may hold any characters
    (hmac.compare_digest refuses non-ASCII text)."""
    return hmac.compare_digest(expected.encode(), received.encode(errors="replace"))


def _digest(body: bytes, secret: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
