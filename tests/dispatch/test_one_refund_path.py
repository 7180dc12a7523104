"""One refund path: a refund from the Payments admin and one through a dispute leave the
same order state, the same amended receipt and the same audit event."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.core.errors import ConflictError
from apps.core.models import AuditEvent
from apps.dispatch import services, tasks
from apps.dispatch.models import DispatchOrder
from apps.payments import refunds
from apps.payments.adapters import ProviderResult
from apps.payments.models import Payment
from apps.trust import services as trust_services
from apps.trust.models import Dispute, Receipt
from tests.dispatch.conftest import Agent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(catalog, wednesday_morning, django_capture_on_commit_callbacks):
    """An order completed for a user of its own (a Free user books one a day)."""

    def dispatch() -> DispatchOrder:
        agent = Agent(
            UserFactory(country="GB", preferred_currency="GBP"),
            on_commit=django_capture_on_commit_callbacks,
        )
        order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])
        assert order.status == DispatchOrder.Status.COMPLETED
        return order

    return dispatch


def refund_from_payments_admin(client, on_commit, order, *, reason: str, amount: str = ""):
    with on_commit(execute=True):
        return client.post(
            reverse("admin:payments_payment_changelist"),
            {
                "action": "refund",
                ACTION_CHECKBOX_NAME: [order.payment_id],
                "reason": reason,
                "amount": amount,
            },
        )


def resolve_dispute_as_refunded(client, on_commit, order, *, reason: str, amount: str = ""):
    with on_commit(execute=True):
        dispute = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )
    with on_commit(execute=True):
        return client.post(
            reverse("admin:trust_dispute_changelist"),
            {
                "action": "resolve_refunded",
                ACTION_CHECKBOX_NAME: [dispute.pk],
                "reason": reason,
                "amount": amount,
            },
        )


def without_id(refund: dict) -> dict:
    return {name: value for name, value in refund.items() if name != "id"}


def trace(order: DispatchOrder) -> dict:
    """What a refund leaves behind, without what differs between any two orders."""
    order.refresh_from_db()
    amendments = Receipt.objects.filter(previous=order.receipt)
    refund_events = AuditEvent.objects.filter(
        action="payments.refund", object_id=str(order.payment_id)
    )
    return {
        "order": order.status,
        "payment": order.payment.status,
        "amendments": [
            (receipt.resolution, receipt.payload["amount"], without_id(receipt.payload["refund"]))
            for receipt in amendments
        ],
        "refund_events": [
            (event.actor, event.actor_used_mfa, event.changes, event.reason)
            for event in refund_events
        ],
    }


def test_a_refund_from_the_payments_admin_and_one_through_a_dispute_leave_the_same_trace(
    completed, operator_client, django_capture_on_commit_callbacks
):
    from_admin, from_dispute = completed(), completed()

    refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, from_admin, reason="no-show"
    )
    resolve_dispute_as_refunded(
        operator_client, django_capture_on_commit_callbacks, from_dispute, reason="no-show"
    )

    admin_trace, dispute_trace = trace(from_admin), trace(from_dispute)
    assert admin_trace == dispute_trace
    assert admin_trace["order"] == DispatchOrder.Status.REFUNDED
    assert admin_trace["payment"] == Payment.Status.REFUNDED
    [(resolution, _, refund)] = admin_trace["amendments"]
    assert resolution == Receipt.Resolution.REFUNDED
    assert refund == {
        "amount": {"amount": "42.00", "currency": "GBP"},
        "refunded_total": {"amount": "42.00", "currency": "GBP"},
    }
    [(_, used_mfa, changes, reason)] = admin_trace["refund_events"]
    assert (used_mfa, reason) == (True, "no-show")
    assert changes == {"refunds": ["0.00 GBP", "42.00 GBP"]}


def test_a_partial_refund_issues_a_receipt_saying_so_and_the_rest_a_refunded_one(
    completed, operator_client, django_capture_on_commit_callbacks
):
    order = completed()

    refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, order, reason="late", amount="10"
    )
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.PARTIALLY_REFUNDED
    assert order.get_status_display() == "Partly refunded"
    resolve_dispute_as_refunded(
        operator_client, django_capture_on_commit_callbacks, order, reason="never came"
    )

    amendments = Receipt.objects.filter(previous=order.receipt).order_by("log_index")
    assert [(r.resolution, r.payload["refund"]["amount"]["amount"]) for r in amendments] == [
        (Receipt.Resolution.PARTIALLY_REFUNDED, "10.00"),
        (Receipt.Resolution.REFUNDED, "32.00"),
    ]
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.REFUNDED
    assert order.payment.refunded_amount.amount == Decimal("42.00")


def test_each_refund_is_one_amendment_however_often_the_news_of_it_arrives(
    completed, operator_client, django_capture_on_commit_callbacks
):
    order = completed()
    refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, order, reason="late", amount="10"
    )

    services.order_follow_refunds(order_id=order.pk)
    services.order_follow_refunds(order_id=order.pk)

    assert Receipt.objects.filter(previous=order.receipt).count() == 1
    assert order.transitions.filter(to_status="partially_refunded").count() == 1


def test_a_refund_without_a_reason_asks_for_one_and_moves_no_money(
    completed, operator_client, django_capture_on_commit_callbacks
):
    order = completed()

    page = refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, order, reason=" "
    )

    assert page.status_code == 200
    assert "Reason (kept in the audit log)" in page.content.decode()
    order.refresh_from_db()
    assert (order.status, order.payment.status) == ("completed", "captured")
    assert not AuditEvent.objects.filter(action="payments.refund").exists()


def test_a_withdrawn_dispute_returns_a_partly_refunded_order_to_where_it_was(
    completed, operator_client, django_capture_on_commit_callbacks
):
    order = completed()
    refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, order, reason="late", amount="10"
    )
    with django_capture_on_commit_callbacks(execute=True):
        dispute = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(
            reverse("admin:trust_dispute_changelist"),
            {"action": "withdraw", ACTION_CHECKBOX_NAME: [dispute.pk], "reason": "buyer said"},
        )

    order.refresh_from_db()
    assert [t.to_status for t in order.transitions.all()][-3:] == [
        "partially_refunded",
        "disputed",
        "partially_refunded",
    ]
    [event] = AuditEvent.objects.filter(action="trust.dispute_withdraw")
    assert (event.object_id, event.reason) == (str(dispute.pk), "buyer said")
    assert event.changes == {"status": ["open", "withdrawn"]}


def test_a_refund_made_while_the_order_is_disputed_is_recorded_once_the_dispute_ends(
    completed, operator_client, django_capture_on_commit_callbacks
):
    order = completed()
    with django_capture_on_commit_callbacks(execute=True):
        dispute = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )
    refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, order, reason="goodwill", amount="5"
    )
    assert not Receipt.objects.filter(previous=order.receipt).exists()  # the dispute decides

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(
            reverse("admin:trust_dispute_changelist"),
            {"action": "resolve_upheld", ACTION_CHECKBOX_NAME: [dispute.pk], "reason": "came"},
        )

    resolutions = Receipt.objects.filter(previous=order.receipt).order_by("log_index")
    assert [r.resolution for r in resolutions] == ["dispute_upheld", "partially_refunded"]
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.PARTIALLY_REFUNDED
    [event] = AuditEvent.objects.filter(action="trust.dispute_resolve")
    assert (event.reason, event.changes) == ("came", {"status": ["open", "resolved_upheld"]})


def test_the_dispute_page_refunds_in_part_with_a_reason_then_offers_no_more_decisions(
    completed, operator_client, django_capture_on_commit_callbacks
):
    order = completed()
    with django_capture_on_commit_callbacks(execute=True):
        dispute = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )
    page = reverse("admin:trust_dispute_change", args=[dispute.pk])
    refund_button = reverse("admin:trust_dispute_refund_this", args=[dispute.pk])
    assert refund_button in operator_client.get(page).content.decode()

    asked = operator_client.get(refund_button).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = operator_client.post(refund_button, {"reason": "half done", "amount": "10"})

    assert "Amount to refund, in GBP" in asked
    assert (done.status_code, done.url) == (302, page)
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.PARTIALLY_REFUNDED
    assert order.payment.refunded_amount.amount == Decimal("10.00")
    shown = operator_client.get(page).content.decode()
    assert "10.00 GBP (refunded so far 10.00 GBP)" in shown
    assert refund_button not in shown


class RefundedByHand:
    """A rail without a refund API: each refund waits for an operator's confirmation."""

    def refund(self, payment, amount, *, idempotency_key):
        return ProviderResult(status="pending_manual")


