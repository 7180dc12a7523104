"""PIX through a PSP's BACEN-standard API (`/v2/cob`): a charge with a txid, its
copy-paste code (pixCopiaECola) and a QR image of it for the payer's banking app.

A payment notification (`{"pix": [{"txid", "endToEndId", …}]}`) is authenticated by the
PSP's mTLS in production; here it is only a hint — the charge is read back with
GET /v2/cob/{txid} and settles only when it is CONCLUIDA with an endToEndId, which is kept
as the verified confirmation. Refunds are `devolucao` requests.
"""

import base64
import io
import json
import re
from decimal import Decimal

import qrcode
import qrcode.image.svg
from django.conf import settings

from apps.payments.adapters.base import (
    ProviderResult,
    WebhookNotice,
    WebhookRejected,
    external_id,
)
from apps.payments.adapters.http import JsonTransport, UrllibJsonTransport
from apps.payments.adapters.pix_sandbox import SandboxPixTransport

# BACEN's txid: what we issue, and all that may go into the PSP's URL from a notification.
TXID = re.compile(r"[A-Za-z0-9]{26,35}")


class PixError(Exception):
    pass


class PixNotFound(PixError):
    """The PSP has no such charge (or refund)."""


def qr_svg_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


class PixAdapter:
    code = "pix"
    unsigned_callbacks = True  # mTLS is the proxy's; here, throttled per address
    payer_account = None
    transport: JsonTransport | None = None

    def __init__(self, *, sandbox: bool) -> None:
        self.http = self.transport or (SandboxPixTransport() if sandbox else UrllibJsonTransport())

    def _request(self, method: str, path: str, body: dict | None = None) -> dict:
        status, answer = self.http.request(
            method,
            f"{settings.PIX_BASE_URL}{path}",
            headers={"Authorization": f"Bearer {settings.PIX_ACCESS_TOKEN}"},
            body=body,
        )
        if status == 404:
            raise PixNotFound(f"PSP answered 404: {answer}")
        if status >= 400:
            raise PixError(f"PSP answered {status}: {answer}")
        return answer

    @staticmethod
    def _result(charge: dict) -> ProviderResult:
        payments = charge.get("pix") or []
        if charge["status"] == "CONCLUIDA" and payments:
            return ProviderResult(
                status="captured",
                provider_reference=charge["txid"],
                confirmation_id=payments[0]["endToEndId"],
                confirmation_verified=True,
            )
        if charge["status"].startswith("REMOVIDA"):
            return ProviderResult(status="voided", provider_reference=charge["txid"])
        copy_paste = charge.get("pixCopiaECola", "")
        return ProviderResult(
            status="requires_action",
            provider_reference=charge["txid"],
            next_action={
                "type": "pix",
                "copy_paste": copy_paste,
                "qr_svg": qr_svg_data_uri(copy_paste) if copy_paste else "",
            },
        )

    def authorize(self, payment, *, idempotency_key: str) -> ProviderResult:
        # The txid is ours (26-35 alphanumerics), derived from the saved key: a retry
        # PUTs the same charge instead of creating a second one.
        txid = "".join(c for c in idempotency_key if c.isalnum())[-32:].rjust(26, "0")
        charge = self._request(
            "PUT",
            f"/v2/cob/{txid}",
            {
                "calendario": {"expiracao": 3600},
                "valor": {"original": f"{payment.local_amount.amount:.2f}"},
                "chave": settings.PIX_KEY,
                "solicitacaoPagador": payment.reference[:140],
            },
        )
        return self._result(charge)

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult:
        return self.status(payment)

    def void(self, payment, *, idempotency_key: str) -> ProviderResult:
        charge = self._request(
            "PATCH",
            f"/v2/cob/{payment.provider_reference}",
            {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"},
        )
        return self._result(charge)

    def refund(self, payment, amount: Decimal, *, idempotency_key: str) -> ProviderResult:
        refund_id = "".join(c for c in idempotency_key if c.isalnum())[-35:]
        answer = self._request(
            "PUT",
            f"/v2/pix/{payment.confirmation_id}/devolucao/{refund_id}",
            {"valor": f"{amount:.2f}"},
        )
        ok = answer.get("status") in {"EM_PROCESSAMENTO", "DEVOLVIDO"}
        return ProviderResult(
            status="succeeded" if ok else "failed",
            provider_reference=answer.get("rtrId", refund_id),
        )

    def status(self, payment) -> ProviderResult:
        return self._result(self._request("GET", f"/v2/cob/{payment.provider_reference}"))

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        try:
            (notice,) = json.loads(body)["pix"][:1]
            txid = notice["txid"]
            end_to_end_id = external_id(notice.get("endToEndId", txid), name="endToEndId")
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected("not a PIX notification") from exc
        if not isinstance(txid, str) or not TXID.fullmatch(txid):
            raise WebhookRejected("txid is not a PIX txid")
        try:
            charge = self._request("GET", f"/v2/cob/{txid}")
        except PixNotFound as exc:
            raise WebhookRejected("the PSP has no such charge") from exc
        return WebhookNotice(
            event_id=f"pix:{end_to_end_id}", provider_reference=txid, result=self._result(charge)
        )
