"""The Celery side of the load test, measured from the harness: orders counted in the
database, the workers paused and resumed by remote control, no-op tasks timed through the
broker. Django is set up (loadtest.run) before any of these is called."""

import os
import time
from contextlib import contextmanager

import redis

from loadtest.tasks import NOOP_TASK

SETTLE_TIMEOUT = 60.0


def orders() -> int:
    from apps.dispatch.models import DispatchOrder

    return DispatchOrder.objects.count()


def finished_orders() -> int:
    from apps.dispatch.models import FINISHED, DispatchOrder

    return DispatchOrder.objects.filter(status__in=FINISHED, receipt__isnull=False).count()


def unfinished_orders() -> int:
    return orders() - finished_orders()


def wait_until_orders_stop_arriving(quiet: float = 1.0, timeout: float = 30.0) -> None:
    """Locust stops its users on time, but the site still answers the requests it had
    taken: wait until no order has been added for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    seen = orders()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        if (now := orders()) == seen:
            return
        seen = now


def wait_until_orders_finish(timeout: float) -> float:
    """Seconds until every order has its receipt (or `timeout` passed)."""
    start = time.monotonic()
    while unfinished_orders() and time.monotonic() - start < timeout:
        time.sleep(0.2)
    return time.monotonic() - start


@contextmanager
def consumers_paused(celery_app, workers: int):
    """Every worker stops taking tasks from its queues until the block ends."""
    active = celery_app.control.inspect().active_queues() or {}
    queues = sorted({queue["name"] for found in active.values() for queue in found})
    for queue in queues:
        _expect_replies(celery_app.control.cancel_consumer(queue, reply=True), workers)
    try:
        yield
    finally:
        for queue in queues:
            _expect_replies(celery_app.control.add_consumer(queue, reply=True), workers)


def _expect_replies(replies: list, workers: int) -> None:
    if len(replies) < workers:
        raise RuntimeError(f"only {len(replies)} of {workers} Celery workers answered")


def broker_backlog(client, queue: str) -> int:
    """Tasks queued or taken but not yet acknowledged (late acknowledgement: until done)."""
    return client.llen(queue) + client.hlen("unacked")


def noop_rate(celery_app, workers: int, count: int) -> tuple[int, float]:
    """`count` no-op tasks queued while the workers are paused, then timed from their
    release until the broker holds none: (tasks, seconds)."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    queue = celery_app.conf.task_default_queue
    with consumers_paused(celery_app, workers):
        for _ in range(count):
            celery_app.send_task(NOOP_TASK)
        start = time.monotonic()
    while broker_backlog(client, queue) and time.monotonic() - start < SETTLE_TIMEOUT:
        time.sleep(0.005)
    return count, time.monotonic() - start
