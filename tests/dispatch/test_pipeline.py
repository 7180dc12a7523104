"""Intent -> order -> authorize -> fulfil -> capture -> receipt, in eager mode (the same
tasks a worker runs; tests/dispatch/test_worker.py runs them on real workers)."""

import datetime as dt
import hashlib

import pytest
from django.conf import settings
from djmoney.money import Money

from apps.catalog.models import Provider
from apps.dispatch import services
from apps.dispatch.models import DispatchOrder
from apps.identity.models import EntitlementUsage, Feature
from apps.payments.models import Payment, PaymentEvent, Rail
from apps.trust import selectors as trust_selectors
from apps.trust.verify import verify_bundle
from tests.dispatch.conftest import ANYTIME, Agent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def history(order_id) -> list[str]:
    order = DispatchOrder.objects.get(pk=order_id)
    return [t.to_status for t in order.transitions.all() if t.from_status != t.to_status]


def test_the_plumber_in_lagos_is_booked_paid_and_receipted(agent):
    response = agent.dispatch()

    assert response.status_code == 202, response.content
    created = response.json()
    order = DispatchOrder.objects.get(pk=created["id"])
    assert order.status == "completed"
    assert history(order.pk) == [
        "pending",
        "authorizing",
        "authorized",
        "fulfilling",
        "fulfilled",
        "capturing",
        "completed",
    ]
    assert order.payment.status == Payment.Status.CAPTURED
    assert order.provider.name == "Lagos Plumber A"
    assert order.confirmation["reference"].startswith("SBX-")
    assert order.confirmation["verified"] is True

    shown = agent.get(f"/api/v1/dispatches/{order.pk}").json()
    assert shown["status"] == "completed"
    assert shown["receipt"]["resolution"] == "completed"
    assert shown["confirmation"]["reference"] == order.confirmation["reference"]


def test_the_receipt_carries_the_whole_chain_and_verifies_offline(agent):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    bundle = trust_selectors.receipt_bundle(
        receipt=order.receipt, origin=settings.GERAOS_LOG_ORIGIN
    )
    payload = verify_bundle(bundle, trust_selectors.jwks())

    source = payload["source"]
    assert source["dispatch"] == str(order.pk)
    assert source["product"] == "gerahome"
    assert source["skill"] == {"capability": "home.plumbing", "version": 1}
    assert source["provider"] == {"name": "Lagos Plumber A", "city": "Lagos"}
    assert source["quote_sha256"] == hashlib.sha256(order.quote.jws.encode()).hexdigest()
    assert source["rail_confirmation"]["verified"] is True
    assert source["provider_confirmation"]["reference"] == order.confirmation["reference"]
    assert payload["subject"]["user"].startswith("sub_")
    assert agent.user.email not in str(payload)
    assert payload["subject"]["agent"] == agent.grant.client_id  # the agent, not its label
    assert payload["rail"] == "stripe"
    assert payload["payment_ref"] == str(order.payment_id)
    assert payload["resolution"] == "completed"


def test_a_declining_provider_voids_the_payment_with_a_failure_receipt(agent):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="decline")

    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert order.status == "voided"
    assert order.failure_code == "provider_declined"
    assert order.payment.status == Payment.Status.VOIDED
    assert order.receipt.resolution == "voided"
    assert order.receipt.payload["source"]["failure"] == "provider_declined"
    assert not PaymentEvent.objects.filter(payment=order.payment, to_status="captured").exists()


def test_a_provider_that_stays_down_is_retried_then_voided(agent):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="unavailable")

    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert order.status == "voided"
    assert order.failure_code == "provider_unavailable"
    assert order.payment.status == Payment.Status.VOIDED


def test_a_failed_dispatch_gives_back_the_spend(agent):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="decline")
    agent.dispatch(key="first")
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="accept")

    second = agent.dispatch(key="second")  # the £50 daily limit would refuse a second £42

    assert second.status_code == 202, second.content
    assert DispatchOrder.objects.get(pk=second.json()["id"]).status == "completed"


def test_a_dispatch_that_fails_next_month_gives_back_the_month_it_used(
    catalog, monkeypatch, django_capture_on_commit_callbacks
):
    clock = [dt.datetime(2026, 11, 30, 23, 55, tzinfo=dt.UTC)]
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock[0])
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))  # pipeline held back
    order_id = agent.dispatch(text=ANYTIME).json()["id"]
    clock[0] = dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC)
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="decline")

    with django_capture_on_commit_callbacks(execute=True):
        services.order_authorize(order_id=order_id)

    assert DispatchOrder.objects.get(pk=order_id).status == "voided"
    usage = EntitlementUsage.objects.get(user=agent.user, feature=Feature.DISPATCHES)
    assert (usage.period_start, usage.used) == (dt.date(2026, 11, 1), 0)


def test_a_declined_card_fails_the_order_with_a_failure_receipt(agent):
    # The sandbox card rail declines amounts ending in .51, like Stripe's test cards.
    Provider.objects.filter(name="Lagos Plumber A").update(price=Money("42.51", "GBP"))

    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert order.status == "failed"
    assert order.payment.status == Payment.Status.FAILED
    assert order.confirmation is None  # the provider was never asked
    assert order.receipt.resolution == "failed"
    # The order reserved the agent's spend, not its payment: the order gave it back.
    assert not order.payment.holds_agent_spend
    spend = agent.grant.spends.get()
    assert (spend.reference, spend.released_at is not None) == (f"dispatch:{order.pk}", True)


def test_compensation_run_again_after_a_manual_refund_finishes_the_order(
    catalog, wednesday_morning, monkeypatch
):
    armenian = Agent(UserFactory(country="AM", preferred_currency=""))  # Idram: refunds by hand
    order_id = armenian.dispatch(text="plumber in Yerevan tomorrow morning").json()["id"]
    Provider.objects.filter(city="Yerevan").update(sandbox_behaviour="decline")
    services.order_authorize(order_id=order_id)
    services.order_fulfil(order_id=order_id)
    real_require_released = services._require_released

    def worker_lost_after_the_rail_call(payment_id):
        monkeypatch.setattr(services, "_require_released", real_require_released)
        raise OSError("worker lost right after the rail call")

    monkeypatch.setattr(services, "_require_released", worker_lost_after_the_rail_call)
    with pytest.raises(OSError, match="worker lost"):
        services.order_compensate(order_id=order_id)

    services.order_compensate(order_id=order_id)  # the redelivered message

    order = DispatchOrder.objects.get(pk=order_id)
    assert order.status == DispatchOrder.Status.VOIDED
    assert order.payment.refunds.count() == 1


def test_an_order_whose_rail_was_switched_off_before_payment_is_rejected(
    catalog, wednesday_morning
):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))  # pipeline held back
    order_id = agent.dispatch().json()["id"]
    Rail.objects.filter(code="stripe").update(enabled=False)

    services.order_authorize(order_id=order_id)

    order = DispatchOrder.objects.get(pk=order_id)
    assert (order.status, order.payment) == (DispatchOrder.Status.REJECTED, None)
