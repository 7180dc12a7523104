"""Transient failures under a running pipeline: real worker processes over the real Redis
and PostgreSQL, which stop and start again (and workers die) while a batch of dispatches
runs. Every order completes once, with one capture and one receipt, within seconds of
the blink (a killed worker's order: once the stuck-order sweep re-queues it)."""

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from apps.catalog import services as catalog_services
from apps.catalog.models import Provider
from apps.dispatch import selectors, tasks
from apps.dispatch.models import DispatchOrder
from apps.payments.models import PaymentEvent
from apps.trust.models import Receipt
from tests.conftest import requires_redis
from tests.dispatch.conftest import ANYTIME, LEAK, Agent, requires_postgresql
from tests.dispatch.fake_provider import FakeProvider
from tests.factories import UserFactory
from tests.helpers import run_service_command, wait_for_redis

requires_restarts = pytest.mark.skipif(
    "GERAOS_TEST_STOP_POSTGRESQL" not in os.environ,
    reason="needs servers it may restart (run through `make test`)",
)
pytestmark = [
    requires_redis,
    requires_postgresql,
    requires_restarts,
    pytest.mark.worker,
    pytest.mark.chaos,
]

BATCH = 6
RECOVERY_SECONDS = 30
STARTUP_SECONDS = 60  # workers starting on a busy machine, before any blow lands


class Outage:
    """PostgreSQL or Redis stopped now and started again, with its data, `seconds` later
    in the background (scripts/with-test-services exports the commands)."""

    def __init__(self, server: str, *, seconds: float):
        self.server = server
        run_service_command("stop", server)
        self.began = time.monotonic()
        self._thread = threading.Thread(target=self._start_later, args=(seconds,))
        self._thread.start()

    def _start_later(self, seconds: float) -> None:
        time.sleep(seconds)
        run_service_command("start", self.server)
        if self.server == "redis":
            wait_for_redis()

    def wait_until_over(self) -> None:
        self._thread.join()


def wait_until(condition, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still waiting after {timeout} s"
        time.sleep(0.05)


def completed(order_ids: list[str]) -> set[str]:
    """The orders completed with their receipt. A restart cuts this process's connection
    too: it is closed then, so the next look reconnects."""
    try:
        rows = DispatchOrder.objects.filter(
            pk__in=order_ids, status=DispatchOrder.Status.COMPLETED, receipt__isnull=False
        ).values_list("pk", flat=True)
        return {str(pk) for pk in rows}
    except (OperationalError, InterfaceError):
        connection.close()
        return set()


def wait_until_completed(order_ids: list[str], *, since: float, timeout: float) -> float:
    """Seconds from `since` (a monotonic time) until every order completed."""
    deadline = since + timeout
    while completed(order_ids) != set(order_ids):
        if time.monotonic() > deadline:
            stuck = DispatchOrder.objects.exclude(pk__in=completed(order_ids))
            raise AssertionError(
                f"not completed {timeout} s after: {list(stuck.values_list('pk', 'status'))}"
            )
        time.sleep(0.1)
    return time.monotonic() - since


def pool_process(worker: subprocess.Popen) -> int:
    """The pid of the prefork worker's one pool process (Linux)."""
    (child,) = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return int(child)


def dispatch_batch(size: int) -> list[str]:
    order_ids = []
    for number in range(size):
        agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))
        response = agent.dispatch(key=f"chaos-{number}", text=ANYTIME, details=LEAK)
        assert response.status_code == 202, response.content
        order_ids.append(response.json()["id"])
    return order_ids


@pytest.fixture
def take_down(transactional_db):
    """Stop PostgreSQL or Redis now and start it again `seconds` later; every server is
    back before the test's rows are flushed, whatever happened."""
    outages: list[Outage] = []

    def take_down(server: str, *, seconds: float) -> Outage:
        outages.append(Outage(server, seconds=seconds))
        return outages[-1]

    yield take_down
    for outage in outages:
        outage.wait_until_over()


