"""With the broker (Redis) down, money-moving POSTs are still accepted: the work is in the
database, and the sweeps queue it once the broker is back."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from celery.app.task import Task
from django.conf import settings
from django.utils import timezone
from djmoney.money import Money
from kombu.exceptions import OperationalError

from apps.dispatch import selectors as dispatch_selectors
from apps.dispatch.models import DispatchOrder
from apps.payments import quotes
from apps.payments import selectors as payment_selectors
from apps.payments.models import Payment
from tests.dispatch.conftest import ANYTIME, Agent
from tests.factories import UserFactory

# The requests must really commit: their tasks are queued on commit, inside the request.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    """Publishing a task raises what kombu raises when Redis refuses the connection."""

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", refused)


def test_a_dispatch_is_accepted_and_left_for_the_sweep(catalog, broker_down, caplog):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))

    response = agent.dispatch(text=ANYTIME)

    assert response.status_code == 202
    order = DispatchOrder.objects.get()
    assert order.status == DispatchOrder.Status.PENDING
    assert order in dispatch_selectors.orders_stuck(older_than=dt.timedelta(0))
    assert "task.enqueue_failed task=dispatch.authorize_payment" in caplog.text


def test_a_payment_is_accepted_and_left_for_the_sweep(catalog, broker_down, monkeypatch):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))
    quote = quotes.quote_create(user=agent.user, amount=Money("30.00", "GBP"))

    response = agent.post(
        "/api/v1/payments",
        {"quote": str(quote.pk), "reference": "plumber"},
        HTTP_IDEMPOTENCY_KEY="p",
    )

    assert response.status_code == 202
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PENDING
    later = timezone.now() + payment_selectors.STUCK_AFTER + dt.timedelta(seconds=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    assert payment.pk in payment_selectors.payments_needing_reconciliation()


QUEUE_FROM_A_FRESH_PROCESS = """
import time
import django
django.setup()
from apps.core.enqueue import _enqueue
from apps.dispatch.tasks import authorize_payment
started = time.monotonic()
_enqueue(authorize_payment, ("order",))
print(f"{time.monotonic() - started:.1f}")
"""


@pytest.mark.django_db(transaction=False)
def test_a_web_process_meeting_redis_down_gives_up_queueing_within_seconds():
    """A web process's first task with Redis unreachable: no waiting on a result backend
    nobody reads, nor the workers' patient publish retries; the sweep queues it later."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "geraos.settings",
        "DEBUG": "true",
        "REDIS_URL": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }

    queued = subprocess.run(  # noqa: S603 (our own script, this interpreter)
        [sys.executable, "-c", QUEUE_FROM_A_FRESH_PROCESS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )

    assert queued.returncode == 0, queued.stderr[-2000:]
    assert float(queued.stdout.split()[-1]) < 3
