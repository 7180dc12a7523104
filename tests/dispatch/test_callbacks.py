"""An agent's status callback whose delivery task was lost (never queued while the broker
was down, its worker killed, a blink that outlasted the task's retries) is delivered by the
beat's sweep with the attempts its budget has left, or given up unsent past the horizon; a
delivered one, or one whose own retry is on its way, is left alone."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import OperationalError

from apps.dispatch import callbacks, outbound, selectors, tasks
from apps.dispatch.models import CallbackDelivery
from tests.dispatch.conftest import Agent
from tests.dispatch.fake_provider import FakeProvider
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

A_MOMENT = dt.timedelta(seconds=1)


class Clock:
    """The frozen clock of `wednesday_morning`, moved on by the test."""

    def __init__(self, monkeypatch, now: dt.datetime):
        self.monkeypatch, self.now = monkeypatch, now

    def move(self, by: dt.timedelta) -> None:
        self.now += by
        self.monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)


@pytest.fixture
def clock(monkeypatch, wednesday_morning) -> Clock:
    return Clock(monkeypatch, wednesday_morning)


@pytest.fixture
def agents_endpoint():
    with FakeProvider(secret=None) as receiver:  # answers 200 to every callback
        yield receiver


@pytest.fixture
def lost(catalog, clock, agents_endpoint) -> CallbackDelivery:
    """The callback of a dispatch accepted while the broker was down: the delivery is in
    the database, its task was never queued (nor was the order's first step)."""
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))  # runs no on-commit work
    agent.dispatch(callback_url=agents_endpoint.url.replace("/bookings", "/events"))
    return CallbackDelivery.objects.get()


class Broker:
    """Deliveries' task messages held in a queue, run in order when the test says, as a
    worker with a backlog would run them."""

    def __init__(self, monkeypatch) -> None:
        self.messages: list[tuple[list, dict]] = []
        monkeypatch.setattr(tasks.deliver_callback, "apply_async", self.put)

    def put(self, args, kwargs=None, **options) -> SimpleNamespace:
        self.messages.append((args, kwargs or {}))
        return SimpleNamespace(get=lambda **_: "queued")  # retry_as_next_attempt's eager wait

    def run_all(self) -> None:
        while self.messages:
            args, kwargs = self.messages.pop(0)
            tasks.deliver_callback.apply(args=args, kwargs=kwargs)


def sweep() -> CallbackDelivery:
    tasks.resume_lost_callbacks()
    return CallbackDelivery.objects.get()


def test_a_callback_whose_task_was_lost_is_delivered_by_the_sweep(lost, clock, agents_endpoint):
    clock.move(selectors.CALLBACK_LOST_AFTER + A_MOMENT)

    delivery = sweep()

    assert delivery.status == CallbackDelivery.Status.DELIVERED
    assert delivery.attempts == 1
    (request,) = agents_endpoint.requests
    assert request["body"]["status"] == "pending"
    assert request["body"]["dispatch"] == str(lost.order_id)


def test_a_callback_whose_task_gave_up_on_blinks_is_delivered_by_the_sweep(
    lost, clock, agents_endpoint, monkeypatch, retried_at_once
):
    with monkeypatch.context() as blinking:
        blinking.setattr(callbacks, "deliver", database_down)
        tasks.deliver_callback.apply(args=[str(lost.pk)], throw=False)  # out of retries
    assert CallbackDelivery.objects.get().status == CallbackDelivery.Status.PENDING
    clock.move(selectors.CALLBACK_LOST_AFTER + A_MOMENT)

    delivery = sweep()

    assert delivery.status == CallbackDelivery.Status.DELIVERED
    assert len(agents_endpoint.requests) == 1


def test_a_lost_callback_gets_only_the_attempts_its_budget_has_left(lost, clock, agents_endpoint):
    agents_endpoint.answer = "down"  # 503, every time
    for attempt in range(tasks.deliver_callback.max_retries):  # all but the last, then lost
        with pytest.raises(callbacks.NotDelivered):
            callbacks.deliver(delivery_id=lost.pk, attempt=attempt, final=False)
    clock.move(selectors.CALLBACK_LOST_AFTER + A_MOMENT)

    delivery = sweep()

    assert delivery.status == CallbackDelivery.Status.GAVE_UP
    assert delivery.attempts == tasks.deliver_callback.max_retries + 1
    assert len(agents_endpoint.requests) == tasks.deliver_callback.max_retries + 1


