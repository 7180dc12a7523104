"""A stand-in for a UPI PSP's collect API, for sandbox mode. The payer approving the
collect request in their UPI app is a Celery task (`payments.sandbox_upi_approve`) that
then sends the PSP's signed callback. A VPA starting with "fail" declines."""

import json
import secrets
from urllib.parse import urlsplit

from django.core.cache import cache

from apps.payments.adapters.base import sandbox_payer_acts

STATE_TTL_SECONDS = 24 * 3600


def _key(txn_ref: str) -> str:
    return f"sandbox:upi:txn:{txn_ref}"


class SandboxUpiTransport:
    def request(
        self, method: str, url: str, *, headers: dict, body: dict | None
    ) -> tuple[int, dict]:
        path = urlsplit(url).path
        if path == "/v1/upi/collect":
            return self._collect(body)
        if path.startswith("/v1/upi/status/"):
            txn = cache.get(_key(path.rsplit("/", 1)[1]))
            return (200, txn) if txn else (404, {"error": "unknown txn_ref"})
        if path == "/v1/upi/refund":
            return 200, {"status": "SUCCESS", "refund_id": f"UPIRF{secrets.token_hex(6).upper()}"}
        return 404, {"error": "not found"}

    @staticmethod
    def _collect(body: dict) -> tuple[int, dict]:
        existing = cache.get(_key(body["txn_ref"]))
        if existing:
            return 200, existing
        txn = {
            "txn_ref": body["txn_ref"],
            "status": "PENDING",
            "amount": body["amount"],
            "payer_vpa": body["payer_vpa"],
        }
        cache.set(_key(body["txn_ref"]), txn, STATE_TTL_SECONDS)
        sandbox_payer_acts("payments.sandbox_upi_approve", body["txn_ref"])
        return 200, txn


def approve(txn_ref: str) -> bytes:
    """The payer answers the collect request; returns the PSP's callback body."""
    txn = cache.get(_key(txn_ref))
    if txn["payer_vpa"].startswith("fail"):
        txn.update(status="FAILED", failure_reason="DECLINED_BY_PAYER")
    else:
        txn.update(status="SUCCESS", rrn=f"{secrets.randbelow(10**12):012d}")
    cache.set(_key(txn_ref), txn, STATE_TTL_SECONDS)
    return json.dumps({"txn_ref": txn_ref, "status": txn["status"]}).encode()
