import pytest
from celery import current_app

from tests.conftest import requires_redis

pytestmark = pytest.mark.django_db


def test_healthy_when_database_cache_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert body["failed"] == []


@requires_redis
def test_503_names_the_broker_when_redis_is_down(client, monkeypatch):
    # Nothing listens on port 1: the broker is unreachable, the rest still answers.
    monkeypatch.setattr(current_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("failed")


def test_503_names_the_cache_when_it_loses_writes(client, monkeypatch):
    monkeypatch.setattr("apps.core.health.cache.get", lambda key: None)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["cache"]