@pytest.fixture
def refunded_by_hand(monkeypatch):
    monkeypatch.setattr(refunds, "rail_adapter", lambda payment: RefundedByHand())


@pytest.fixture
def ticking(monkeypatch, wednesday_morning):
    """A clock that moves a second each time it is read (the frozen one ties refunds)."""
    ticks = itertools.count(1)
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: wednesday_morning + dt.timedelta(seconds=next(ticks))
    )


def test_a_dispute_refunded_in_part_by_hand_is_refunded_once_however_often_it_is_resolved(
    completed, refunded_by_hand, operator, operator_client, django_capture_on_commit_callbacks
):
    order = completed()
    with django_capture_on_commit_callbacks(execute=True):
        dispute = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )
    resolve = {
        "action": "resolve_refunded",
        ACTION_CHECKBOX_NAME: [dispute.pk],
        "reason": "half",
        "amount": "10",
    }
    changelist = reverse("admin:trust_dispute_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(changelist, resolve)
    [refund] = order.payment.refunds.all()
    with django_capture_on_commit_callbacks(execute=True):
        refunds.refund_confirm_manual(refund_id=refund.pk, reference="BO-1", operator=operator)

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(changelist, resolve)  # as told: once the refund is confirmed

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED_REFUNDED
    assert [r.amount.amount for r in order.payment.refunds.all()] == [Decimal("10.00")]
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.PARTIALLY_REFUNDED


def test_refunds_confirmed_in_another_order_than_asked_end_refunded_in_full(
    completed,
    refunded_by_hand,
    ticking,
    operator,
    operator_client,
    django_capture_on_commit_callbacks,
):
    order = completed()
    for amount in ("10", ""):  # 10, then the 32 left
        refund_from_payments_admin(
            operator_client, django_capture_on_commit_callbacks, order, reason="r", amount=amount
        )
    ten, rest = order.payment.refunds.order_by("created_at")

    for refund in (rest, ten):
        with django_capture_on_commit_callbacks(execute=True):
            refunds.refund_confirm_manual(refund_id=refund.pk, reference="BO", operator=operator)

    amendments = Receipt.objects.filter(previous=order.receipt).order_by("log_index")
    assert [
        (r.resolution, r.payload["refund"]["refunded_total"]["amount"]) for r in amendments
    ] == [
        (Receipt.Resolution.PARTIALLY_REFUNDED, "32.00"),
        (Receipt.Resolution.REFUNDED, "42.00"),
    ]
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.REFUNDED
    with pytest.raises(ConflictError, match="already been refunded"):
        trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )


