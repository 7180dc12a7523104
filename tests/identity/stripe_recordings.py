"""Stripe without the network: recorded API responses and really signed webhooks."""

import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import stripe

RECORDINGS = Path(__file__).parent / "recordings" / "stripe"
WEBHOOK_SECRET = "whsec_test_geraos_recorded"


class RecordedStripe(stripe.HTTPClient):
    """Answers each Stripe API call with the recording named after its method and path,
    and keeps what was sent so tests can assert on it."""

    name = "recorded"

    def __init__(self, overrides: dict[str, tuple[str, int]] | None = None) -> None:
        super().__init__()
        self.overrides = overrides or {}
        self.sent: list[tuple[str, str, dict]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = urlsplit(url).path
        self.sent.append((method.upper(), path, parse_qs(post_data or "")))
        name = f"{method.upper()}_{path.strip('/').replace('/', '_')}.json"
        recording, status = self.overrides.get(path, (name, 200))
        return (RECORDINGS / recording).read_text(), status, {"request-id": "req_recorded"}

    def close(self) -> None:
        pass


def signed_webhook(event: dict, *, secret: str = WEBHOOK_SECRET, at: int | None = None):
    """The body and Stripe-Signature header Stripe would send for `event`."""
    payload = json.dumps(event).encode()
    timestamp = at if at is not None else int(time.time())
    signed = f"{timestamp}.".encode() + payload
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def event(event_id: str, event_type: str, obj: dict, *, created: int | None = None) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": created if created is not None else int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def checkout_completed(user_id: int, *, subscription: str = "sub_Recorded1") -> dict:
    return {
        "id": "cs_test_a1B2c3D4e5F6g7H8i9J0",
        "object": "checkout.session",
        "client_reference_id": str(user_id),
        "customer": "cus_RecordedCustomer1",
        "metadata": {"plan": "studio", "user_id": str(user_id)},
        "mode": "subscription",
        "payment_status": "paid",
        "status": "complete",
        "subscription": subscription,
    }


def subscription_object(
    user_id: int, status: str, *, period_end: int = 1797000000, subscription: str = "sub_Recorded1"
) -> dict:
    return {
        "id": subscription,
        "object": "subscription",
        "customer": "cus_RecordedCustomer1",
        "status": status,
        "metadata": {"plan": "studio", "user_id": str(user_id)},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_Recorded1",
                    "object": "subscription_item",
                    "current_period_start": period_end - 2592000,
                    "current_period_end": period_end,
                    "price": {"id": "price_studio_monthly", "unit_amount": 2900, "currency": "gbp"},
                }
            ],
        },
    }


def invoice_failed(*, subscription: str = "sub_Recorded1") -> dict:
    return {
        "id": "in_Recorded1",
        "object": "invoice",
        "customer": "cus_RecordedCustomer1",
        "status": "open",
        "amount_due": 2900,
        "currency": "gbp",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription},
        },
    }
