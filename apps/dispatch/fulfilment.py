"""Asking a provider to do the work: one signed HTTP request, one signed answer.

GeraOS POSTs the booking as JSON with `X-GeraOS-Signature` (HMAC-SHA256 with the
provider's shared secret over "<t>.<body>") and an `Idempotency-Key` (the order id), so
a resent request books nothing twice. The provider answers 200 with
`{"status": "confirmed", "booking_id": <echoed>, "reference": …, "scheduled_for": …}` or
`{"status": "declined", "reason": …}`, signed the same way in `X-Provider-Signature`; an
answer whose signature does not verify is never taken as a confirmation.

Providers without an endpoint are served by the built-in sandbox (`sandbox_provider`),
which replaces only the transport: signing and verification run exactly as in production.
"""

import json
from dataclasses import dataclass
from typing import Protocol

from apps.core import hmac_signature
from apps.dispatch import outbound

SIGNATURE_HEADER = "X-GeraOS-Signature"
PROVIDER_SIGNATURE_HEADER = "X-Provider-Signature"


class ProviderUnavailable(Exception):
    """Worth retrying: the provider was unreachable, busy, or its answer unverifiable."""


class ProviderDeclined(Exception):
    """Final: the provider said no."""

    def __init__(self, reason: str, code: str = "provider_declined"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Booking:
    reference: str
    scheduled_for: str
    answer: dict
    signature: str

    def as_confirmation(self) -> dict:
        return {
            "reference": self.reference,
            "scheduled_for": self.scheduled_for,
            "provider_signature": self.signature,
            "verified": True,
        }


class Transport(Protocol):
    def post(self, url: str, *, headers: dict, body: bytes) -> tuple[int, dict, bytes]: ...


class HttpTransport:
    """The real transport: outbound's guarded POST, its failures in the provider's terms."""

    def post(self, url: str, *, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        try:
            return outbound.post(url, headers=headers, body=body)
        except outbound.Unreachable as error:
            raise ProviderUnavailable(f"provider {error}") from error
        except outbound.Refused as refusal:
            raise ProviderDeclined(str(refusal), code=refusal.code) from refusal


def encode(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def book(
    *, url: str, booking: dict, idempotency_key: str, secret: bytes, transport: Transport
) -> Booking:
    body = encode(booking)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        SIGNATURE_HEADER: hmac_signature.sign(body, secret),
    }
    status, response_headers, answer_body = transport.post(url, headers=headers, body=body)
    if status >= 500 or status in (408, 429):
        raise ProviderUnavailable(f"provider answered {status}")
    if 300 <= status < 400:
        raise ProviderDeclined(f"provider redirected ({status}); redirects are not followed")
    answer = _verified_answer(response_headers, answer_body, secret)
    if status >= 400 or answer.get("status") != "confirmed":
        raise ProviderDeclined(str(answer.get("reason") or f"provider answered {status}")[:300])
    if answer.get("booking_id") != booking["booking_id"]:
        # Signed, but for another booking (a replayed answer): it proves nothing here.
        raise ProviderUnavailable("the confirmation names another booking")
    if not answer.get("reference"):
        raise ProviderUnavailable("the confirmation carries no booking reference")
    return Booking(
        reference=str(answer["reference"]),
        scheduled_for=str(answer.get("scheduled_for", "")),
        answer=answer,
        signature=_header(response_headers, PROVIDER_SIGNATURE_HEADER),
    )


def _verified_answer(headers: dict, body: bytes, secret: bytes) -> dict:
    try:
        hmac_signature.verify(_header(headers, PROVIDER_SIGNATURE_HEADER), body, secret)
        return json.loads(body)
    except (hmac_signature.BadSignature, ValueError) as error:
        raise ProviderUnavailable(f"unverifiable provider answer: {error}") from error


def _header(headers: dict, name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")