@pytest.fixture
def provider(catalog):
    """The plumber every dispatch of the batch books, on a real local HTTP server."""
    plumber = Provider.objects.get(name="Lagos Plumber A")
    secret = catalog_services.provider_rotate_secret(provider=plumber).encode()
    with FakeProvider(secret) as fake:
        plumber.endpoint_url = fake.url
        plumber.save()
        yield fake


def assert_each_completed_once(order_ids: list[str], provider: FakeProvider) -> None:
    orders = DispatchOrder.objects.filter(pk__in=order_ids).select_related("payment")
    assert {order.status for order in orders} == {DispatchOrder.Status.COMPLETED}
    assert sorted(provider.bookings) == sorted(order_ids)  # one booking each
    for order in orders:
        captures = PaymentEvent.objects.filter(payment=order.payment, to_status="captured")
        assert captures.count() == 1, order.pk
    assert Receipt.objects.count() == len(order_ids)


def test_orders_complete_within_seconds_of_a_postgresql_restart(
    provider, worker_processes, take_down
):
    outages = []

    def restart_postgresql_once(fake):
        if not outages:  # the worker waits for this answer: its connection is cut
            outages.append(take_down("postgresql", seconds=1))

    provider.on_request = restart_postgresql_once
    order_ids = dispatch_batch(BATCH)
    worker_processes()

    wait_until(lambda: outages, timeout=STARTUP_SECONDS)
    (outage,) = outages
    outage.wait_until_over()
    seconds = wait_until_completed(order_ids, since=outage.began, timeout=RECOVERY_SECONDS)

    print(f"every order completed {seconds:.1f} s after PostgreSQL stopped for 1 s")
    assert_each_completed_once(order_ids, provider)


def test_a_batch_survives_killed_workers_and_redis_and_postgresql_restarts(
    provider, worker_processes, take_down, monkeypatch
):
    """Each blow lands while a worker waits for the provider's answer about one order:
    the first kills that worker outright, the next the pool process running the step in
    a second one; then Redis stops for 2 s (as the worker queues the capture) and
    PostgreSQL for 1 s (as it records the booking)."""
    outages: list[Outage] = []
    workers = []
    struck = {}  # each blow: the order whose step it hit

    def chaos(fake):
        match len(fake.requests):
            case 1:
                os.killpg(workers[0].pid, signal.SIGKILL)
                workers.append(worker_processes(pool="prefork"))
                struck["worker"] = fake.requests[-1]["key"]
            case 2:
                os.kill(pool_process(workers[1]), signal.SIGKILL)
                struck["pool process"] = fake.requests[-1]["key"]
            case 4:
                outages.append(take_down("redis", seconds=2))
            case 6:
                outages.append(take_down("postgresql", seconds=1))
                struck["postgresql"] = fake.requests[-1]["key"]

    provider.on_request = chaos
    order_ids = dispatch_batch(BATCH)
    workers.append(worker_processes())

    wait_until(lambda: len(outages) == 2, timeout=STARTUP_SECONDS)
    for outage in outages:
        outage.wait_until_over()
    # The killed worker's message waits, unacknowledged, in Redis; every other completes.
    others = [pk for pk in order_ids if pk != struck["worker"]]
    seconds = wait_until_completed(others, since=outages[-1].began, timeout=RECOVERY_SECONDS)
    print(f"the others completed {seconds:.1f} s after the last outage began")

    # The beat's sweep, a stuck-order deadline later, resumes the killed worker's order.
    later = timezone.now() + selectors.STUCK_AFTER
    with monkeypatch.context() as clock:
        clock.setattr("django.utils.timezone.now", lambda: later)
        assert tasks.resume_stuck_orders() == 1
    seconds = wait_until_completed(order_ids, since=time.monotonic(), timeout=RECOVERY_SECONDS)
    print(f"the killed worker's order completed {seconds:.1f} s after the sweep")

    assert workers[0].wait(timeout=10) == -signal.SIGKILL
    asked = Counter(request["key"] for request in provider.requests)
    # Each step cut short asked the provider again, with the same key; no other did.
    assert {key for key, times in asked.items() if times > 1} == set(struck.values())
    assert_each_completed_once(order_ids, provider)
