"""The built-in sandbox provider, behind the fulfilment transport: it checks GeraOS's
signature like a real provider must, books idempotently (the same Idempotency-Key gets
the same booking), and signs its answer. `Provider.sandbox_behaviour` makes it decline
or be down, so failures can be rehearsed."""

import hashlib
import hmac
import json

from apps.catalog.models import Provider
from apps.core import hmac_signature
from apps.dispatch.fulfilment import PROVIDER_SIGNATURE_HEADER, SIGNATURE_HEADER, encode


class SandboxTransport:
    def __init__(self, *, provider: Provider, secret: bytes):
        self.provider = provider
        self.secret = secret

    def post(self, url: str, *, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        try:
            hmac_signature.verify(headers.get(SIGNATURE_HEADER, ""), body, self.secret)
        except hmac_signature.BadSignature as error:
            return self._answer(401, {"status": "declined", "reason": f"bad signature: {error}"})
        behaviour = self.provider.sandbox_behaviour
        if behaviour == Provider.SandboxBehaviour.UNAVAILABLE:
            return 503, {}, b"service unavailable"
        if behaviour == Provider.SandboxBehaviour.DECLINE:
            return self._answer(200, {"status": "declined", "reason": "fully booked"})
        booking = json.loads(body)
        return self._answer(
            200,
            {
                "status": "confirmed",
                "booking_id": booking["booking_id"],
                "reference": self._reference(headers["Idempotency-Key"]),
                "scheduled_for": (booking.get("window") or {}).get("start", ""),
            },
        )

    def _reference(self, idempotency_key: str) -> str:
        digest = hmac.new(self.secret, idempotency_key.encode(), hashlib.sha256).hexdigest()
        return f"SBX-{digest[:10].upper()}"

    def _answer(self, status: int, answer: dict) -> tuple[int, dict, bytes]:
        body = encode(answer)
        return status, {PROVIDER_SIGNATURE_HEADER: hmac_signature.sign(body, self.secret)}, body
