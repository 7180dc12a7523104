"""A database or broker that blinks is retried on its own short schedule: it never spends
one of the attempts a step has for its provider or rail, so a flaky connection does not
make the pipeline give up on a provider or rail sooner."""

import pytest
from django.db import OperationalError

from apps.catalog.models import Provider
from apps.dispatch import callbacks, services, tasks
from apps.dispatch.fulfilment import ProviderUnavailable
from apps.dispatch.models import CallbackDelivery, DispatchOrder
from tests.dispatch.conftest import Agent
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("retried_at_once")]


class Blinking:
    """Wraps a service so that every other call, `blips` times, fails with a dropped
    database connection before doing anything."""

    def __init__(self, monkeypatch, name: str, *, blips: int, module=services):
        self.service, self.blips, self.calls = getattr(module, name), blips, 0
        monkeypatch.setattr(module, name, self)

    def __call__(self, **kwargs):
        self.calls += 1
        if self.blips and self.calls % 2:
            self.blips -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return self.service(**kwargs)


class Counting:
    """Counts the calls to a callable that raised `error` (the provider or rail asked)."""

    def __init__(self, target, error: type[Exception]):
        self.target, self.error, self.asked = target, error, 0

    def __call__(self, *args, **kwargs):
        try:
            return self.target(*args, **kwargs)
        except self.error:
            self.asked += 1
            raise


class RailDown(OSError):
    pass


@pytest.fixture
def authorized(catalog, wednesday_morning) -> str:
    """An authorized order whose next steps are run by the test, one task at a time."""
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))
    order_id = agent.dispatch().json()["id"]
    tasks.authorize_payment.apply(args=[order_id])
    return order_id


@pytest.mark.parametrize("blips", [0, 1, 3, 6])
def test_blips_do_not_spend_the_providers_attempts(authorized, monkeypatch, blips):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="unavailable")
    Blinking(monkeypatch, "order_fulfil", blips=blips)
    provider = Counting(services._book, ProviderUnavailable)
    monkeypatch.setattr(services, "_book", provider)

    tasks.fulfil.apply(args=[authorized], throw=False)

    assert provider.asked == tasks.fulfil.max_retries + 1
    assert DispatchOrder.objects.get(pk=authorized).failure_code == "provider_unavailable"


@pytest.mark.parametrize("blips", [0, 2, 8])
def test_blips_do_not_spend_the_rails_capture_attempts(authorized, monkeypatch, blips):
    tasks.fulfil.apply(args=[authorized])
    Blinking(monkeypatch, "order_capture", blips=blips)
    rail = Counting(rail_down, RailDown)
    monkeypatch.setattr(services.payment_lifecycle, "payment_capture", rail)

    countdowns = []
    retry = tasks.capture.retry  # what autoretry_for calls for a blip

    def recording_retry(**kwargs):
        countdowns.append(kwargs["countdown"])
        return retry(**kwargs)

    monkeypatch.setattr(tasks.capture, "retry", recording_retry)

    tasks.capture.apply(args=[authorized], throw=False)

    assert rail.asked == tasks.capture.max_retries + 1
    assert DispatchOrder.objects.get(pk=authorized).failure_code == "capture_failed"
    assert len(countdowns) == blips
    assert all(countdown <= tasks.RETRY["retry_backoff"] for countdown in countdowns)


@pytest.mark.parametrize("blips", [0, 4, 8])
def test_blips_do_not_spend_a_callbacks_delivery_attempts(
    catalog, wednesday_morning, monkeypatch, blips
):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))
    agent.dispatch(callback_url="http://127.0.0.1:9/events")  # nothing listens there
    delivery = CallbackDelivery.objects.get()
    Blinking(monkeypatch, "deliver", blips=blips, module=callbacks)

    tasks.deliver_callback.apply(args=[str(delivery.pk)], throw=False)

    delivery.refresh_from_db()
    assert delivery.attempts == tasks.deliver_callback.max_retries + 1
    assert delivery.status == "gave_up"


def rail_down(**kwargs):
    raise RailDown("the rail timed out")


@pytest.mark.parametrize("blips", [0, 4, 8])
def test_blips_do_not_spend_the_rails_authorization_attempts(
    catalog, wednesday_morning, monkeypatch, blips
):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))
    order_id = agent.dispatch().json()["id"]
    Blinking(monkeypatch, "order_authorize", blips=blips)
    rail = Counting(rail_down, RailDown)
    monkeypatch.setattr(services.payment_lifecycle, "payment_authorize", rail)

    tasks.authorize_payment.apply(args=[order_id], throw=False)

    assert rail.asked == tasks.authorize_payment.max_retries + 1


@pytest.mark.parametrize("blips", [0, 4, 10])
def test_blips_do_not_spend_the_rails_compensation_attempts(authorized, monkeypatch, blips):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="unavailable")
    tasks.fulfil.apply(args=[authorized])  # gives up: the authorization is to be voided
    Blinking(monkeypatch, "order_compensate", blips=blips)
    rail = Counting(rail_down, RailDown)
    monkeypatch.setattr(services.payment_lifecycle, "payment_void", rail)

    tasks.compensate.apply(args=[authorized], throw=False)

    assert rail.asked == tasks.compensate.max_retries + 1
