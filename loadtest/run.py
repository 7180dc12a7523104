"""The load test: `make loadtest` (`make loadtest ARGS="--users 20 --mix-seconds 30"`).

    scripts/with-test-services .venv/bin/python -m loadtest.run

GeraOS in its production shape on the throw-away PostgreSQL and Redis it is given:
DEBUG off with secrets made for the run, gunicorn with uvicorn workers serving the ASGI
site, 2 Celery worker processes on the Redis broker, sandbox rails. The database is
migrated and seeded (`seed_demo`), then every simulated agent gets a person, memory and a
grant of its own (loadtest.agents). Locust then drives the site, one phase at a time:

1. capacity: each endpoint alone, the agents calling it back to back, so its calls per
   second are what the server can do; divided by the yardstick's (a bare DRF endpoint
   with the same authentication, permission and rate limit: loadtest.urls), measured the
   same way in the same run. POST /dispatches is measured with the workers paused (its
   202 only, as the yardstick has no pipeline behind it), its backlog drained afterwards.
2. the mix: agents booking, polling, reading memory and browsing with pauses, for latency
   percentiles and errors under a realistic load, and the time from dispatch to receipt.
3. Celery: the dispatch backlog drained by the 2 workers with nothing else running
   (completed dispatches per second), then no-op tasks on the same workers and broker.

Rate limits are raised for the run (RAISED_RATE_LIMITS), and the report says so.
"""

import argparse
import io
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from loadtest import plan, report
from loadtest.pipeline import (
    SETTLE_TIMEOUT,
    consumers_paused,
    finished_orders,
    noop_rate,
    unfinished_orders,
    wait_until_orders_finish,
    wait_until_orders_stop_arriving,
)
from loadtest.processes import BIN, PROJECT_ROOT, Processes, free_port

LOCUSTFILE = PROJECT_ROOT / "loadtest" / "locustfile.py"
RAISED_RATE_LIMITS = {
    "GERAOS_API_RATE": "1000000/min",
    "GERAOS_API_MONEY_RATE": "1000000/min",
    "GERAOS_RAIL_CALLBACK_RATE": "1000000/min",
}
START_TIMEOUT = 90.0


class HarnessError(RuntimeError):
    pass