def test_a_refund_made_before_the_order_has_its_receipt_is_recorded_when_it_does(
    completed, operator_client, django_capture_on_commit_callbacks
):
    order = completed()
    DispatchOrder.objects.filter(pk=order.pk).update(receipt=None)  # issue_receipt still queued

    refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, order, reason="no-show"
    )
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.COMPLETED
    services.order_issue_receipt(order_id=order.pk)

    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.REFUNDED
    assert order.receipt.amendments.get().resolution == Receipt.Resolution.REFUNDED


@pytest.mark.parametrize("amount", ["1e30", "9" * 29])
def test_an_amount_beyond_any_payment_is_refused_with_a_message(
    completed, operator_client, django_capture_on_commit_callbacks, amount
):
    order = completed()

    response = refund_from_payments_admin(
        operator_client, django_capture_on_commit_callbacks, order, reason="r", amount=amount
    )

    assert response.status_code == 302
    order.payment.refresh_from_db()
    assert order.payment.status == Payment.Status.CAPTURED


def test_a_second_dispute_after_one_was_upheld_disputes_the_order_again(
    completed, django_capture_on_commit_callbacks
):
    order = completed()
    with django_capture_on_commit_callbacks(execute=True):
        first = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="other", user=order.user
        )
    with django_capture_on_commit_callbacks(execute=True):
        trust_services.dispute_resolve(dispute=first, outcome=Dispute.Status.RESOLVED_UPHELD)

    with django_capture_on_commit_callbacks(execute=True):
        trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="other", user=order.user
        )

    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.DISPUTED


def test_a_refund_whose_news_never_reached_the_order_is_recorded_by_the_sweep(
    completed, monkeypatch, wednesday_morning
):
    order = completed()
    refunds.refund_create(payment_id=order.payment_id, reason="no-show")  # its news is lost
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.COMPLETED
    later = wednesday_morning + dt.timedelta(minutes=3)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)

    tasks.resume_stuck_orders()

    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.REFUNDED
    assert order.receipt.amendments.get().resolution == Receipt.Resolution.REFUNDED
