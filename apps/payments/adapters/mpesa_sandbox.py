"""A stand-in for Safaricom's Daraja API, for sandbox mode. State lives in the Django
cache. The customer's approval on their phone is a Celery task
(`payments.sandbox_mpesa_approve`) that then delivers Daraja's callback to our webhook
handler, at the push's CallBackURL, as Safaricom would.

Outcomes by amount (whole KES): ending in 51 the customer has insufficient funds; ending
in 32 they cancel the prompt; otherwise they approve.
"""

import secrets
from urllib.parse import urlsplit

from django.core.cache import cache

from apps.payments.adapters.base import sandbox_payer_acts

STATE_TTL_SECONDS = 24 * 3600
INSUFFICIENT, CANCELLED = 51, 32
PROCESSING = {
    "requestId": "sandbox",
    "errorCode": "500.001.1001",
    "errorMessage": "The transaction is being processed",
}


def _key(checkout_request_id: str) -> str:
    return f"sandbox:mpesa:stk:{checkout_request_id}"


class SandboxMpesaTransport:
    def request(
        self, method: str, url: str, *, headers: dict, body: dict | None
    ) -> tuple[int, dict]:
        path = urlsplit(url).path
        if path == "/oauth/v1/generate":
            return 200, {"access_token": f"sandbox-{secrets.token_hex(8)}", "expires_in": "3599"}
        if path == "/mpesa/stkpush/v1/processrequest":
            return self._push(body)
        if path == "/mpesa/stkpushquery/v1/query":
            return self._query(body["CheckoutRequestID"])
        if path == "/mpesa/reversal/v1/request":
            return 200, {
                "ConversationID": f"AG_sandbox_{secrets.token_hex(6)}",
                "OriginatorConversationID": secrets.token_hex(6),
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            }
        return 404, {"errorCode": "404.001.03", "errorMessage": "Invalid Access Token"}

    def _push(self, body: dict) -> tuple[int, dict]:
        checkout_request_id = f"ws_CO_sandbox_{secrets.token_hex(8)}"
        cache.set(
            _key(checkout_request_id),
            {"amount": int(body["Amount"]), "result": None, "callback_url": body["CallBackURL"]},
            STATE_TTL_SECONDS,
        )
        sandbox_payer_acts("payments.sandbox_mpesa_approve", checkout_request_id)
        return 200, {
            "MerchantRequestID": secrets.token_hex(6),
            "CheckoutRequestID": checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        }

    @staticmethod
    def _query(checkout_request_id: str) -> tuple[int, dict]:
        push = cache.get(_key(checkout_request_id))
        if push is None or push["result"] is None:
            return 500, PROCESSING
        return 200, {
            "ResponseCode": "0",
            "CheckoutRequestID": checkout_request_id,
            **push["result"],
        }


def callback_url(checkout_request_id: str) -> str:
    return cache.get(_key(checkout_request_id))["callback_url"]


def approve(checkout_request_id: str) -> dict:
    """The customer answers the prompt; returns Daraja's callback body."""
    push = cache.get(_key(checkout_request_id))
    code = {INSUFFICIENT: "1", CANCELLED: "1032"}.get(push["amount"] % 100, "0")
    receipt = f"SBX{secrets.token_hex(4).upper()}" if code == "0" else ""
    push["result"] = {
        "ResultCode": code,
        "ResultDesc": "sandbox",
        **({"MpesaReceiptNumber": receipt} if receipt else {}),
    }
    cache.set(_key(checkout_request_id), push, STATE_TTL_SECONDS)
    items = [
        {"Name": "Amount", "Value": push["amount"]},
        {"Name": "MpesaReceiptNumber", "Value": receipt},
    ]
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "sandbox",
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": int(code),
                "ResultDesc": "sandbox",
                **({"CallbackMetadata": {"Item": items}} if receipt else {}),
            }
        }
    }