def test_a_callback_whose_task_is_only_late_is_attempted_by_one_chain(
    lost, clock, agents_endpoint, monkeypatch
):
    """Workers behind by more than CALLBACK_LOST_AFTER: the sweep queues the delivery
    again while its own first attempt still waits in the queue. Both run; one of them
    makes the attempts, and the agent is asked no more than the budget says."""
    agents_endpoint.answer = "down"  # 503, every time
    broker = Broker(monkeypatch)
    broker.put([str(lost.pk)], {"attempt": 0})  # its task, queued and waiting
    clock.move(selectors.CALLBACK_LOST_AFTER + A_MOMENT)
    tasks.resume_lost_callbacks()

    broker.run_all()

    delivery = CallbackDelivery.objects.get()
    assert delivery.status == CallbackDelivery.Status.GAVE_UP
    assert delivery.attempts == tasks.deliver_callback.max_retries + 1
    assert len(agents_endpoint.requests) == tasks.deliver_callback.max_retries + 1


def test_a_callback_whose_answer_went_unrecorded_is_sent_again_by_the_sweep(
    lost, clock, agents_endpoint, monkeypatch, retried_at_once
):
    """The agent answered, then the database went away before the answer was recorded:
    the task's retries find their attempt taken, and the sweep sends it again (at least
    once; the agent drops the repeat by X-GeraOS-Delivery)."""
    with monkeypatch.context() as blinking:
        blinking.setattr(callbacks, "_record", lambda *args, **kwargs: database_down())
        tasks.deliver_callback.apply(args=[str(lost.pk)], throw=False)
    assert len(agents_endpoint.requests) == 1
    clock.move(selectors.CALLBACK_LOST_AFTER + A_MOMENT)

    delivery = sweep()

    assert (delivery.status, delivery.attempts) == (CallbackDelivery.Status.DELIVERED, 2)
    first, again = agents_endpoint.requests
    assert first["raw"] == again["raw"]


def test_a_callback_lost_past_the_horizon_is_given_up_unsent(lost, clock, agents_endpoint):
    clock.move(callbacks.GIVE_UP_AFTER + A_MOMENT)

    delivery = sweep()

    assert delivery.status == CallbackDelivery.Status.GAVE_UP
    assert delivery.attempts == 0
    assert agents_endpoint.requests == []


def test_a_delivered_callback_is_left_alone(lost, clock, agents_endpoint):
    tasks.deliver_callback.apply(args=[str(lost.pk)])
    delivered = CallbackDelivery.objects.get()
    clock.move(callbacks.GIVE_UP_AFTER + A_MOMENT)

    delivery = sweep()

    assert (delivery.status, delivery.attempts) == (CallbackDelivery.Status.DELIVERED, 1)
    assert delivery.delivered_at == delivered.delivered_at
    assert len(agents_endpoint.requests) == 1


def test_a_callback_attempted_lately_is_left_to_its_own_retry(lost, clock, agents_endpoint):
    agents_endpoint.answer = "down"
    clock.move(selectors.CALLBACK_LOST_AFTER)
    with pytest.raises(callbacks.NotDelivered):  # its task queues the next attempt
        callbacks.deliver(delivery_id=lost.pk, attempt=0, final=False)
    clock.move(selectors.CALLBACK_LOST_AFTER / 2)  # made long ago, attempted lately

    delivery = sweep()

    assert (delivery.status, delivery.attempts) == (CallbackDelivery.Status.PENDING, 1)
    assert len(agents_endpoint.requests) == 1


def test_a_delivery_another_run_delivered_is_never_marked_given_up(
    lost, clock, agents_endpoint, monkeypatch
):
    """A run's last POST stalls past CALLBACK_LOST_AFTER (its worker frozen): the sweep
    queues the next attempt, which the agent answers, then the stalled POST times out.
    Delivered it was, and stays."""
    reaching_the_agent = outbound.post

    def answered_elsewhere_then_timed_out(url, **request):
        monkeypatch.setattr(outbound, "post", reaching_the_agent)
        clock.move(selectors.CALLBACK_LOST_AFTER + A_MOMENT)
        sweep()  # the other run
        raise outbound.Unreachable("unreachable: timed out")

    monkeypatch.setattr(outbound, "post", answered_elsewhere_then_timed_out)

    callbacks.deliver(delivery_id=lost.pk, attempt=0, final=True)

    delivery = CallbackDelivery.objects.get()
    assert delivery.status == CallbackDelivery.Status.DELIVERED
    assert delivery.last_response == "HTTP 200"
    assert delivery.attempts == 2


def database_down(**kwargs):
    raise OperationalError("server closed the connection unexpectedly")
