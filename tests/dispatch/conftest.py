import datetime as dt
import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from geraos.celery import app as celery_app
from tests.factories import UserFactory, make_grant

PLUMBER = "book a plumber in Lagos under £50 tomorrow morning"
ANYTIME = "book a plumber in Lagos under £50"  # no window: fits at any real time and day
LEAK = {"problem": "The kitchen tap is leaking", "address_area": "Ikoyi"}

requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL"
)


@pytest.fixture
def wednesday_morning(monkeypatch):
    """Tomorrow morning is a Thursday, when the morning plumbers work."""
    frozen = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: frozen)
    return frozen


class Agent:
    """An agent calling the API with a grant's token."""

    def __init__(self, user, on_commit=None, **grant):
        self.user = user
        self.on_commit = on_commit
        self.grant, token = make_grant(
            user,
            scopes=grant.pop("scopes", ["dispatch:create", "dispatch:read", "receipts:read"]),
            **grant,
        )
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def dispatch(self, key: str = "k1", text: str = PLUMBER, details=None, **extra):
        body = {"text": text, "details": LEAK if details is None else details, **extra}
        return self.post("/api/v1/dispatches", body, HTTP_IDEMPOTENCY_KEY=key)

    def post(self, path: str, body: dict, **headers):
        """POST, then run what was queued on commit (the pipeline) as a worker would."""
        if self.on_commit is None:
            return self.client.post(path, body, content_type="application/json", **headers)
        with self.on_commit(execute=True):
            return self.client.post(path, body, content_type="application/json", **headers)

    def get(self, path: str):
        return self.client.get(path)


@pytest.fixture
def agent(catalog, wednesday_morning, django_capture_on_commit_callbacks):
    return Agent(
        UserFactory(country="GB", preferred_currency="GBP"),
        on_commit=django_capture_on_commit_callbacks,
    )


@pytest.fixture
def worker_processes(transactional_db):
    """Start Celery workers as separate processes (so a test can kill one outright) on
    the test database, each running one task at a time; returns a function that starts
    one more (`pool="prefork"`: the task runs in a child process the worker watches)."""
    database = connection.settings_dict["NAME"]
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
    env = {**os.environ, "DATABASE_URL": url, "GERAOS_TEST_EAGER": "false"}
    started: list[subprocess.Popen] = []

    def start(pool: str = "solo") -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "celery", "-A", "geraos", "worker", f"--pool={pool}",
             "--concurrency=1", "--loglevel=WARNING", f"--hostname=killable{len(started)}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=env,
            start_new_session=True,  # its own process group: killed as a whole
        )  # fmt: skip
        started.append(process)
        return process

    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = True
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
