"""Providers over real HTTP: signed requests, verified answers, idempotent retries; the
agent's signed callbacks; rails that confirm later; orders that get stuck."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.catalog import services as catalog_services
from apps.catalog.models import Provider
from apps.core import hmac_signature
from apps.dispatch import fulfilment, selectors, services, tasks
from apps.dispatch.models import CallbackDelivery, DispatchOrder
from apps.payments.models import Payment
from apps.payments.sandbox_payer import sandbox_mpesa_approve
from geraos.celery import app as celery_app
from tests.dispatch.conftest import Agent
from tests.dispatch.fake_provider import FakeProvider
from tests.factories import UserFactory
from tests.helpers import audit_trail, stk_push_answer_lost_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def lagos_plumber(catalog):
    provider = Provider.objects.get(name="Lagos Plumber A")
    secret = catalog_services.provider_rotate_secret(provider=provider).encode()
    with FakeProvider(secret) as fake:
        provider.endpoint_url = fake.url
        provider.save()
        yield fake


def test_the_provider_gets_a_signed_booking_and_its_confirmation_is_verified(agent, lagos_plumber):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    (request,) = lagos_plumber.requests
    assert request["signed"] is True
    assert request["key"] == str(order.pk)
    assert request["body"]["details"] == {
        "problem": "The kitchen tap is leaking",
        "address_area": "Ikoyi",
    }
    assert request["body"]["customer"].startswith("sub_")  # a pseudonym, never the email
    assert order.status == "completed"
    assert order.confirmation["reference"] == "BK-0001"


def test_the_provider_reads_only_consented_memory_and_the_read_is_logged(agent, lagos_plumber):
    from apps.memory import services as memory_services
    from apps.memory.models import AccessLogEntry, MemoryScope
    from tests.factories import product

    memory_services.memory_write(
        user=agent.user,
        product=product("gerahome"),
        scope=MemoryScope.objects.get(code="home"),
        kind="preference",
        key="access",
        value={"gate_code": "4512"},
    )

    order_id = agent.dispatch().json()["id"]

    memory = lagos_plumber.requests[0]["body"]["memory"]
    assert memory == {"preferences": {}, "home": {"access": {"gate_code": "4512"}}}
    logged = AccessLogEntry.objects.filter(purpose=f"fulfilling dispatch {order_id}")
    assert {e.scope.code for e in logged} == {"preferences", "home"}
    assert all(e.allowed for e in logged)


def test_a_forged_provider_answer_is_never_a_confirmation(agent, lagos_plumber):
    lagos_plumber.secret = b"not-the-shared-secret"  # it signs with the wrong key

    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert order.status == "voided"
    assert order.confirmation is None
    assert order.payment.status == Payment.Status.VOIDED


def test_a_signed_confirmation_of_another_booking_is_not_this_ones(agent, lagos_plumber):
    lagos_plumber.confirm_booking_id = "3f1a0c55-0000-4000-8000-000000000000"  # replayed

    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert order.confirmation is None
    assert order.failure_code == "provider_unavailable"
    assert order.payment.status == Payment.Status.VOIDED


def test_resending_the_booking_books_once(agent, lagos_plumber):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    again = services._book(order)

    assert again.reference == order.confirmation["reference"]
    assert len(lagos_plumber.bookings) == 1


def test_plain_http_is_refused_except_on_this_machine():
    with pytest.raises(fulfilment.ProviderDeclined):
        fulfilment.HttpTransport().post("http://plumber.example/book", headers={}, body=b"{}")


def test_the_agent_gets_signed_status_callbacks(agent):
    with FakeProvider(secret=None) as receiver:  # learns the secret from the response
        response = agent.dispatch(callback_url=receiver.url.replace("/bookings", "/events"))
    secret = response.json()["callback_secret"].encode()

    statuses = [r["body"]["status"] for r in receiver.requests]
    assert statuses[0] == "pending"
    assert statuses[-2:] == ["completed", "completed"]  # the move, then with the receipt
    assert receiver.requests[-1]["body"]["receipt"] is not None
    for request in receiver.requests:
        hmac_signature.verify(request["signature"], request["raw"], secret)
    with pytest.raises(hmac_signature.BadSignature):
        hmac_signature.verify(request["signature"], request["raw"], b"another secret")
    assert CallbackDelivery.objects.filter(status="delivered").count() == len(statuses)


def test_an_unreachable_callback_is_retried_then_given_up(agent):
    response = agent.dispatch(callback_url="http://127.0.0.1:9/events")

    assert response.status_code == 202
    deliveries = CallbackDelivery.objects.all()
    assert {d.status for d in deliveries} == {"gave_up"}
    assert all(d.attempts == tasks.deliver_callback.max_retries + 1 for d in deliveries)


def test_an_mpesa_order_waits_for_the_payer_then_completes(
    catalog, wednesday_morning, django_capture_on_commit_callbacks
):
    kenyan = Agent(
        UserFactory(country="KE", preferred_currency=""),
        on_commit=django_capture_on_commit_callbacks,
    )

    response = kenyan.dispatch(
        text="plumber in Nairobi tomorrow morning", payer_account="254708374149"
    )

    order = DispatchOrder.objects.get(pk=response.json()["id"])
    assert order.quote.rail.code == "mpesa"
    assert order.status == "completed"  # the sandbox payer approved through Celery
    assert order.payment.confirmation_verified is True


def test_an_stk_push_whose_answer_a_database_error_lost_prompts_the_payer_once(
    catalog, wednesday_morning, django_capture_on_commit_callbacks, monkeypatch
):
    """Daraja took the push; storing its CheckoutRequestID then failed, and the step ran
    again seconds later. The phone is prompted once; approving that prompt completes."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)  # it is retried
    prompts = stk_push_answer_lost_once(monkeypatch)
    kenyan = Agent(
        UserFactory(country="KE", preferred_currency=""),
        on_commit=django_capture_on_commit_callbacks,
    )
    order_id = kenyan.dispatch(
        text="plumber in Nairobi tomorrow morning", payer_account="254708374149"
    ).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        sandbox_mpesa_approve(prompts[0])  # the payer approves; Daraja calls back

    order = DispatchOrder.objects.get(pk=order_id)
    assert len(prompts) == 1
    # The push's answer was never stored; the callback brought the capture, once.
    assert list(order.payment.events.values_list("to_status", flat=True)) == [
        "pending",
        "captured",
    ]
    assert order.status == "completed"


