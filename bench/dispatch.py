"""Dispatch-pipeline benchmark (not a test): `python -m bench.dispatch`, or `make bench`.

    scripts/with-test-services .venv/bin/python -m bench.dispatch

On a throw-away test database, with the demo catalogue and an agent on the studio plan
asking for a plumber in Lagos, it measures through the HTTP API (Django's test Client):

- dispatches completed per second end to end in eager mode: with no transaction around
  the request, each step's on-commit hook runs the next Celery task inline;
- the same with 2 Celery worker processes on Redis, and its ratio to eager mode (needs
  PostgreSQL and REDIS_URL; the Redis must be a throw-away one, as the bench sends the
  pipeline's messages to its default queue and purges them);
- POST /api/v1/intents/resolve latency: p99/p50, with the p50 in ms for orientation;
- POST /api/v1/dispatches throughput (the 202 only, the pipeline queued on the broker)
  as a ratio to a bare DRF endpoint with the same authentication and permission.

Absolute rates depend on the machine; the ratios are what to compare between commits.
"""

import datetime as dt
import itertools
import logging
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bench.common import test_database

EAGER_DISPATCHES = 40
WORKER_DISPATCHES = 40
WORKERS = 2
WORKER_START_TIMEOUT = 60.0
PIPELINE_TIMEOUT = 120.0
RESOLVE_CALLS = 200
ACCEPT_CALLS = 200
DETAILS = {"problem": "Leaking tap"}
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def plumber_request() -> str:
    """Tomorrow morning in Lagos, unless that is a Sunday, when the morning plumbers
    (Monday to Saturday, 08:00-12:00) do not work."""
    from django.utils import timezone

    tomorrow = timezone.now().astimezone(ZoneInfo("Africa/Lagos")).date() + dt.timedelta(days=1)
    when = "on monday morning" if tomorrow.weekday() == 6 else "tomorrow morning"
    return f"book a plumber in Lagos under £50 {when}"


class Agent:
    """An agent calling the API with its grant's bearer token."""

    def __init__(self, token: str):
        from django.test import Client

        self.token = token
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        self.text = plumber_request()
        self.keys = (f"bench-{n}" for n in itertools.count())

    def dispatch(self) -> str:
        """POST /dispatches with a fresh Idempotency-Key; returns the order id."""
        body = {"text": self.text, "details": DETAILS}
        response = self._post("/api/v1/dispatches", body, HTTP_IDEMPOTENCY_KEY=next(self.keys))
        assert response.status_code == 202, response.content
        return response.json()["id"]

    def resolve(self) -> None:
        response = self._post("/api/v1/intents/resolve", {"text": self.text})
        assert response.status_code == 200, response.content

    def bare(self) -> None:
        response = self._post("/bench/bare", {})
        assert response.status_code == 200, response.content

    def _post(self, path: str, body: dict, **headers):
        return self.client.post(path, body, content_type="application/json", **headers)


def agent_on_the_studio_plan() -> Agent:
    """Rails, FX rates and the demo catalogue, and a GB user on the studio plan (the free
    plan allows 20 dispatches a month) whose agent's spend limits never get in the way."""
    from djmoney.money import Money

    from apps.catalog.demo import seed
    from apps.payments import fx
    from apps.payments.models import Rail, RoutingRule
    from apps.payments.rails import ensure_default_rails
    from tests.factories import UserFactory, make_grant, put_on_plan

    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    seed()
    user = UserFactory(country="GB", preferred_currency="GBP")
    put_on_plan(user, "studio")
    unlimited = Money("1000000", "GBP")
    _, token = make_grant(
        user,
        per_action_limit=unlimited,
        daily_limit=unlimited,
        scopes=["dispatch:create", "dispatch:read"],
    )
    return Agent(token)


def completed(order_ids: list[str]) -> int:
    from apps.dispatch.models import DispatchOrder

    return DispatchOrder.objects.filter(
        pk__in=order_ids, status=DispatchOrder.Status.COMPLETED
    ).count()


def finished(order_ids: list[str]) -> int:
    """Orders at the end of the pipeline, with their receipt issued."""
    from apps.dispatch.models import FINISHED, DispatchOrder

    return DispatchOrder.objects.filter(
        pk__in=order_ids, status__in=FINISHED, receipt__isnull=False
    ).count()


def per_second(fn: Callable[[], object], calls: int) -> float:
    """Calls per second over `calls` calls in a row (after a warm-up call)."""
    fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return calls / (time.perf_counter() - start)


@contextmanager
def tasks_sent_to_the_broker():
    """Celery tasks go to the broker instead of running inline (tests.settings' default)."""
    from geraos.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    try:
        yield celery_app
    finally:
        celery_app.conf.task_always_eager = True


def eager_completions_per_second(agent: Agent) -> tuple[float, int]:
    """Completions per second, and how many of the dispatches completed."""
    start = time.perf_counter()
    order_ids = [agent.dispatch() for _ in range(EAGER_DISPATCHES)]
    elapsed = time.perf_counter() - start
    done = completed(order_ids)
    return done / elapsed, done


def worker_database_url() -> str:
    """DATABASE_URL with the test database's name in place of the original one."""
    from django.db import connection

    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path=f"/{connection.settings_dict['NAME']}").geturl()


