"""UPI through a PSP's collect API: a collect request to the payer's VPA, which they
approve in their UPI app; the PSP's callback (HMAC-SHA256 of the body with our shared
secret, `X-Signature`) and, as the confirmation, the status query, whose RRN (the NPCI
reference) is kept verified.
"""

import hashlib
import hmac
import json
from decimal import Decimal

from django.conf import settings

from apps.core.hmac_signature import digests_match
from apps.payments.adapters.base import (
    PayerAccount,
    ProviderResult,
    WebhookNotice,
    WebhookRejected,
    external_id,
)
from apps.payments.adapters.http import JsonTransport, UrllibJsonTransport
from apps.payments.adapters.upi_sandbox import SandboxUpiTransport

STATUS = {
    "SUCCESS": "captured",
    "FAILED": "failed",
    "EXPIRED": "failed",
    "PENDING": "requires_action",
}


def signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class UpiError(Exception):
    pass


class UpiAdapter:
    code = "upi"
    payer_account = PayerAccount(
        "the payer's UPI id (VPA), e.g. asha@okbank", r"^[\w.\-]{2,256}@[A-Za-z]{2,64}$"
    )
    transport: JsonTransport | None = None

    def __init__(self, *, sandbox: bool) -> None:
        self.http = self.transport or (SandboxUpiTransport() if sandbox else UrllibJsonTransport())

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        status, answer = self.http.request(
            method,
            f"{settings.UPI_BASE_URL}{path}",
            headers={"X-Api-Key": settings.UPI_API_KEY},
            body=body,
        )
        if status >= 400:
            raise UpiError(f"UPI PSP answered {status}: {answer}")
        return answer

    @staticmethod
    def _result(answer: dict, txn_ref: str) -> ProviderResult:
        status = STATUS.get(answer.get("status", ""), "failed")
        if status == "requires_action":
            return ProviderResult(
                status=status,
                provider_reference=txn_ref,
                next_action={
                    "type": "upi_collect",
                    "message": "Approve the request in your UPI app.",
                },
            )
        return ProviderResult(
            status=status,
            provider_reference=txn_ref,
            confirmation_id=answer.get("rrn", ""),
            confirmation_verified=status == "captured",
            failure_code=(answer.get("failure_reason") or "").lower() if status == "failed" else "",
            data={"amount": answer["amount"]} if "amount" in answer else {},
        )

    def authorize(self, payment, *, idempotency_key: str) -> ProviderResult:
        answer = self._call(
            "POST",
            "/v1/upi/collect",
            {
                "merchant_id": settings.UPI_MERCHANT_ID,
                "txn_ref": idempotency_key,
                "payer_vpa": payment.payer_account,
                "amount": f"{payment.local_amount.amount:.2f}",
                "note": payment.reference[:50],
                "expiry_minutes": 15,
                "callback_url": f"{settings.GERAOS_PUBLIC_URL}/webhooks/rails/upi/",
            },
        )
        return self._result(answer, idempotency_key)

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult:
        return self.status(payment)

    def void(self, payment, *, idempotency_key: str) -> ProviderResult:
        return ProviderResult(status="voided", provider_reference=payment.provider_reference)

    def refund(self, payment, amount: Decimal, *, idempotency_key: str) -> ProviderResult:
        answer = self._call(
            "POST",
            "/v1/upi/refund",
            {
                "txn_ref": payment.provider_reference,
                "refund_ref": idempotency_key,
                "amount": f"{amount:.2f}",
            },
        )
        ok = answer.get("status") in {"SUCCESS", "PENDING"}
        return ProviderResult(
            status="succeeded" if ok else "failed", provider_reference=answer.get("refund_id", "")
        )

    def status(self, payment) -> ProviderResult:
        return self._query(payment.provider_reference)

    def _query(self, txn_ref: str) -> ProviderResult:
        return self._result(self._call("GET", f"/v1/upi/status/{txn_ref}"), txn_ref)

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        expected = signature(body, settings.UPI_WEBHOOK_SECRET)
        if not settings.UPI_WEBHOOK_SECRET or not digests_match(
            expected, headers.get("X-Signature", "")
        ):
            raise WebhookRejected("X-Signature does not match")
        try:
            txn_ref = json.loads(body)["txn_ref"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("not a UPI callback") from exc
        txn_ref = external_id(txn_ref, name="txn_ref")
        result = self._query(txn_ref)  # the status query is the confirmation
        return WebhookNotice(
            event_id=f"{txn_ref}:{result.status}", provider_reference=txn_ref, result=result
        )