def test_a_stuck_order_is_resumed_by_the_beat_task(agent, django_capture_on_commit_callbacks):
    bare = Agent(agent.user)  # its pipeline never starts: as if the worker died
    order_id = bare.dispatch().json()["id"]
    DispatchOrder.objects.filter(pk=order_id).update(
        updated_at=timezone.now() - selectors.STUCK_AFTER - dt.timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resume_stuck_orders() == 1

    order = DispatchOrder.objects.get(pk=order_id)
    assert order.status == "completed"
    assert order.transitions.filter(actor="beat", reason="resumed: dispatch.authorize_payment")
    assert audit_trail() == []  # not an operator's action


@pytest.fixture
def silent_payer(catalog, wednesday_morning, django_capture_on_commit_callbacks, monkeypatch):
    """An M-Pesa order whose payer has not answered the prompt 30 minutes on; returns a
    function that lets the beat task find it."""
    kenyan = Agent(UserFactory(country="KE", preferred_currency=""))
    monkeypatch.setattr(
        "apps.payments.sandbox_payer.sandbox_mpesa_approve.apply_async", lambda *a, **k: None
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_id = kenyan.dispatch(
            text="plumber in Nairobi tomorrow morning", payer_account="254708374149"
        ).json()["id"]
    assert DispatchOrder.objects.get(pk=order_id).status == "authorizing"  # no answer yet
    DispatchOrder.objects.filter(pk=order_id).update(
        created_at=timezone.now() - services.GIVE_UP_AFTER - dt.timedelta(seconds=1),
        updated_at=timezone.now() - selectors.STUCK_AFTER - dt.timedelta(seconds=1),
    )

    def sweep() -> DispatchOrder:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.resume_stuck_orders()
        return DispatchOrder.objects.get(pk=order_id)

    return sweep


def test_an_order_waiting_past_the_deadline_is_given_up_and_released(silent_payer):
    order = silent_payer()

    assert order.status == "failed"
    assert order.failure_code == "payer_timeout"
    assert order.payment.status == Payment.Status.VOIDED
    assert order.receipt.resolution == "failed"


def test_a_payer_approving_after_the_give_up_is_refunded(
    silent_payer, django_capture_on_commit_callbacks
):
    from apps.payments import sandbox_payer

    silent_payer()
    payment = Payment.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        sandbox_payer.sandbox_mpesa_approve(payment.provider_reference)  # the prompt, late

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.events.filter(to_status="captured", data__late=True).exists()
    assert DispatchOrder.objects.get().status == "failed"  # the order stays failed


def test_an_illegal_move_raises():
    order = DispatchOrder(status="completed")

    with pytest.raises(services.IllegalTransition):
        services._move(order, "fulfilling", actor="test", reason="no")


def test_consent_withdrawn_before_fulfilment_stops_it_and_voids(
    agent, django_capture_on_commit_callbacks
):
    from apps.memory import services as memory_services
    from apps.memory.models import MemoryScope
    from tests.factories import product

    order_id = Agent(agent.user).dispatch().json()["id"]  # accepted, not yet run
    memory_services.consent_set(
        user=agent.user,
        product=product("gerahome"),
        scope=MemoryScope.objects.get(code="home"),
        allow=False,
    )

    with django_capture_on_commit_callbacks(execute=True):
        tasks.authorize_payment.delay(order_id)

    order = DispatchOrder.objects.get(pk=order_id)
    assert order.status == "voided"
    assert order.failure_code == "consent_required"
    assert order.payment.status == Payment.Status.VOIDED
    assert order.confirmation is None


def test_a_provider_without_a_signing_secret_is_not_called_and_the_payment_voided(agent):
    Provider.objects.filter(name="Lagos Plumber A").update(shared_secret_sealed="")

    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert order.status == "voided"
    assert order.failure_code == "provider_secret_missing"
    assert order.payment.status == Payment.Status.VOIDED


def test_a_provider_redirect_is_not_followed(agent, lagos_plumber):
    lagos_plumber.answer = "redirect"

    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert len(lagos_plumber.requests) == 1  # sent once, to the configured URL only
    assert order.status == "voided"
    assert order.failure_code == "provider_declined"