def start_worker(number: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "GERAOS_TEST_EAGER": "false",
        "DATABASE_URL": worker_database_url(),
    }
    command = [
        str(Path(sys.executable).with_name("celery")),
        *("-A", "geraos", "worker", "--concurrency=1", "--pool=prefork"),
        *("-Q", "celery", "--loglevel=WARNING", "-n", f"bench{number}@%h"),
    ]
    # Its banner goes nowhere, its warnings to stderr; a session of its own, so the
    # worker and its pool child can be killed together.
    return subprocess.Popen(  # noqa: S603 - the venv's celery, fixed arguments
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )


def stop_worker(worker: subprocess.Popen) -> None:
    """A warm shutdown, or a kill of its process group if that takes too long."""
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


@contextmanager
def celery_workers(celery_app, count: int):
    workers = []
    try:
        for number in range(1, count + 1):
            workers.append(start_worker(number))  # one at a time: stopped even if the next fails
        wait_for_workers(celery_app, count)
        yield
    finally:
        for worker in workers:
            stop_worker(worker)


def wait_for_workers(celery_app, count: int) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while len(celery_app.control.ping(timeout=1.0)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} Celery workers not up after {WORKER_START_TIMEOUT} s")


def wait_until_finished(order_ids: list[str]) -> None:
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    while finished(order_ids) < len(order_ids) and time.monotonic() < deadline:
        time.sleep(0.1)


def worker_completions_per_second(agent: Agent) -> tuple[float, int]:
    """Completions per second, and how many of the dispatches completed."""
    with tasks_sent_to_the_broker() as celery_app, celery_workers(celery_app, WORKERS):
        start = time.perf_counter()
        order_ids = [agent.dispatch() for _ in range(WORKER_DISPATCHES)]
        wait_until_finished(order_ids)
        elapsed = time.perf_counter() - start
    done = completed(order_ids)
    return done / elapsed, done


def resolve_latency_seconds(agent: Agent) -> tuple[float, float]:
    """p50 and p99 of POST /intents/resolve, in seconds (after a warm-up call)."""
    agent.resolve()
    samples = []
    for _ in range(RESOLVE_CALLS):
        start = time.perf_counter()
        agent.resolve()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def urlconf_with_a_bare_endpoint() -> ModuleType:
    """The site's URLs plus POST /bench/bare: a DRF view with the same authentication
    (the DRF defaults) and permission as POST /dispatches, answering {"ok": true}."""
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from apps.core.api.permissions import HasScope
    from geraos import urls

    class BareView(APIView):
        permission_classes = [HasScope("dispatch:create")]

        def post(self, request):
            return Response({"ok": True})

    urlconf = ModuleType("bench_dispatch_urls")
    urlconf.urlpatterns = [*urls.urlpatterns, path("bench/bare", BareView.as_view())]
    return urlconf


def accept_rates(agent: Agent) -> tuple[float, float]:
    """Requests per second of POST /dispatches (the pipeline queued, not run) and of the
    bare endpoint. Overriding ROOT_URLCONF clears the URL caches (Django's
    setting_changed receiver); the queued messages are purged afterwards."""
    from django.test.utils import override_settings

    with (
        override_settings(ROOT_URLCONF=urlconf_with_a_bare_endpoint()),
        tasks_sent_to_the_broker() as celery_app,
    ):
        try:
            return per_second(agent.dispatch, ACCEPT_CALLS), per_second(agent.bare, ACCEPT_CALLS)
        finally:
            celery_app.control.purge()


def report_workers(agent: Agent, vendor: str, eager_rate: float) -> None:
    if not os.environ.get("REDIS_URL") or vendor == "sqlite":
        print(f"  {WORKERS} Celery workers on Redis: skipped (needs REDIS_URL and PostgreSQL)")
        return
    rate, done = worker_completions_per_second(agent)
    print(
        f"  {WORKERS} Celery workers on Redis: {done}/{WORKER_DISPATCHES} completed, "
        f"{rate:.1f} dispatches/s = {rate / eager_rate:.2f}x eager"
    )


def report_accept_ratio(agent: Agent) -> None:
    broker = "Redis" if os.environ.get("REDIS_URL") else "the in-memory broker, REDIS_URL unset"
    dispatches, bare = accept_rates(agent)
    print(
        f"  POST /dispatches / bare DRF endpoint: {dispatches / bare:.2f}x "
        f"({dispatches:.0f}/s vs {bare:.0f}/s, tasks queued on {broker})"
    )


def main() -> None:
    logging.disable(logging.INFO)  # the pipeline's INFO lines (Stripe, task results)
    with test_database() as vendor:
        agent = agent_on_the_studio_plan()
        print(f"GeraOS dispatch benchmark on {vendor}: {agent.text!r}")
        eager_rate, done = eager_completions_per_second(agent)
        print(
            f"  eager mode, end to end: {done}/{EAGER_DISPATCHES} completed, "
            f"{eager_rate:.1f} dispatches/s"
        )
        report_workers(agent, vendor, eager_rate)
        p50, p99 = resolve_latency_seconds(agent)
        print(
            f"  POST /intents/resolve p99/p50: {p99 / p50:.2f}x "
            f"(p50 {p50 * 1000:.1f} ms, {RESOLVE_CALLS} calls)"
        )
        report_accept_ratio(agent)


if __name__ == "__main__":
    main()
