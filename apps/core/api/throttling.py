"""How fast a caller may use the API. Each agent grant has its own allowance, a signed-in
user's session its own, and anonymous callers one per address; money-moving POSTs (quotes,
payments, dispatches, disputes) have a second, tighter one. Over it: 429 `throttled` with
Retry-After. Counts are kept by `apps.core.rate_limit` (a sliding window in Redis, exact
under any concurrency; with Redis away the API keeps serving without a limit)."""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from apps.core import rate_limit
from apps.core.api.permissions import acting_grant_id


class CallerRateThrottle(SimpleRateThrottle):
    scope = "caller"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.verdict = rate_limit.hit(
            self.get_cache_key(request, view), limit=self.num_requests, period=self.duration
        )
        return self.verdict.allowed

    def wait(self) -> float:
        return self.verdict.retry_after

    def get_cache_key(self, request, view) -> str:
        grant_id = acting_grant_id(request)
        if grant_id:
            caller = f"grant:{grant_id}"
        elif request.user and request.user.is_authenticated:
            caller = f"user:{request.user.pk}"
        else:
            caller = f"address:{self.get_ident(request)}"
        return f"{self.scope}:{caller}"


class MoneyMovingRateThrottle(CallerRateThrottle):
    scope = "money"

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True  # reads count against the caller's general allowance only
        return super().allow_request(request, view)


MONEY_MOVING = [CallerRateThrottle, MoneyMovingRateThrottle]
