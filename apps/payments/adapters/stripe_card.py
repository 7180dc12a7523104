"""Stripe cards (and the base of iDEAL): PaymentIntents with manual capture.

Production talks to Stripe through the stripe SDK. Sandbox mode swaps only the SDK's HTTP
transport for `SandboxStripeTransport`, which answers like Stripe's API, so everything
above the transport runs exactly as in production.
"""

from decimal import Decimal

import stripe
from django.conf import settings

from apps.core.stripe_signature import reject_skewed_timestamp
from apps.payments.adapters.base import (
    ProviderResult,
    WebhookIgnored,
    WebhookNotice,
    WebhookRejected,
)
from apps.payments.adapters.stripe_sandbox import SandboxStripeTransport, sandbox_webhook_secret
from apps.payments.minor_units import from_minor, to_minor

WEBHOOK_TOLERANCE_SECONDS = 300

# PaymentIntent status -> Payment.Status
INTENT_STATUS = {
    "requires_payment_method": "requires_action",
    "requires_confirmation": "requires_action",
    "requires_action": "requires_action",
    "processing": "requires_action",
    "requires_capture": "authorized",
    "succeeded": "captured",
    "canceled": "voided",
}


class StripeAdapter:
    code = "stripe"
    payer_account = None
    # The HTTP transport under the SDK: None is the SDK's own (production); tests replay
    # recorded Stripe responses through it.
    transport: stripe.HTTPClient | None = None

    def __init__(self, *, sandbox: bool) -> None:
        self.sandbox = sandbox

    def _client(self) -> stripe.StripeClient:
        if self.sandbox:
            transport = self.transport or SandboxStripeTransport()
            return stripe.StripeClient("sk_test_geraos_sandbox", http_client=transport)
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY, http_client=self.transport, max_network_retries=2
        )

    @staticmethod
    def _result(intent) -> ProviderResult:
        intent = _plain(intent)
        status = INTENT_STATUS.get(intent["status"], "failed")
        error = intent.get("last_payment_error") or {}
        if status == "requires_action" and error:
            status = "failed"
        next_action = None
        if status == "requires_action":
            next_action = {"type": "stripe_client_secret", "client_secret": intent["client_secret"]}
        return ProviderResult(
            status=status,
            provider_reference=intent["id"],
            next_action=next_action,
            confirmation_id=intent["id"] if status in {"authorized", "captured"} else "",
            confirmation_verified=status in {"authorized", "captured"},
            failure_code=error.get("decline_code") or error.get("code") or "",
            data=_captured_amount(intent) if status == "captured" else {},
        )

    def _intent_params(self, payment) -> dict:
        return {"capture_method": "manual", "automatic_payment_methods": {"enabled": True}}

    def authorize(self, payment, *, idempotency_key: str) -> ProviderResult:
        currency = str(payment.local_amount.currency)
        intent = self._client().v1.payment_intents.create(
            {
                "amount": to_minor(payment.local_amount.amount, currency),
                "currency": currency.lower(),
                "metadata": {"payment_id": str(payment.pk), "reference": payment.reference},
                **self._intent_params(payment),
            },
            {"idempotency_key": idempotency_key},
        )
        return self._result(intent)

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult:
        intent = self._client().v1.payment_intents.capture(
            payment.provider_reference, options={"idempotency_key": idempotency_key}
        )
        return self._result(intent)

    def void(self, payment, *, idempotency_key: str) -> ProviderResult:
        intent = self._client().v1.payment_intents.cancel(
            payment.provider_reference, options={"idempotency_key": idempotency_key}
        )
        return self._result(intent)

    def refund(self, payment, amount: Decimal, *, idempotency_key: str) -> ProviderResult:
        currency = str(payment.local_amount.currency)
        refund = self._client().v1.refunds.create(
            {"payment_intent": payment.provider_reference, "amount": to_minor(amount, currency)},
            {"idempotency_key": idempotency_key},
        )
        return _refund_result(refund)

    def status(self, payment) -> ProviderResult:
        return self._result(self._client().v1.payment_intents.retrieve(payment.provider_reference))

    def _webhook_secret(self) -> str:
        if self.sandbox:
            return sandbox_webhook_secret()
        return settings.STRIPE_PAYMENTS_WEBHOOK_SECRET

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        secret = self._webhook_secret()
        if not secret:
            raise WebhookRejected("STRIPE_PAYMENTS_WEBHOOK_SECRET is not configured")
        signature = headers.get("Stripe-Signature", "")
        try:
            reject_skewed_timestamp(signature, tolerance=WEBHOOK_TOLERANCE_SECONDS)
            event = stripe.Webhook.construct_event(
                body, signature, secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (ValueError, stripe.SignatureVerificationError) as exc:
            raise WebhookRejected(str(exc)) from exc
        subject = _plain(event)["data"]["object"]
        if subject.get("object") not in {"payment_intent", "refund"}:
            raise WebhookIgnored(f"{event['type']} is not about a payment or a refund")
        if subject["object"] == "refund":
            return WebhookNotice(
                event_id=event["id"],
                provider_reference=subject["id"],
                result=_refund_result(subject),
                about_refund=True,
            )
        return WebhookNotice(
            event_id=event["id"], provider_reference=subject["id"], result=self._result(subject)
        )


# Some refunds (bank debits like iDEAL's SEPA, some cards) stay pending for days and
# can still fail; Stripe reports the outcome with refund.updated / refund.failed.
REFUND_STATUS = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}


def _refund_result(refund) -> ProviderResult:
    refund = _plain(refund)
    return ProviderResult(
        status=REFUND_STATUS.get(refund["status"], "failed"),
        provider_reference=refund["id"],
        failure_code=refund.get("failure_reason") or "",
        data={"payment_reference": refund.get("payment_intent") or ""},
    )


def _plain(obj) -> dict:
    """The SDK's StripeObject as a plain dict (it deliberately is not one)."""
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


def _captured_amount(intent: dict) -> dict:
    """What Stripe took (amount_received), which can differ from what was asked."""
    return {"amount": str(from_minor(intent["amount_received"], intent["currency"]))}


class IdealAdapter(StripeAdapter):
    """iDEAL through Stripe: the payer is redirected to their bank and back; iDEAL has no
    separate capture, so an approved payment is captured money."""

    code = "ideal"

    def _intent_params(self, payment) -> dict:
        return {
            "payment_method_types": ["ideal"],
            "payment_method_data": {"type": "ideal"},
            "confirm": True,
            "return_url": f"{settings.GERAOS_PUBLIC_URL}/payments/{payment.pk}/return",
        }

    @staticmethod
    def _result(intent) -> ProviderResult:
        result = StripeAdapter._result(intent)
        redirect = (_plain(intent).get("next_action") or {}).get("redirect_to_url")
        if result.status == "requires_action" and redirect:
            return ProviderResult(
                status=result.status,
                provider_reference=result.provider_reference,
                next_action={"type": "redirect", "url": redirect["url"]},
            )
        return result

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult:
        return self.status(payment)
