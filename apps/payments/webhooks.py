import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from apps.payments import notices
from apps.payments.adapters import ADAPTERS

logger = logging.getLogger(__name__)


class RailCallbackThrottle(SimpleRateThrottle):
    """Callbacks anyone can send (M-Pesa's, PIX's, Idram's precheck: unsigned) each store
    a notice, and M-Pesa's and PIX's make us ask the rail: at most GERAOS_RAIL_CALLBACK_RATE
    per rail and source address. Signed rails are left to their signatures.

    One counter per window, added then incremented in the cache (Redis INCR): atomic, so
    however many arrive at once, no more than the rate are admitted in a window. With the
    cache out of reach callbacks are admitted (logged): a rail's news is not dropped."""

    scope = "rail_callbacks"

    def get_rate(self) -> str:
        return settings.GERAOS_RAIL_CALLBACK_RATE

    def get_cache_key(self, request, view) -> str | None:
        rail = view.kwargs.get("rail")
        if not getattr(ADAPTERS.get(rail), "unsigned_callbacks", False):
            return None
        return self.cache_format % {
            "scope": self.scope,
            "ident": f"{rail}:{self.get_ident(request)}",
        }

    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        try:
            return self._count(f"{key}:{window}") <= self.num_requests
        except redis.RedisError as exc:  # unreachable, out of memory, a read-only replica
            logger.warning("rail callback throttle is off: the cache refused it (%s)", exc)
            return True

    def _count(self, counter: str) -> int:
        cache.add(counter, 0, timeout=2 * self.duration)  # outlives its window
        try:
            return cache.incr(counter)
        except ValueError:  # evicted between the two calls (memory pressure): count afresh
            cache.set(counter, 1, timeout=2 * self.duration)
            return 1

    def wait(self) -> float:
        return self.wait_seconds


class RailWebhookView(APIView):
    """Rails' notifications; each adapter verifies its rail's signature or secret. A
    callback URL given for one payment names it (`payment_key`: M-Pesa's)."""

    authentication_classes = []
    throttle_classes = [RailCallbackThrottle]
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser]
    schema = None

    def post(self, request: Request, rail: str, payment_key: str = "") -> HttpResponse:
        outcome = notices.webhook_receive(
            rail_code=rail,
            body=request.body,
            headers=dict(request.headers),
            payment_key=payment_key,
        )
        acknowledgement = getattr(ADAPTERS.get(rail), "acknowledgement", None)
        if acknowledgement:  # rails that expect a plain-text answer (Idram: "OK")
            return HttpResponse(acknowledgement, content_type="text/plain")
        return Response({"received": True, "outcome": outcome})
