"""A stand-in for a PSP's BACEN PIX API, for sandbox mode. The payer paying from their
banking app is a Celery task (`payments.sandbox_pix_pay`) that then notifies our webhook,
as the PSP would. A charge whose description contains "[unpaid]" is never paid (it
just waits), to exercise that path."""

import secrets
from urllib.parse import urlsplit

from django.core.cache import cache

from apps.payments.adapters.base import sandbox_payer_acts

STATE_TTL_SECONDS = 24 * 3600
NEVER_PAID = "[unpaid]"


def _key(txid: str) -> str:
    return f"sandbox:pix:cob:{txid}"


class SandboxPixTransport:
    def request(
        self, method: str, url: str, *, headers: dict, body: dict | None
    ) -> tuple[int, dict]:
        parts = urlsplit(url).path.strip("/").split("/")  # v2, cob|pix, id, …
        if parts[1] == "cob" and method == "PUT":
            return self._create(parts[2], body)
        if parts[1] == "cob":
            charge = cache.get(_key(parts[2]))
            if charge is None:
                return 404, {"title": "Cobrança não encontrada", "status": 404}
            if method == "PATCH" and charge["status"] == "ATIVA":
                charge["status"] = body["status"]
                cache.set(_key(parts[2]), charge, STATE_TTL_SECONDS)
            return 200, charge
        if parts[1] == "pix" and "devolucao" in parts:
            return 201, {
                "id": parts[-1],
                "rtrId": f"D{secrets.token_hex(15)}",
                "valor": body["valor"],
                "status": "EM_PROCESSAMENTO",
            }
        return 404, {"title": "Not found", "status": 404}

    @staticmethod
    def _create(txid: str, body: dict) -> tuple[int, dict]:
        existing = cache.get(_key(txid))
        if existing:
            return 200, existing
        charge = {
            "txid": txid,
            "status": "ATIVA",
            "calendario": body["calendario"],
            "valor": body["valor"],
            "chave": body["chave"],
            "pixCopiaECola": f"00020101021226830014br.gov.bcb.pix2561sandbox.geraos/{txid}"
            f"5204000053039865802BR5913GERAOS SANDBOX6009SAO PAULO62070503***6304ABCD",
        }
        cache.set(_key(txid), charge, STATE_TTL_SECONDS)
        if NEVER_PAID not in body.get("solicitacaoPagador", ""):
            sandbox_payer_acts("payments.sandbox_pix_pay", txid)
        return 201, charge


def pay(txid: str) -> dict:
    """The payer pays the charge; returns the PSP's notification body."""
    charge = cache.get(_key(txid))
    end_to_end = f"E{secrets.token_hex(15)}"
    charge.update(
        status="CONCLUIDA",
        pix=[{"endToEndId": end_to_end, "txid": txid, "valor": charge["valor"]["original"]}],
    )
    cache.set(_key(txid), charge, STATE_TTL_SECONDS)
    return {"pix": [{"endToEndId": end_to_end, "txid": txid, "valor": charge["valor"]["original"]}]}
