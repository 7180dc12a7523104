"""A provider's fulfilment endpoint on a real local HTTP server: it verifies GeraOS's
signature with its copy of the shared secret, books idempotently and signs its answers,
as the protocol in apps/dispatch/fulfilment.py asks of a real provider. Also serves as
an agent's callback receiver."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from apps.core import hmac_signature


class FakeProvider:
    def __init__(self, secret: bytes | None, *, answer: str = "confirmed"):
        """`secret=None`: accept everything and record it (an agent's callback receiver,
        which checks the signatures afterwards)."""
        self.secret = secret
        self.answer = answer
        self.requests: list[dict] = []
        self.bookings: dict[str, str] = {}
        self.on_request = None  # called before answering (e.g. to kill a worker)
        self.confirm_booking_id = None  # set: confirms that booking, whatever was asked
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/bookings"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def respond(self, headers, body: bytes) -> tuple[int, dict]:
        signature = headers.get("X-GeraOS-Signature", "")
        signature_ok = self.secret is None
        try:
            hmac_signature.verify(signature, body, self.secret or b"")
            signature_ok = True
        except hmac_signature.BadSignature:
            pass
        key = headers.get("Idempotency-Key", "")
        self.requests.append(
            {
                "key": key,
                "body": json.loads(body),
                "raw": body,
                "signature": signature,
                "signed": signature_ok,
            }
        )
        if self.on_request:
            self.on_request(self)
        if not signature_ok:
            return 401, {"status": "declined", "reason": "bad signature"}
        if self.answer == "declined":
            return 200, {"status": "declined", "reason": "no plumbers left"}
        if self.answer == "down":
            return 503, {"status": "error"}
        if self.answer == "redirect":
            return 307, {"status": "moved"}
        reference = self.bookings.setdefault(key, f"BK-{len(self.bookings) + 1:04d}")
        booking_id = self.confirm_booking_id or json.loads(body).get("booking_id")
        return 200, {
            "status": "confirmed",
            "booking_id": booking_id,
            "reference": reference,
            "scheduled_for": "soon",
        }

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, answer = provider.respond(self.headers, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header(
                    "X-Provider-Signature", hmac_signature.sign(payload, provider.secret or b"")
                )
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        return Handler
