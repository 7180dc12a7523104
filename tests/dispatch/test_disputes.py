"""A completed order follows its receipt's dispute: disputed, then refunded or upheld."""

import pytest

from apps.catalog.models import Provider
from apps.dispatch.models import DispatchOrder
from apps.payments.models import Payment
from apps.trust import services as trust_services
from apps.trust.models import Dispute
from tests.dispatch.conftest import Agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed(agent):
    buyer = Agent(
        agent.user,
        on_commit=agent.on_commit,
        scopes=["dispatch:create", "dispatch:read", "receipts:read", "disputes:create"],
    )
    order = DispatchOrder.objects.get(pk=buyer.dispatch().json()["id"])
    response = buyer.post(
        f"/api/v1/receipts/{order.receipt_id}/disputes",
        {"reason": "not_delivered", "evidence": "Nobody came."},
        HTTP_IDEMPOTENCY_KEY="dispute-1",
    )
    assert response.status_code == 201, response.content
    return buyer, order, Dispute.objects.get(pk=response.json()["id"])


def test_opening_a_dispute_on_the_receipt_marks_the_order_disputed(disputed):
    buyer, order, _ = disputed

    shown = buyer.get(f"/api/v1/dispatches/{order.pk}").json()

    assert shown["status"] == "disputed"
    assert shown["history"][-1]["reason"].startswith("dispute ")


def test_a_dispute_resolved_as_a_refund_refunds_and_resolves_the_order(
    disputed, django_capture_on_commit_callbacks
):
    _, order, dispute = disputed

    with django_capture_on_commit_callbacks(execute=True):
        trust_services.dispute_resolve(dispute=dispute, outcome="resolved_refunded")

    order.refresh_from_db()
    assert order.status == "refunded"
    assert order.payment.status == Payment.Status.REFUNDED
    assert order.transitions.last().actor == "trust"


def test_an_upheld_or_withdrawn_dispute(disputed, django_capture_on_commit_callbacks):
    _, order, dispute = disputed

    with django_capture_on_commit_callbacks(execute=True):
        trust_services.dispute_withdraw(dispute=dispute)
    order.refresh_from_db()
    assert order.status == "completed"

    with django_capture_on_commit_callbacks(execute=True):
        again = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )
    with django_capture_on_commit_callbacks(execute=True):
        trust_services.dispute_resolve(dispute=again, outcome="resolved_upheld")
    order.refresh_from_db()
    assert order.status == "resolved_upheld"
    assert order.payment.status == Payment.Status.CAPTURED


def test_a_dispute_on_an_order_that_never_took_the_money_leaves_the_order_as_it_is(
    agent, django_capture_on_commit_callbacks
):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="decline")
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])
    assert order.status == DispatchOrder.Status.VOIDED

    with django_capture_on_commit_callbacks(execute=True):
        trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )

    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.VOIDED
