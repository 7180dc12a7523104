"""API rate limits: per agent grant, per session, per address for anonymous callers, and
a tighter one for money-moving POSTs. Over the limit: 429 `throttled` with Retry-After."""

import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.core import rate_limit
from apps.core.api.throttling import CallerRateThrottle, MoneyMovingRateThrottle
from apps.dispatch.models import DispatchOrder
from tests.conftest import requires_redis
from tests.dispatch.conftest import ANYTIME, Agent
from tests.factories import UserFactory, make_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tight_limits(monkeypatch):
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "3/min", "money": "2/min"})


def agent(user=None) -> Client:
    _, token = make_grant(user or UserFactory(), scopes=["dispatch:create", "dispatch:read"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def quote(client):
    return client.post(
        "/api/v1/quotes", {"amount": "30.00", "currency": "GBP"}, content_type="application/json"
    )


def test_an_agent_over_its_allowance_is_told_to_wait(catalog):
    calls = agent()

    statuses = [calls.get("/api/v1/me").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = calls.get("/api/v1/me")
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused.headers["Retry-After"]) > 0


def test_each_grant_has_its_own_allowance(catalog):
    user = UserFactory()
    busy, other = agent(user), agent(user)
    for _ in range(3):
        busy.get("/api/v1/me")

    assert busy.get("/api/v1/me").status_code == 429
    assert other.get("/api/v1/me").status_code == 200


def test_money_moving_posts_have_a_tighter_allowance(catalog, monkeypatch):
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "9/min", "money": "2/min"})
    calls = agent()

    assert [quote(calls).status_code for _ in range(3)] == [201, 201, 429]
    assert calls.get("/api/v1/me").status_code == 200  # reads still have room


def test_anonymous_callers_are_counted_by_the_address_the_proxy_saw(catalog):
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    anonymous = Client(REMOTE_ADDR="10.0.0.1")  # the proxy; X-Forwarded-For's last entry
    spoofed = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{uuid.uuid4().int % 250}, {address}"}

    statuses = [
        anonymous.post(
            "/api/v1/receipts/verify", {"jws": "x.y.z"}, content_type="application/json", **spoofed
        ).status_code
        for _ in range(4)
    ]

    assert statuses == [200, 200, 200, 429]


@requires_redis
def test_under_any_concurrency_no_more_than_the_limit_is_admitted(monkeypatch):
    """32 callers at once, four times the money limit between them: exactly the limit gets
    through (the counter is one atomic step in Redis, not a read and a write)."""
    monkeypatch.setattr(
        CallerRateThrottle, "THROTTLE_RATES", {"caller": "100000/min", "money": "120/min"}
    )
    user = UserFactory.build(pk=4242)
    view = object()

    def one_money_post(_) -> bool:
        request = Request(APIRequestFactory().post("/api/v1/payments"))
        request.user = user
        return MoneyMovingRateThrottle().allow_request(request, view)

    with ThreadPoolExecutor(max_workers=32) as callers:
        admitted = sum(callers.map(one_money_post, range(4 * 120)))

    assert admitted == 120


@pytest.fixture
def redis_down(settings):
    """Redis unreachable: the cache and the rate limits point at a port nothing answers."""
    with socket.socket() as nobody_listens:
        nobody_listens.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{nobody_listens.getsockname()[1]}/1"
        settings.REDIS_CACHE_URL = url
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
        yield


def test_with_redis_down_the_api_keeps_serving_and_counts_what_it_let_through(
    catalog, redis_down, caplog
):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))
    before = rate_limit.admitted_unchecked()

    me = agent.get("/api/v1/me")
    order = agent.dispatch(text=ANYTIME)
    replay = agent.dispatch(text=ANYTIME)

    assert me.status_code == 200
    assert order.status_code == 202
    assert replay.headers["Idempotent-Replayed"] == "true"  # idempotency is the database's
    assert str(DispatchOrder.objects.get().pk) == order.json()["id"]
    assert "rate_limit.fail_open" in caplog.text
    health = Client().get("/healthz")
    assert health.status_code == 503
    # /me passed one limit, each dispatch two (the caller's and the money-moving one)
    assert health.json()["rate_limit"]["admitted_unchecked"] >= before + 5
