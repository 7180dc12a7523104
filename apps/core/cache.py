"""The cache backend: Django's RedisCache, whose rate-limit keys fail open.

Keys under the cache's FAIL_OPEN_KEY_PREFIXES hold rate limits' counts (allauth's, which
keep each limit's recent hits in the cache behind a lock there). While Redis cannot be
reached those keys act as an empty cache that forgets what it is told: a lock is always
taken, a history read is empty, writes go nowhere, so a limit admits rather than answer
500. It behaves as the API's limits do (`core.rate_limit.FailOpen`): each call gives up
after a quarter of a second, the first failure is logged and leaves Redis alone for a few
seconds, and each hit admitted unrecorded is counted (`admitted_unchecked`, on /healthz).

Every other key is the plain RedisCache's and raises when Redis does: a reader that must
know whether Redis answered (the health check) still learns it.
"""

from collections.abc import Callable

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from apps.core import rate_limit

_FAIL_OPEN = rate_limit.FailOpen(limits="sign-in")


def admitted_unchecked() -> int:
    """Hits this process's cache-kept limits admitted unrecorded since it started, Redis
    being away."""
    return _FAIL_OPEN.admitted_unchecked


class RedisCache(DjangoRedisCache):
    """Only the calls allauth's limits make (add, get, set, delete) fail open."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self.fail_open_prefixes = tuple(params.get("FAIL_OPEN_KEY_PREFIXES", ()))
        quick_options = {**params.get("OPTIONS", {}), **rate_limit.quick_redis_options()}
        self.limits = DjangoRedisCache(server, {**params, "OPTIONS": quick_options})

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if not key.startswith(self.fail_open_prefixes):
            return super().add(key, value, timeout, version)
        return _unless_away(lambda: self.limits.add(key, value, timeout, version), away=True)

    def get(self, key, default=None, version=None):
        if not key.startswith(self.fail_open_prefixes):
            return super().get(key, default, version)
        return _unless_away(lambda: self.limits.get(key, default, version), away=default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        if not key.startswith(self.fail_open_prefixes):
            return super().set(key, value, timeout, version)
        lost = object()
        stored = _unless_away(lambda: self.limits.set(key, value, timeout, version), away=lost)
        # A limit writes the history holding the hit it admitted (a rollback writes it
        # without: empty here), so each hit admitted unrecorded is counted once.
        if stored is lost and value:
            _FAIL_OPEN.admit_unchecked()

    def delete(self, key, version=None):
        if not key.startswith(self.fail_open_prefixes):
            return super().delete(key, version)
        return _unless_away(lambda: self.limits.delete(key, version), away=False)


def _unless_away(call: Callable, *, away):
    """What `call()` returns, or `away` when Redis does not answer it (unreachable, out of
    memory, a read-only replica)."""
    if _FAIL_OPEN.leaving_redis_alone():
        return away
    try:
        return call()
    except redis.RedisError as exc:
        _FAIL_OPEN.redis_failed(exc)
        return away
