"""The cache backend: Django's RedisCache, whose rate-limit keys fail open or over.

Keys under the cache's FAIL_OPEN_KEY_PREFIXES hold rate limits' counts (allauth's, which
keep each limit's recent hits in the cache behind a lock there). While Redis cannot be
reached those keys act as an empty cache that forgets what it is told: a lock is always
taken, a history read is empty, writes go nowhere, so a limit admits rather than answer
500. It behaves as the API's limits do (`core.rate_limit.FailOpen`): each call gives up
after a quarter of a second, the first failure is logged and leaves Redis alone for a few
seconds, and each hit admitted unrecorded is counted (`admitted_unchecked`, on /healthz).

Keys under FAIL_OVER_KEY_PREFIXES hold the limits that stop someone guessing a secret (a
password, a two-factor code): an outage must not lift those, so while Redis cannot be
reached they are kept in the cache FAIL_OVER_CACHE names (a table in PostgreSQL) instead.
Each store counts on its own: when a key moves from one to the other its count starts
afresh, so across an outage's start or end a guesser gets at most one more limit's worth.

Every other key is the plain RedisCache's and raises when Redis does: a reader that must
know whether Redis answered (the health check) still learns it.
"""

from collections.abc import Callable

import redis
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from apps.core import rate_limit

_FAIL_OPEN = rate_limit.FailOpen(
    limits="sign-in", except_for="guesses of passwords and codes, counted in PostgreSQL"
)


def admitted_unchecked() -> int:
    """Hits this process's cache-kept limits admitted unrecorded since it started, Redis
    being away."""
    return _FAIL_OPEN.admitted_unchecked


class RedisCache(DjangoRedisCache):
    """Only the calls allauth's limits make (add, get, set, delete) fail open or over."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self.fail_open_prefixes = tuple(params.get("FAIL_OPEN_KEY_PREFIXES", ()))
        self.fail_over_prefixes = tuple(params.get("FAIL_OVER_KEY_PREFIXES", ()))
        self.fail_over_cache = params.get("FAIL_OVER_CACHE")
        quick_options = {**params.get("OPTIONS", {}), **rate_limit.quick_redis_options()}
        self.limits = DjangoRedisCache(server, {**params, "OPTIONS": quick_options})

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._kept(key, lambda cache: cache.add(key, value, timeout, version), away=True)

    def get(self, key, default=None, version=None):
        return self._kept(key, lambda cache: cache.get(key, default, version), away=default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        lost = object()
        stored = self._kept(key, lambda cache: cache.set(key, value, timeout, version), away=lost)
        # A limit writes the history holding the hit it admitted (a rollback writes it
        # without: empty here), so each hit admitted unrecorded is counted once.
        if stored is lost and value:
            _FAIL_OPEN.admit_unchecked()

    def delete(self, key, version=None):
        return self._kept(key, lambda cache: cache.delete(key, version), away=False)

    def _kept(self, key: str, call: Callable[[BaseCache], object], *, away):
        """`call(cache)` on the cache that keeps `key` now: Redis, or while Redis does not
        answer, the fail-over cache for a fail-over key, or `away` for a fail-open one."""
        if key.startswith(self.fail_over_prefixes):
            return _redis_or(lambda: call(self.limits), lambda: call(caches[self.fail_over_cache]))
        if key.startswith(self.fail_open_prefixes):
            return _redis_or(lambda: call(self.limits), lambda: away)
        return call(super())


def _redis_or(call: Callable, otherwise: Callable):
    """What `call()` returns, or `otherwise()` when Redis does not answer it (unreachable,
    out of memory, a read-only replica)."""
    if _FAIL_OPEN.leaving_redis_alone():
        return otherwise()
    try:
        return call()
    except redis.RedisError as exc:
        _FAIL_OPEN.redis_failed(exc)
        return otherwise()
