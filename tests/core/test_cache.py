"""The cache backend: with Redis stopped, only the rate limits' keys fail open."""

import pytest
import redis
from django.core.cache import cache

from tests.conftest import requires_redis

pytestmark = requires_redis

LIMIT = "allauth:rl:allauth.account:login:30/60.0/ip:192.0.2.1"


def test_with_redis_stopped_a_limit_finds_no_hits_and_takes_its_lock(redis_stopped):
    assert cache.add(f"{LIMIT}:lock", True) is True
    assert cache.get(LIMIT, []) == []
    cache.set(LIMIT, [1.0])
    assert cache.delete(f"{LIMIT}:lock") is False


def test_with_redis_stopped_every_other_key_still_raises(redis_stopped):
    with pytest.raises(redis.ConnectionError):
        cache.get("healthz:probe")
    with pytest.raises(redis.ConnectionError):
        cache.add("allauth:rl-not-a-limit", True)
