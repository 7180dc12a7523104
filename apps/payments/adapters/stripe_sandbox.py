"""A stand-in for Stripe's HTTP API, for sandbox mode: the stripe SDK and the adapter run
unchanged on top of it. State lives in the Django cache (Redis when configured), so every
web process and worker sees the same simulated PaymentIntents.

Outcomes are chosen by the amount's last two minor-unit digits, like Stripe's test cards:
  ..51  declined: insufficient funds
  ..52  the charge happens but the response times out (for reconciliation)
  other succeeds (requires_capture; captured on capture)
"""

import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import stripe
from django.conf import settings
from django.core.cache import cache

from apps.payments.adapters.base import sandbox_payer_acts

STATE_TTL_SECONDS = 7 * 24 * 3600
# Published, so anyone can sign with it: believed only where no secret is configured.
SANDBOX_WEBHOOK_SECRET = "whsec_geraos_sandbox_simulator"  # noqa: S105
DECLINE, TIMEOUT = 51, 52


class _ResponseLost(Exception):
    def __init__(self, body: dict) -> None:
        super().__init__("response lost")
        self.body = body


def sandbox_webhook_secret() -> str:
    """The secret a sandbox rail's webhooks are signed and checked with: the deployment's
    own endpoint secret whenever one is configured, so the published one is never believed
    there; the simulator signs with the same."""
    return settings.STRIPE_PAYMENTS_WEBHOOK_SECRET or SANDBOX_WEBHOOK_SECRET


def _key(kind: str, ident: str) -> str:
    return f"sandbox:stripe:{kind}:{ident}"


class SandboxStripeTransport(stripe.HTTPClient):
    name = "geraos-sandbox"

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        idempotency_key = (headers or {}).get("Idempotency-Key")
        if idempotency_key and (stored := cache.get(_key("idem", idempotency_key))):
            text, status = stored
            return text, status, {"Idempotent-Replayed": "true"}
        params = {k: v[0] for k, v in parse_qs(post_data or "").items()}
        try:
            body, status = self._route(method.upper(), urlsplit(url).path, params)
            timed_out = False
        except _ResponseLost as lost:
            body, status, timed_out = lost.body, 200, True
        text = json.dumps(body)
        if idempotency_key and status < 500:
            # Like Stripe, the outcome is kept even when the caller never saw it.
            cache.set(_key("idem", idempotency_key), (text, status), STATE_TTL_SECONDS)
        if timed_out:
            raise stripe.APIConnectionError("Sandbox: the response timed out after the charge.")
        return text, status, {"request-id": f"req_sandbox_{secrets.token_hex(6)}"}

    def close(self) -> None:
        pass

    def _route(self, method: str, path: str, params: dict) -> tuple[dict, int]:
        parts = path.strip("/").split("/")  # v1, resource, [id], [action]
        if parts[1] == "payment_intents" and len(parts) == 2 and method == "POST":
            return self._create_intent(params)
        if parts[1] == "payment_intents" and len(parts) >= 3:
            intent = cache.get(_key("pi", parts[2]))
            if intent is None:
                return _error("resource_missing", f"No such payment_intent: '{parts[2]}'"), 404
            action = parts[3] if len(parts) == 4 else None
            return self._act_on_intent(intent, action)
        if parts[1] == "refunds" and method == "POST":
            return self._refund(params)
        return _error("resource_missing", f"Unrecognized request URL ({method}: {path})"), 404

    def _create_intent(self, params: dict) -> tuple[dict, int]:
        amount = int(params["amount"])
        intent = {
            "id": f"pi_sandbox_{secrets.token_hex(8)}",
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "amount_capturable": amount,
            "currency": params["currency"],
            "capture_method": params.get("capture_method", "automatic"),
            "client_secret": f"pi_sandbox_secret_{secrets.token_hex(8)}",
            "status": "requires_capture",
            "last_payment_error": None,
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "livemode": False,
        }
        if params.get("payment_method_types[0]") == "ideal":
            return self._redirect_to_bank(intent, params)
        if amount % 100 == DECLINE:
            intent.update(
                status="requires_payment_method",
                amount_capturable=0,
                last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
            )
        self._save(intent)
        if amount % 100 == TIMEOUT:
            raise _ResponseLost(intent)
        return intent, 200

    def _redirect_to_bank(self, intent: dict, params: dict) -> tuple[dict, int]:
        intent.update(
            status="requires_action",
            capture_method="automatic",
            next_action={
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "url": f"https://sandbox.geraos.example/ideal/{intent['id']}",
                    "return_url": params.get("return_url", ""),
                },
            },
        )
        self._save(intent)
        sandbox_payer_acts("payments.sandbox_stripe_bank_approves", intent["id"])
        return intent, 200

    def _act_on_intent(self, intent: dict, action: str | None) -> tuple[dict, int]:
        if action == "capture" and intent["status"] == "requires_capture":
            intent.update(status="succeeded", amount_received=intent["amount"], amount_capturable=0)
        elif action == "cancel" and intent["status"] in {
            "requires_capture",
            "requires_payment_method",
        }:
            intent.update(status="canceled", amount_capturable=0)
        elif action is not None:
            message = f"This PaymentIntent could not be {action}d from status {intent['status']}."
            return _error("payment_intent_unexpected_state", message), 400
        self._save(intent)
        return intent, 200

    def _refund(self, params: dict) -> tuple[dict, int]:
        intent = cache.get(_key("pi", params["payment_intent"]))
        amount = int(params.get("amount") or (intent or {}).get("amount_received", 0))
        refunded = (intent or {}).get("amount_refunded", 0)
        if (
            intent is None
            or intent["status"] != "succeeded"
            or refunded + amount > intent["amount_received"]
        ):
            return _error("charge_already_refunded", "Refund exceeds the captured amount."), 400
        intent["amount_refunded"] = refunded + amount
        self._save(intent)
        refund = {
            "id": f"re_sandbox_{secrets.token_hex(8)}",
            "object": "refund",
            "amount": amount,
            "payment_intent": intent["id"],
            "status": "succeeded",
        }
        return refund, 200

    @staticmethod
    def _save(intent: dict) -> None:
        cache.set(_key("pi", intent["id"]), intent, STATE_TTL_SECONDS)


def _error(code: str, message: str) -> dict:
    return {"error": {"type": "invalid_request_error", "code": code, "message": message}}


def bank_approves(intent_id: str) -> tuple[bytes, str]:
    """The payer approves at their bank; returns Stripe's signed webhook (body, header)."""
    intent = cache.get(_key("pi", intent_id))
    intent.update(status="succeeded", amount_received=intent["amount"], next_action=None)
    SandboxStripeTransport._save(intent)
    event = {
        "id": f"evt_sandbox_{secrets.token_hex(8)}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": intent},
    }
    body = json.dumps(event).encode()
    timestamp = int(time.time())
    secret = sandbox_webhook_secret().encode()
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256)
    return body, f"t={timestamp},v1={mac.hexdigest()}"
