"""Sliding-window rate limits that hold under any concurrency: at most `limit` hits of a
key in any `period` seconds, across every process and thread.

With Redis (REDIS_CACHE_URL) each key is a sorted set of its hits' times, and one Lua
script drops the hits older than the window, counts the rest and records the new hit
only if there is room: Redis runs a script alone, so no two callers ever count the same
gap. A sliding window rather than a fixed one (INCR per minute): a fixed window lets
twice the limit through across a window's edge, and the window here is the one DRF's
throttles always had. The cost is a set of up to `limit` entries per busy key.

Without Redis (development) the counts live in the local cache, one process's own, and a
lock makes each check-and-record one step.

When Redis cannot be reached the limit fails open: the hit is admitted, counted in
`admitted_unchecked()` (shown by /healthz, which also answers 503 then) and logged as
`rate_limit.fail_open`, and for a few seconds no call waits on Redis again. Rate limits
protect capacity; what protects money (spend limits, idempotency) is in the database and
holds without Redis. `FailOpen` is that behaviour, shared with the limits kept in the
cache (`core.cache`: allauth's, on the sign-in pages, but for those on guessing a password
or a code, which count in PostgreSQL meanwhile).
"""

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache as memoize

import redis
from django.conf import settings
from django.core.cache import cache
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

KEY_PREFIX = "geraos:rate"
# A rate check must never be what makes a request slow: give up on Redis quickly, and
# after a failure leave it alone for a while rather than wait on it in every request.
REDIS_TIMEOUT_SECONDS = 0.25
LEAVE_REDIS_ALONE_SECONDS = 5.0

# KEYS[1] the key; ARGV: window (ms), limit, a unique id for this hit. Times are Redis's
# own clock, so web servers' clocks need not agree.
# Returns {1, 0} when admitted, {0, ms until the oldest hit leaves the window} when not.
SLIDING_WINDOW = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], window)
    return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds until one more hit would be admitted


def hit(key: str, *, limit: int, period: int) -> Verdict:
    """Record one hit of `key` if fewer than `limit` happened in the last `period`
    seconds; otherwise refuse it and say how long until there is room."""
    url = settings.REDIS_CACHE_URL
    if not url:
        return _local_hit(key, limit=limit, period=period)
    return _redis_window(url).hit(key, limit=limit, period=period)


def admitted_unchecked() -> int:
    """Calls this process admitted without a check since it started, Redis being away."""
    url = settings.REDIS_CACHE_URL
    return _redis_window(url).fail_open.admitted_unchecked if url else 0


def quick_redis_options() -> dict:
    """Redis connection options for a rate check, which must never be what makes a
    request slow: give up quickly, and never retry."""
    return {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "retry": Retry(NoBackoff(), 0),
    }


class FailOpen:
    """What rate limits do while Redis cannot be reached: admit, count what they admitted
    unchecked, log one warning, and leave Redis alone for a while rather than wait on it
    in every request. `limits` names them in the log, and `except_for` what they keep
    checking elsewhere."""

    def __init__(self, limits: str, *, except_for: str = "") -> None:
        self.limits = limits
        self.except_for = f" (except {except_for})" if except_for else ""
        self.admitted_unchecked = 0
        self.left_alone_until = 0.0
        self.lock = threading.Lock()

    def leaving_redis_alone(self) -> bool:
        return time.monotonic() < self.left_alone_until

    def redis_failed(self, exc: Exception) -> None:
        self.left_alone_until = time.monotonic() + LEAVE_REDIS_ALONE_SECONDS
        logger.warning(
            "rate_limit.fail_open limits=%s admitted_unchecked=%d: Redis unreachable (%s); "
            "calls are admitted without a rate limit for %.0f s%s",
            self.limits,
            self.admitted_unchecked,
            exc,
            LEAVE_REDIS_ALONE_SECONDS,
            self.except_for,
        )

    def admit_unchecked(self) -> None:
        with self.lock:
            self.admitted_unchecked += 1


class _RedisWindow:
    def __init__(self, url: str) -> None:
        client = redis.Redis.from_url(url, **quick_redis_options())
        self.script = client.register_script(SLIDING_WINDOW)
        self.fail_open = FailOpen(limits="api")

    def hit(self, key: str, *, limit: int, period: int) -> Verdict:
        if self.fail_open.leaving_redis_alone():
            return self._admit_unchecked()
        try:
            admitted, wait_ms = self.script(
                keys=[f"{KEY_PREFIX}:{key}"], args=[period * 1000, limit, uuid.uuid4().hex]
            )
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.fail_open.redis_failed(exc)
            return self._admit_unchecked()
        return Verdict(allowed=bool(admitted), retry_after=int(wait_ms) / 1000)

    def _admit_unchecked(self) -> Verdict:
        self.fail_open.admit_unchecked()
        return Verdict(allowed=True)


@memoize
def _redis_window(url: str) -> _RedisWindow:
    return _RedisWindow(url)


_local_lock = threading.Lock()


def _local_hit(key: str, *, limit: int, period: int) -> Verdict:
    cache_key = f"{KEY_PREFIX}:{key}"
    with _local_lock:
        now = time.time()
        recent = [t for t in cache.get(cache_key, []) if t > now - period]
        if len(recent) >= limit:
            return Verdict(allowed=False, retry_after=min(recent) + period - now)
        cache.set(cache_key, [*recent, now], period)
    return Verdict(allowed=True)
