"""Liveness of the three things every request or task depends on."""

import uuid
from collections.abc import Callable

from celery import current_app
from django.core.cache import cache
from django.db import connection
from kombu import Connection

CONNECT_TIMEOUT_SECONDS = 2


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_cache() -> str:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)
    return "ok"


def check_broker() -> str:
    url = current_app.conf.broker_url
    if url.startswith("memory://"):
        return "ok (eager, no broker configured)"
    with Connection(url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as broker:
        broker.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT_SECONDS)
    return "ok"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_health_checks() -> tuple[bool, dict[str, str]]:
    """Run every check; a failing one reports its error class rather than raising."""
    results: dict[str, str] = {}
    healthy = True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            healthy = False
            results[name] = f"failed: {type(exc).__name__}"
    return healthy, results
