"""An agent's status callbacks: what is recorded when two runs of one delivery overlap."""

import pytest

from apps.dispatch import callbacks, outbound
from apps.dispatch.models import CallbackDelivery
from tests.dispatch.conftest import Agent
from tests.dispatch.fake_provider import FakeProvider
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agents_endpoint():
    with FakeProvider(secret=None) as receiver:  # answers 200 to every callback
        yield receiver


@pytest.fixture
def lost(catalog, wednesday_morning, agents_endpoint) -> CallbackDelivery:
    """The callback of a dispatch accepted while the broker was down: the delivery is in
    the database, its task was never queued (nor was the order's first step)."""
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))  # runs no on-commit work
    agent.dispatch(callback_url=agents_endpoint.url.replace("/bookings", "/events"))
    return CallbackDelivery.objects.get()


def test_a_delivery_another_run_delivered_is_never_marked_given_up(
    lost, agents_endpoint, monkeypatch
):
    """Two runs of one delivery POST at once: the agent answers one, the other's last
    attempt times out. Delivered it was, and stays."""
    reaching_the_agent = outbound.post

    def answered_elsewhere_then_timed_out(url, **request):
        monkeypatch.setattr(outbound, "post", reaching_the_agent)
        callbacks.deliver(delivery_id=lost.pk, final=False)  # the other run
        raise outbound.Unreachable("unreachable: timed out")

    monkeypatch.setattr(outbound, "post", answered_elsewhere_then_timed_out)

    callbacks.deliver(delivery_id=lost.pk, final=True)

    delivery = CallbackDelivery.objects.get()
    assert delivery.status == CallbackDelivery.Status.DELIVERED
    assert delivery.last_response == "HTTP 200"
    assert delivery.attempts == 2
