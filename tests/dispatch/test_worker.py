"""The pipeline on real Celery workers over the real Redis broker and PostgreSQL: the same
outcome as eager mode, and a worker killed mid-step does not double-charge."""

import os
import signal
import time

import pytest
from django.conf import settings
from django.utils import timezone

from apps.catalog import services as catalog_services
from apps.catalog.models import Provider
from apps.dispatch import selectors, tasks
from apps.dispatch.models import DispatchOrder
from apps.payments.models import PaymentEvent
from apps.trust import selectors as trust_selectors
from apps.trust.verify import verify_bundle
from tests.conftest import requires_redis
from tests.dispatch.conftest import ANYTIME, LEAK, Agent, requires_postgresql
from tests.dispatch.fake_provider import FakeProvider
from tests.factories import UserFactory

pytestmark = [requires_redis, pytest.mark.worker]


def wait_for(order_id, *statuses: str, timeout: float = 60.0) -> DispatchOrder:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        order = DispatchOrder.objects.filter(pk=order_id).first()
        if order and order.status in statuses and (order.receipt_id or "fulfilling" in statuses):
            return order
        time.sleep(0.1)
    raise AssertionError(f"order {order_id} is {order and order.status}, not {statuses}")


def bundle_once_integrated(receipt, timeout: float = 30.0) -> dict:
    """The receipt's bundle once the log's integrator (a task the receipt's commit queued)
    has put it in a signed checkpoint."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return trust_selectors.receipt_bundle(
                receipt=receipt, origin=settings.GERAOS_LOG_ORIGIN
            )
        except trust_selectors.NotYetProvable:
            assert time.monotonic() < deadline, "the receipt was never integrated"
            time.sleep(0.1)


def test_a_real_worker_takes_the_intent_to_a_verifiable_receipt(catalog, real_worker):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))

    response = agent.dispatch(text=ANYTIME)

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"  # the work happens on the worker
    order = wait_for(response.json()["id"], "completed")
    bundle = bundle_once_integrated(order.receipt)
    assert verify_bundle(bundle, trust_selectors.jwks())["resolution"] == "completed"
    assert order.payment.status == "captured"


def test_a_provider_failure_on_a_real_worker_voids_with_a_failure_receipt(catalog, real_worker):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="decline")
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))

    order = wait_for(agent.dispatch(text=ANYTIME).json()["id"], "voided")

    assert order.payment.status == "voided"
    assert order.receipt.resolution == "voided"


@requires_postgresql
def test_a_worker_killed_mid_step_is_resumed_and_the_payment_captured_once(
    catalog, worker_processes
):
    provider = Provider.objects.get(name="Lagos Plumber A")
    secret = catalog_services.provider_rotate_secret(provider=provider).encode()
    first_worker = worker_processes()
    with FakeProvider(secret) as fake:
        provider.endpoint_url = fake.url
        provider.save()

        def kill_the_worker_once(fake):
            if len(fake.requests) == 1:
                os.killpg(first_worker.pid, signal.SIGKILL)  # dies waiting for the answer
                first_worker.wait(timeout=10)

        fake.on_request = kill_the_worker_once
        agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))
        order_id = agent.dispatch(text=ANYTIME, details=LEAK).json()["id"]

        stuck = wait_for(order_id, "fulfilling", timeout=60)
        assert first_worker.wait(timeout=30) == -signal.SIGKILL
        # Redis would hand the unacknowledged message back only after the visibility
        # timeout; the beat task is what recovers it. Let the deadline pass:
        DispatchOrder.objects.filter(pk=order_id).update(
            updated_at=timezone.now() - selectors.STUCK_AFTER
        )
        worker_processes()
        assert tasks.resume_stuck_orders.apply_async(ignore_result=False).get(timeout=30) == 1

        order = wait_for(order_id, "completed", timeout=60)

    assert stuck.status == "fulfilling"
    assert [r["key"] for r in fake.requests] == [order_id, order_id]  # resent, same key
    assert len(fake.bookings) == 1
    assert order.confirmation["reference"] == "BK-0001"
    captures = PaymentEvent.objects.filter(payment=order.payment, to_status="captured")
    assert captures.count() == 1
    assert order.transitions.filter(actor="beat").exists()
