"""How fast a caller may use the API. Each agent grant has its own allowance, a signed-in
user's session its own, and anonymous callers one per address; money-moving POSTs (quotes,
payments, dispatches, disputes) have a second, tighter one. Over it: 429 `throttled` with
Retry-After. Counts live in the cache (Redis in production, shared by every process)."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from apps.core.api.permissions import acting_grant_id


class CallerRateThrottle(SimpleRateThrottle):
    scope = "caller"

    def get_cache_key(self, request, view) -> str:
        grant_id = acting_grant_id(request)
        if grant_id:
            caller = f"grant:{grant_id}"
        elif request.user and request.user.is_authenticated:
            caller = f"user:{request.user.pk}"
        else:
            caller = f"address:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": caller}


class MoneyMovingRateThrottle(CallerRateThrottle):
    scope = "money"

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True  # reads count against the caller's general allowance only
        return super().allow_request(request, view)


MONEY_MOVING = [CallerRateThrottle, MoneyMovingRateThrottle]