def options_from(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make loadtest ARGS=...", description=__doc__)
    parser.add_argument("--users", type=int, default=50, help="locust users (default 50)")
    parser.add_argument("--agents", type=int, help="agents with a grant each (default: --users)")
    parser.add_argument("--phase-seconds", type=int, default=5, help="each capacity phase")
    parser.add_argument("--mix-seconds", type=int, default=40, help="the agent mix")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument("--drain-seconds", type=int, default=30, help="at most, for the backlog")
    parser.add_argument("--noop-tasks", type=int, default=2000)
    parser.add_argument(
        "--keep", type=Path, help="a directory to keep the processes' logs and locust's CSVs in"
    )
    options = parser.parse_args(argv)
    options.agents = options.agents or options.users
    return options


def deployment_environment(base_url: str) -> dict[str, str]:
    """What a production deployment sets, with secrets made for this run and forgotten."""

    def key() -> str:
        return secrets.token_urlsafe(32)

    return {
        "DJANGO_SETTINGS_MODULE": "loadtest.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GERAOS_MEMORY_KEYS": f"loadtest:{key()}",
        "GERAOS_SEALING_KEYS": f"loadtest:{key()}",
        "GERAOS_LOOKUP_KEYS": f"loadtest:{key()}",
        "GERAOS_TRUST_KEY_SECRET": key(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "GERAOS_PUBLIC_URL": base_url,
        "GERAOS_SANDBOX_ALLOWED": "true",  # the rails are the sandbox's simulators
        "GERAOS_DEMO_ALLOWED": "true",  # seed_demo: the catalogue, rails and FX rates
        "LOG_LEVEL": "WARNING",
        "GERAOS_OIDC_PRIVATE_KEY": id_token_key(),
        **RAISED_RATE_LIMITS,
    }


def id_token_key() -> str:
    """An RSA key in PEM for the run's ID tokens, as GERAOS_OIDC_PRIVATE_KEY holds one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


# ---------------------------------------------------------------------------
# The deployment
# ---------------------------------------------------------------------------
def prepare_database(agents: int, agents_file: Path) -> None:
    from django.core.management import call_command

    from loadtest.agents import agents_create

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    agents_file.write_text(json.dumps({"tokens": agents_create(count=agents)}))


def start_celery_workers(processes: Processes, count: int) -> None:
    for number in range(1, count + 1):
        processes.start(
            f"celery{number}",
            [str(BIN / "celery"), "-A", "geraos", "worker", "--include", "loadtest.tasks",
             "--pool=prefork", "--concurrency=1", "--loglevel=WARNING",
             "-n", f"loadtest{number}@%h"],
            os.environ.copy(),
        )  # fmt: skip


def start_web(processes: Processes, base_url: str, workers: int) -> None:
    processes.start(
        "gunicorn",
        [str(BIN / "gunicorn"), "geraos.asgi:application", "-k", "uvicorn_worker.UvicornWorker",
         "--workers", str(workers), "--bind", base_url.removeprefix("http://"),
         "--graceful-timeout", "5", "--log-level", "warning"],
        os.environ.copy(),
    )  # fmt: skip


def wait_until_serving(base_url: str, processes: Processes) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise HarnessError(f"the site did not answer /healthz:\n{processes.log_tail('gunicorn')}")


def wait_for_workers(celery_app, count: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while len(celery_app.control.ping(timeout=1.0)) < count:
        if time.monotonic() > deadline:
            raise HarnessError(f"{count} Celery workers not up after {START_TIMEOUT:.0f} s")


# ---------------------------------------------------------------------------
# Locust phases
# ---------------------------------------------------------------------------
@dataclass
class Locust:
    processes: Processes
    workdir: Path
    base_url: str
    agents_file: Path
    users: int

    def phase(self, user_class: str, seconds: int) -> report.Phase:
        """Run one locust class for `seconds` (statistics from when every user is going)."""
        prefix = self.workdir / user_class
        command = [
            str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless",
            "-u", str(self.users), "-r", str(self.users), "-t", f"{seconds}s",
            "--host", self.base_url, "--csv", str(prefix), "--reset-stats", "--only-summary",
            "--loglevel", "WARNING", "--exit-code-on-error", "0", user_class,
        ]  # fmt: skip
        env = {**os.environ, "LOADTEST_AGENTS": str(self.agents_file), "PYTHONPATH": "."}
        name = f"locust-{user_class}"
        if self.processes.run(name, command, env, timeout=seconds + 60) != 0:
            raise HarnessError(f"locust {user_class} failed:\n{self.processes.log_tail(name)}")
        return report.read_phase(prefix)


@dataclass
class Capacity:
    """Each endpoint measured alone, and what failed while it was."""

    measured: list[tuple[plan.Endpoint, report.Stats | None]] = field(default_factory=list)
    failures: list[report.Failure] = field(default_factory=list)

    def measure(self, locust: Locust, endpoint: plan.Endpoint, seconds: int) -> None:
        progress(f"{endpoint.label} alone, {seconds} s")
        phase = locust.phase(endpoint.user_class, seconds)
        self.measured.append((endpoint, report.endpoint_stats(phase.rows, endpoint)))
        self.failures += phase.failures


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
def progress(message: str) -> None:
    print(f"loadtest: {message}", file=sys.stderr, flush=True)


@dataclass
class Results:
    bare: report.Stats
    capacity: Capacity
    mix: report.Phase
    backlog: int
    drained: int
    drained_in: float
    noops: int
    noop_seconds: float


def deploy(options: argparse.Namespace, processes: Processes, workdir: Path):
    """Migrate, seed and start everything; returns the locust driver and the Celery app."""
    base_url = f"http://127.0.0.1:{free_port()}"
    # This process migrates, seeds and counts orders: the same settings as the others.
    os.environ.update(deployment_environment(base_url))
    import django

    django.setup()
    from geraos.celery import app as celery_app

    progress("migrating, seeding the demo data and the agents")
    agents_file = workdir / "agents.json"
    prepare_database(options.agents, agents_file)
    progress(f"starting gunicorn on {base_url} and the Celery workers")
    start_celery_workers(processes, options.celery_workers)
    start_web(processes, base_url, options.web_workers)
    wait_until_serving(base_url, processes)
    wait_for_workers(celery_app, options.celery_workers)
    return Locust(processes, workdir, base_url, agents_file, options.users), celery_app


def measure(options: argparse.Namespace, locust: Locust, celery_app) -> Results:
    seconds, workers = options.phase_seconds, options.celery_workers
    yardstick = Capacity()
    yardstick.measure(locust, plan.YARDSTICK, seconds)
    ((_, bare),) = yardstick.measured
    if bare is None or not bare.per_second:
        raise HarnessError("the yardstick endpoint answered nothing")
    capacity = Capacity(failures=yardstick.failures)
    for endpoint in plan.ALONE_BEFORE_THE_MIX:
        capacity.measure(locust, endpoint, seconds)

    progress(f"the agent mix, {options.mix_seconds} s")
    mix = locust.phase("MixAgent", options.mix_seconds)
    progress(f"the mix's orders finished {wait_until_orders_finish(SETTLE_TIMEOUT):.1f} s after it")

    with consumers_paused(celery_app, workers):
        capacity.measure(locust, plan.ACCEPT, seconds)
        wait_until_orders_stop_arriving()
        backlog, before = unfinished_orders(), finished_orders()
    progress(f"the workers draining {backlog} dispatches")
    drained_in = wait_until_orders_finish(options.drain_seconds)
    drained = finished_orders() - before
    for endpoint in plan.ALONE_AFTER_THE_MIX:
        capacity.measure(locust, endpoint, seconds)

    progress(f"{options.noop_tasks} no-op tasks")
    noops, noop_seconds = noop_rate(celery_app, workers, options.noop_tasks)
    return Results(bare, capacity, mix, backlog, drained, drained_in, noops, noop_seconds)


def header(options: argparse.Namespace) -> list[str]:
    raised = ", ".join(f"{name}={rate}" for name, rate in RAISED_RATE_LIMITS.items())
    return [
        "GeraOS load test: gunicorn with "
        f"{options.web_workers} uvicorn workers (geraos.asgi), {options.celery_workers} Celery "
        "worker processes (prefork, 1 task at a time each) on Redis, PostgreSQL; DEBUG off, "
        "throw-away secrets, sandbox rails",
        f"  {options.agents} agents (a person, memory and a grant each), {options.users} locust "
        f"users; capacity phases {options.phase_seconds} s each, mix {options.mix_seconds} s",
        f"  RATE LIMITS RAISED for this run (production defaults are far lower): {raised}",
        "  database connections from each process's pool (DATABASE_POOL_MAX_SIZE), none kept "
        "past its request",
    ]


def report_lines(options: argparse.Namespace, results: Results) -> list[str]:
    dispatch_rate = results.drained / results.drained_in if results.drained_in else 0.0
    noop_rate_ = results.noops / results.noop_seconds
    return [
        *header(options),
        "",
        "Capacity: each endpoint alone, every agent calling it back to back "
        "(ratio: its req/s ÷ the yardstick's, same run)",
        *report.capacity_table(results.bare, results.capacity.measured),
        *report.failure_lines(results.capacity.failures),
        "",
        f"Agent mix ({options.mix_seconds} s, {options.users} agents pausing 0.5-1.5 s between "
        "tasks: book the plumber 3, read memory 2, list skills 1, yardstick 1)",
        *report.mix_table(results.mix.rows),
        *report.failure_lines(results.mix.failures),
        report.pipeline_line(report.pipeline_stats(results.mix.rows)),
        "",
        f"Celery ({options.celery_workers} workers, the same Redis broker)",
        f"  dispatch pipeline: {results.drained} of a backlog of {results.backlog} orders "
        f"completed with their receipt in {results.drained_in:.1f} s = {dispatch_rate:.1f} "
        "dispatches/s (nothing else running)",
        f"  no-op task: {results.noops} in {results.noop_seconds:.2f} s = {noop_rate_:.0f} tasks/s",
        f"  completed dispatches/s ÷ no-op tasks/s: {report.ratio(dispatch_rate, noop_rate_)}",
    ]


@contextmanager
def kept_or_temporary(keep: Path | None):
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="geraos-loadtest-") as workdir:
            yield Path(workdir)
    else:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep


def main(argv: list[str] | None = None) -> None:
    options = options_from(argv)
    if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
        sys.exit("loadtest: needs DATABASE_URL and REDIS_URL (run it through `make loadtest`)")
    with (
        kept_or_temporary(options.keep) as workdir,
        Processes(workdir) as processes,
    ):
        try:
            locust, celery_app = deploy(options, processes, workdir)
            results = measure(options, locust, celery_app)
        except HarnessError as error:
            sys.exit(f"loadtest: {error}")
        except KeyboardInterrupt:
            sys.exit("loadtest: interrupted (everything it started is stopped)")
    print("\n".join(report_lines(options, results)))


if __name__ == "__main__":
    main()
