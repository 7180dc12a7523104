"""The cache backend: with Redis stopped, the rate limits' keys fail open, but for those of
the limits on guessing a secret, which fail over to PostgreSQL."""

import pytest
import redis
from django.core.cache import cache, caches

from apps.core import rate_limit
from tests.conftest import requires_redis

pytestmark = requires_redis

LIMIT = "allauth:rl:allauth.account:login:30/60.0/ip:192.0.2.1"
CREDENTIAL_LIMIT = "allauth:rl:allauth.account:mfa_code:60/3600.0/user:user:7"


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


@pytest.mark.django_db
def test_with_redis_stopped_a_credential_limit_keeps_its_hits_in_postgresql(redis_stopped):
    assert cache.add(f"{CREDENTIAL_LIMIT}:lock", True) is True
    assert cache.add(f"{CREDENTIAL_LIMIT}:lock", True) is False  # held: the lock holds too
    cache.set(CREDENTIAL_LIMIT, [1.0])

    assert cache.get(CREDENTIAL_LIMIT) == [1.0]
    assert caches["limits_fallback"].get(CREDENTIAL_LIMIT) == [1.0]


@pytest.mark.django_db
def test_a_credential_limit_fails_over_when_redis_refuses_writes(monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise redis.exceptions.OutOfMemoryError("OOM command not allowed")

    monkeypatch.setattr(caches["default"].limits, "set", out_of_memory)
    monkeypatch.setattr(rate_limit, "LEAVE_REDIS_ALONE_SECONDS", 0)

    cache.set(CREDENTIAL_LIMIT, [1.0])

    assert caches["limits_fallback"].get(CREDENTIAL_LIMIT) == [1.0]
