"""M-Pesa through Safaricom's Daraja API: STK push (the customer approves on their
phone), its callback, and the STK status query.

Daraja's callbacks are unsigned, so a callback is never believed on its own: it only
says which push to look at, and the status query decides, asked only about a push GeraOS
made (see notices.webhook_receive). The `MpesaReceiptNumber` is
kept as the confirmation, verified. M-Pesa has no separate capture: an approved push is
money taken. Refunds are reversals.

A push is sent once: a second would prompt the payer again, and Daraja gives a push's id
only in its answer, so each push's callback URL names its payment, and a push whose answer
was lost is found by its callback.
"""

import base64
import json
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from apps.payments.adapters.base import (
    UNCONFIRMED,
    PayerAccount,
    ProviderResult,
    WebhookNotice,
    WebhookRejected,
    external_id,
)
from apps.payments.adapters.http import JsonTransport, UrllibJsonTransport
from apps.payments.adapters.mpesa_sandbox import SandboxMpesaTransport

STILL_PROCESSING = "500.001.1001"
RESULT_FAILURES = {"1": "insufficient_funds", "1032": "cancelled_by_user", "1037": "timeout"}


class MpesaError(Exception):
    pass


class MpesaAdapter:
    code = "mpesa"
    unsigned_callbacks = True  # throttled per address (webhooks.RailCallbackThrottle)
    # An STK push has no idempotency key: sent again, it prompts the payer again. Its
    # CheckoutRequestID comes only in the answer, so the callback URL names the payment.
    idempotent_authorize = False
    payer_account = PayerAccount(
        "the payer's Safaricom number, e.g. 254712345678", r"^254(7|1)\d{8}$"
    )
    transport: JsonTransport | None = None  # tests replay recorded Daraja responses

    def __init__(self, *, sandbox: bool) -> None:
        self.sandbox = sandbox
        self.http = self.transport or (
            SandboxMpesaTransport() if sandbox else UrllibJsonTransport()
        )

    # --- Daraja plumbing ------------------------------------------------------------------

    def _call(self, path: str, body: dict) -> dict:
        status, answer = self.http.request(
            "POST",
            f"{settings.MPESA_BASE_URL}{path}",
            headers={"Authorization": f"Bearer {self._token()}"},
            body=body,
        )
        if status >= 500 and answer.get("errorCode") != STILL_PROCESSING:
            raise MpesaError(f"Daraja answered {status}: {answer}")
        return answer

    def _token(self) -> str:
        credentials = f"{settings.MPESA_CONSUMER_KEY}:{settings.MPESA_CONSUMER_SECRET}"
        status, answer = self.http.request(
            "GET",
            f"{settings.MPESA_BASE_URL}/oauth/v1/generate?grant_type=client_credentials",
            headers={"Authorization": f"Basic {base64.b64encode(credentials.encode()).decode()}"},
            body=None,
        )
        if status != 200:
            raise MpesaError(f"Daraja refused the credentials ({status})")
        return answer["access_token"]

    @staticmethod
    def _password() -> tuple[str, str]:
        timestamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
        raw = f"{settings.MPESA_SHORTCODE}{settings.MPESA_PASSKEY}{timestamp}"
        return base64.b64encode(raw.encode()).decode(), timestamp

    def _query(self, checkout_request_id: str) -> ProviderResult:
        password, timestamp = self._password()
        answer = self._call(
            "/mpesa/stkpushquery/v1/query",
            {
                "BusinessShortCode": settings.MPESA_SHORTCODE,
                "Password": password,
                "Timestamp": timestamp,
                "CheckoutRequestID": checkout_request_id,
            },
        )
        if answer.get("errorCode") == STILL_PROCESSING or "ResultCode" not in answer:
            return ProviderResult(status="requires_action", provider_reference=checkout_request_id)
        if str(answer["ResultCode"]) != "0":
            failure = RESULT_FAILURES.get(
                str(answer["ResultCode"]), f"mpesa_{answer['ResultCode']}"
            )
            return ProviderResult(
                status="failed", provider_reference=checkout_request_id, failure_code=failure
            )
        return ProviderResult(
            status="captured",
            provider_reference=checkout_request_id,
            confirmation_id=answer.get("MpesaReceiptNumber", ""),
            confirmation_verified=True,
        )

    # --- the rail interface ------------------------------------------------------------------

    def authorize(self, payment, *, idempotency_key: str) -> ProviderResult:
        password, timestamp = self._password()
        amount = int(payment.local_amount.amount.to_integral_value())  # KES, whole shillings
        answer = self._call(
            "/mpesa/stkpush/v1/processrequest",
            {
                "BusinessShortCode": settings.MPESA_SHORTCODE,
                "Password": password,
                "Timestamp": timestamp,
                "TransactionType": "CustomerPayBillOnline",
                "Amount": amount,
                "PartyA": payment.payer_account,
                "PartyB": settings.MPESA_SHORTCODE,
                "PhoneNumber": payment.payer_account,
                "CallBackURL": f"{settings.GERAOS_PUBLIC_URL}/webhooks/rails/mpesa/"
                f"{idempotency_key}/",
                "AccountReference": idempotency_key[-12:],
                "TransactionDesc": payment.reference[:13],
            },
        )
        if str(answer.get("ResponseCode")) != "0":
            return ProviderResult(status="failed", failure_code=answer.get("errorCode", "rejected"))
        return ProviderResult(
            status="requires_action",
            provider_reference=answer["CheckoutRequestID"],
            next_action={"type": "mpesa_stk_push", "message": answer.get("CustomerMessage", "")},
        )

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult:
        return self._query(payment.provider_reference)

    def void(self, payment, *, idempotency_key: str) -> ProviderResult:
        # An unapproved push simply expires; there is nothing to cancel at Safaricom.
        return ProviderResult(status="voided", provider_reference=payment.provider_reference)

    def refund(self, payment, amount: Decimal, *, idempotency_key: str) -> ProviderResult:
        answer = self._call(
            "/mpesa/reversal/v1/request",
            {
                "Initiator": settings.MPESA_INITIATOR,
                "SecurityCredential": settings.MPESA_SECURITY_CREDENTIAL,
                "CommandID": "TransactionReversal",
                "TransactionID": payment.confirmation_id,
                "Amount": int(amount.to_integral_value()),
                "ReceiverParty": settings.MPESA_SHORTCODE,
                "RecieverIdentifierType": "11",
                "ResultURL": f"{settings.GERAOS_PUBLIC_URL}/webhooks/rails/mpesa/",
                "QueueTimeOutURL": f"{settings.GERAOS_PUBLIC_URL}/webhooks/rails/mpesa/",
                "Remarks": idempotency_key[-20:],
                "Occasion": "refund",
            },
        )
        accepted = str(answer.get("ResponseCode")) == "0"
        return ProviderResult(
            status="succeeded" if accepted else "failed",
            provider_reference=answer.get("ConversationID", ""),
            failure_code="" if accepted else answer.get("errorCode", "rejected"),
        )

    def status(self, payment) -> ProviderResult:
        return self._query(payment.provider_reference)

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        try:
            callback = json.loads(body)["Body"]["stkCallback"]
            checkout_request_id = callback["CheckoutRequestID"]
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("not an STK push callback") from exc
        checkout_request_id = external_id(checkout_request_id, name="CheckoutRequestID")
        # Unsigned: it only names a push. Daraja is asked (confirm) about pushes we made.
        return WebhookNotice(
            event_id=f"{checkout_request_id}:{UNCONFIRMED}",
            provider_reference=checkout_request_id,
            result=ProviderResult(status=UNCONFIRMED, provider_reference=checkout_request_id),
        )

    def confirm(self, notice: WebhookNotice) -> WebhookNotice:
        """What Daraja says happened to the push. The event is what the query said, so a
        forged or early callback cannot use up the real approval's id."""
        result = self._query(notice.provider_reference)
        return WebhookNotice(
            event_id=f"{notice.provider_reference}:{result.status}",
            provider_reference=notice.provider_reference,
            result=result,
        )
