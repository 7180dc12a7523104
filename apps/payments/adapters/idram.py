"""Idram (Armenia): the payer is sent to Idram's payment page with a form; Idram calls
back twice — a precheck (EDP_PRECHECK=YES: is this bill real?) and the confirmation,
authenticated by EDP_CHECKSUM = MD5 of the payment fields and our secret key. Both are
answered with the plain text "OK". The confirmation's EDP_TRANS_ID is kept, verified by
the checksum. Idram's merchant protocol has no status query and no refund API: a refund
stays pending until an operator makes it in the Idram merchant cabinet and confirms it in
the admin with Idram's reference.
"""

import hashlib
from decimal import Decimal
from urllib.parse import parse_qs

from django.conf import settings

from apps.core.hmac_signature import digests_match
from apps.payments.adapters.base import (
    ProviderResult,
    WebhookNotice,
    WebhookRejected,
    external_id,
    sandbox_payer_acts,
)

PAYMENT_PAGE = "https://banking.idram.am/Payment/GetPayment"


def checksum(fields: dict, secret: str) -> str:
    raw = ":".join(
        [
            fields["EDP_REC_ACCOUNT"],
            fields["EDP_AMOUNT"],
            secret,
            fields["EDP_BILL_NO"],
            fields["EDP_PAYER_ACCOUNT"],
            fields["EDP_TRANS_ID"],
            fields["EDP_TRANS_DATE"],
        ]
    )
    return hashlib.md5(raw.encode()).hexdigest().upper()  # noqa: S324 - Idram's protocol


class IdramAdapter:
    code = "idram"
    payer_account = None
    acknowledgement = "OK"  # what Idram expects as the answer to its callbacks
    unsigned_callbacks = True  # the precheck carries no checksum

    def __init__(self, *, sandbox: bool) -> None:
        self.sandbox = sandbox

    def authorize(self, payment, *, idempotency_key: str) -> ProviderResult:
        bill = payment.pk.hex
        fields = {
            "EDP_LANGUAGE": "EN",
            "EDP_REC_ACCOUNT": settings.IDRAM_ACCOUNT,
            "EDP_DESCRIPTION": payment.reference[:100],
            "EDP_AMOUNT": f"{payment.local_amount.amount:.0f}",
            "EDP_BILL_NO": bill,
        }
        if self.sandbox:
            sandbox_payer_acts("payments.sandbox_idram_pay", fields)
        return ProviderResult(
            status="requires_action",
            provider_reference=bill,
            next_action={
                "type": "redirect_form",
                "url": PAYMENT_PAGE,
                "method": "POST",
                "fields": fields,
            },
        )

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult:
        return self.status(payment)

    def void(self, payment, *, idempotency_key: str) -> ProviderResult:
        return ProviderResult(status="voided", provider_reference=payment.provider_reference)

    def refund(self, payment, amount: Decimal, *, idempotency_key: str) -> ProviderResult:
        # Made by an operator in the Idram merchant cabinet, then confirmed in the admin.
        return ProviderResult(status="pending_manual")

    def status(self, payment) -> ProviderResult:
        # No status query in Idram's protocol: what its signed confirmation said stands.
        return ProviderResult(status=payment.status, provider_reference=payment.provider_reference)

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        fields = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
        if fields.get("EDP_REC_ACCOUNT") != settings.IDRAM_ACCOUNT or "EDP_BILL_NO" not in fields:
            raise WebhookRejected("not an Idram callback for our account")
        bill = external_id(fields["EDP_BILL_NO"], name="EDP_BILL_NO")
        if fields.get("EDP_PRECHECK") == "YES":
            return WebhookNotice(
                event_id=f"precheck:{bill}",
                provider_reference=bill,
                result=ProviderResult(status="requires_action", provider_reference=bill),
            )
        if not settings.IDRAM_SECRET_KEY:
            raise WebhookRejected("IDRAM_SECRET_KEY is not configured")
        try:
            expected = checksum(fields, settings.IDRAM_SECRET_KEY)
        except KeyError as exc:
            raise WebhookRejected(f"missing {exc}") from exc
        if not digests_match(expected, fields.get("EDP_CHECKSUM", "").upper()):
            raise WebhookRejected("EDP_CHECKSUM does not match")
        transaction_id = external_id(fields["EDP_TRANS_ID"], name="EDP_TRANS_ID")
        return WebhookNotice(
            event_id=f"paid:{transaction_id}",
            provider_reference=bill,
            result=ProviderResult(
                status="captured",
                provider_reference=bill,
                confirmation_id=transaction_id,
                confirmation_verified=True,
                data={"amount": fields["EDP_AMOUNT"]},
            ),
        )
