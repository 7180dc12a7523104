import os
import time

import pytest
import time_machine
from allauth.mfa import app_settings as mfa_settings
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.apps import apps as installed_apps
from django.core.cache import cache
from django.test import Client
from django.utils.module_loading import import_string

from apps.catalog.demo import seed as seed_catalog
from apps.core import rate_limit
from apps.payments import fx
from apps.payments.models import Rail, RoutingRule
from apps.payments.rails import ensure_default_rails
from geraos.celery import app as celery_app
from tests.factories import UserFactory
from tests.helpers import run_service_command, sign_in_with_mfa, wait_for_redis

MIGRATION_DATA = [
    "apps.identity.migrations.0003_plans_free_and_studio.create_plans",
    "apps.memory.migrations.0002_default_scopes.create_scopes",
]

requires_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (run through `make test`)"
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits live in the cache; isolate tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush every table afterwards, the migrations' rows included;
    put the default plans and scopes back before each one, as the migrations made them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        for dotted_path in MIGRATION_DATA:
            import_string(dotted_path)(installed_apps, None)


@pytest.fixture
def stop_redis(monkeypatch):
    """Stops the test's Redis (the cache's and the broker's) when called; it is started
    again, with its data, after the test. Rate limits meeting it stopped try it again at
    once, so no later test finds them still leaving it alone."""
    if "GERAOS_TEST_STOP_REDIS" not in os.environ:
        pytest.skip("needs a Redis it may stop (run through `make test`)")
    monkeypatch.setattr(rate_limit, "LEAVE_REDIS_ALONE_SECONDS", 0)
    stopped = []

    def stop() -> None:
        run_service_command("stop", "redis")
        stopped.append(True)

    yield stop
    if stopped:
        run_service_command("start", "redis")
        wait_for_redis()


@pytest.fixture
def redis_stopped(stop_redis):
    """The test's Redis stopped from its start to its end."""
    stop_redis()


@pytest.fixture
def fresh_totp_step():
    """The clock at the start of the next TOTP step and running on: the test's codes stay
    the current ones for the step's 30 s."""
    period = mfa_settings.TOTP_PERIOD
    with time_machine.travel((time.time() // period + 1) * period, tick=True):
        yield


@pytest.fixture
def real_worker(transactional_db):
    """A Celery worker consuming from the real Redis broker, in a thread. It has its own
    database connection, so the test's data must be committed (transactional_db; the
    migrations' rows are restored afterwards), and tasks really go through the broker.
    Logging stays as pytest and Django set it up: a worker started in this process would
    otherwise set up Celery's own (the root logger's handlers replaced, its level the test
    worker's ERROR) for every test after it, and their warnings would go unheard."""
    celery_app.conf.task_always_eager = False
    signals.setup_logging.connect(_logging_left_alone)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        signals.setup_logging.disconnect(_logging_left_alone)
        celery_app.conf.task_always_eager = True


def _logging_left_alone(**_signal) -> None:
    """Celery configures logging only when nobody receives its setup_logging signal."""


@pytest.fixture
def retried_at_once():
    """Eager tasks retried at once, as a worker would retry them later (propagating, an
    eager task's first retry would end the run)."""
    celery_app.conf.task_eager_propagates = False
    try:
        yield
    finally:
        celery_app.conf.task_eager_propagates = True


@pytest.fixture
def catalog(db):
    """Rails, FX rates and the demo catalogue: what dispatching needs."""
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    seed_catalog()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def user_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator_client(operator) -> Client:
    return sign_in_with_mfa(Client(), operator)
