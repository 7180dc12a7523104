"""Disputes: opened by the buyer (or their agent), worked by operators, resolved with a
new signed receipt; a refund goes through the registered payments service."""

import contextlib
import datetime as dt
import threading
import uuid

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import ConflictError
from apps.trust import refunds, selectors, services
from apps.trust.models import Dispute, Receipt, SigningKey
from tests.factories import UserFactory, make_grant, make_receipt, refund_in_full
from tests.helpers import run_concurrently, sign_in_with_mfa, staff_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund_service(monkeypatch):
    """Stands in for the payments app's registered handler, restored afterwards."""
    calls = []

    def refund(*, receipt, reason, **asked):
        calls.append((receipt.pk, reason))
        return refund_in_full("re_recorded_123")

    monkeypatch.setattr(refunds, "_handler", refund)
    return calls


@pytest.fixture
def no_refund_service(monkeypatch):
    monkeypatch.setattr(refunds, "_handler", None)


def open_dispute(client, receipt, key: str | None = None, **body):
    return client.post(
        f"/api/v1/receipts/{receipt.pk}/disputes",
        {"reason": "not_delivered", "evidence": "The plumber never came.", **body},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def test_buyers_agent_opens_a_dispute_with_the_scope(user):
    receipt = make_receipt(user)
    _, token = make_grant(user, scopes=["receipts:read", "disputes:create"])

    response = open_dispute(Client(HTTP_AUTHORIZATION=f"Bearer {token}"), receipt)

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["opened_by"], body["receipt"]) == (
        "open",
        "buyer",
        str(receipt.pk),
    )


def test_agent_without_the_scope_cannot(user):
    _, token = make_grant(user, scopes=["receipts:read"])

    response = open_dispute(Client(HTTP_AUTHORIZATION=f"Bearer {token}"), make_receipt(user))

    assert response.status_code == 403
    assert not Dispute.objects.exists()


def test_operators_agent_reads_only_the_operators_own_disputes(user, operator, operator_client):
    others = services.dispute_open(receipt=make_receipt(user), opened_by="buyer", reason="other")
    own = services.dispute_open(receipt=make_receipt(operator), opened_by="buyer", reason="other")
    _, token = make_grant(operator, scopes=["receipts:read"])
    agent = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert agent.get(f"/api/v1/disputes/{others.pk}").status_code == 404
    assert agent.get(f"/api/v1/disputes/{own.pk}").status_code == 200
    assert operator_client.get(f"/api/v1/disputes/{others.pk}").status_code == 200


def test_staff_session_reads_others_disputes_only_with_the_view_permission(user):
    dispute = services.dispute_open(receipt=make_receipt(user), opened_by="buyer", reason="other")
    refused = staff_with().get(f"/api/v1/disputes/{dispute.pk}")
    allowed = staff_with("trust.view_dispute").get(f"/api/v1/disputes/{dispute.pk}")

    assert refused.status_code == 404
    assert allowed.status_code == 200


def test_a_retried_open_returns_the_same_dispute(user_client, user):
    receipt = make_receipt(user)

    first = open_dispute(user_client, receipt, key="open-1")
    again = open_dispute(user_client, receipt, key="open-1")

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Dispute.objects.count() == 1


def test_opening_needs_an_idempotency_key(user_client, user):
    response = user_client.post(
        f"/api/v1/receipts/{make_receipt(user).pk}/disputes",
        {"reason": "other"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_second_open_dispute_is_refused(user_client, user):
    receipt = make_receipt(user)
    open_dispute(user_client, receipt)

    response = open_dispute(user_client, receipt)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "dispute_open"


def test_a_refunded_receipt_cannot_be_disputed_again(user_client, user, refund_service):
    receipt = make_receipt(user)
    dispute = services.dispute_open(receipt=receipt, opened_by="buyer", reason="not_delivered")
    services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)

    response = open_dispute(user_client, receipt)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_refunded"
    assert Dispute.objects.count() == 1


def test_an_upheld_receipt_may_be_disputed_again(user):
    receipt = make_receipt(user)
    dispute = services.dispute_open(receipt=receipt, opened_by="buyer", reason="other")
    services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_UPHELD)

    again = services.dispute_open(receipt=receipt, opened_by="buyer", reason="not_delivered")

    assert again.status == Dispute.Status.OPEN


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_simultaneous_opens_make_one_dispute(monkeypatch):
    receipt = make_receipt(UserFactory())
    both_checked = threading.Barrier(2, timeout=1)
    create = Dispute.objects.create

    def create_once_both_have_checked(**fields):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()  # unless the first holds a lock that keeps the second out
        return create(**fields)

    monkeypatch.setattr(Dispute.objects, "create", create_once_both_have_checked)

    results = run_concurrently(
        lambda: services.dispute_open(receipt=receipt, opened_by="buyer", reason="other"),
        2,
        refusals=(ConflictError,),
    )

    refused = [r.code for r in results if isinstance(r, ConflictError)]
    assert Dispute.objects.filter(receipt=receipt).count() == 1
    assert refused == ["dispute_open"]


def test_while_a_refund_is_requested_the_dispute_cannot_be_resolved_or_withdrawn(user, monkeypatch):
    dispute = services.dispute_open(receipt=make_receipt(user), opened_by="buyer", reason="other")
    refused, calls = [], []

    def slow_refund(*, receipt, reason, **asked):
        calls.append(receipt.pk)
        if len(calls) > 1:
            return refund_in_full("re_twice")
        for attempt in (
            lambda: services.dispute_resolve(
                dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED
            ),
            lambda: services.dispute_resolve(
                dispute=dispute, outcome=Dispute.Status.RESOLVED_UPHELD
            ),
            lambda: services.dispute_withdraw(dispute=dispute),
        ):
            with pytest.raises(ConflictError) as error:
                attempt()
            refused.append(error.value.code)
        return refund_in_full("re_once")

    monkeypatch.setattr(refunds, "_handler", slow_refund)

    dispute = services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)

    assert calls == [dispute.receipt_id]
    assert refused == ["refund_in_progress"] * 3
    assert dispute.status == Dispute.Status.RESOLVED_REFUNDED
    assert dispute.receipt.amendments.count() == 1


def test_a_refund_claim_left_by_a_dead_resolve_expires(user, refund_service):
    dispute = services.dispute_open(receipt=make_receipt(user), opened_by="buyer", reason="other")
    abandoned = timezone.now() - services.REFUND_CLAIM_TIMEOUT - dt.timedelta(seconds=1)
    Dispute.objects.filter(pk=dispute.pk).update(refund_claimed_at=abandoned)

    dispute = services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)

    assert dispute.status == Dispute.Status.RESOLVED_REFUNDED
    assert len(refund_service) == 1


def test_upheld_dispute_adds_a_signed_receipt_and_keeps_the_original(user):
    receipt = make_receipt(user)
    dispute = services.dispute_open(receipt=receipt, opened_by="insurer", reason="other")

    dispute = services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_UPHELD)

    outcome = dispute.resolution_receipt
    assert outcome.payload["resolution"] == "dispute_upheld"
    assert outcome.payload["previous"] == str(receipt.pk)
    assert selectors.receipt_verify_online(token=outcome.jws)[0]
    assert Receipt.objects.get(pk=receipt.pk).resolution == "completed"


def test_refund_outcome_calls_payments_and_records_the_refund(user, refund_service):
    receipt = make_receipt(user)
    dispute = services.dispute_open(receipt=receipt, opened_by="buyer", reason="not_delivered")

    dispute = services.dispute_resolve(
        dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED, note="no show"
    )

    assert refund_service == [(receipt.pk, "no show")]
    assert dispute.resolution_receipt.payload["payment_ref"] == "re_recorded_123"
    assert dispute.resolution_receipt.payload["resolution"] == "refunded"


def test_refund_without_a_payments_service_changes_nothing(user, no_refund_service):
    dispute = services.dispute_open(receipt=make_receipt(user), opened_by="buyer", reason="other")

    with pytest.raises(refunds.RefundUnavailable):
        services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN
    assert dispute.refund_claimed_at is None  # a later resolve may try again
    assert Receipt.objects.count() == 1


def test_illegal_transitions_raise(user):
    dispute = services.dispute_open(receipt=make_receipt(user), opened_by="buyer", reason="other")
    services.dispute_withdraw(dispute=dispute)

    with pytest.raises(ConflictError):
        services.dispute_start_review(dispute=dispute)
    with pytest.raises(ConflictError):
        services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_UPHELD)


def test_operator_works_the_queue_in_admin(operator_client, user):
    receipt = make_receipt(user)
    operator_client.post(
        reverse("admin:trust_dispute_add"),
        {
            "receipt": str(receipt.pk),
            "opened_by": "operator",
            "reason": "duplicate",
            "evidence": "Charged twice",
        },
    )
    dispute = Dispute.objects.get()
    changelist = reverse("admin:trust_dispute_changelist")

    operator_client.post(changelist, {"action": "start_review", ACTION_CHECKBOX_NAME: [dispute.pk]})
    operator_client.post(
        changelist,
        {"action": "resolve_upheld", ACTION_CHECKBOX_NAME: [dispute.pk], "reason": "delivered"},
    )

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED_UPHELD
    assert dispute.resolution_receipt.previous == receipt
    assert operator_client.get(changelist + "?status__exact=resolved_upheld").status_code == 200


def test_the_admin_shows_disputes_and_receipts_in_words(operator_client, user, refund_service):
    receipt = make_receipt(user)
    dispute = services.dispute_open(
        receipt=receipt, opened_by="buyer", reason="not_delivered", user=user
    )
    services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)

    disputes = operator_client.get(reverse("admin:trust_dispute_changelist")).content.decode()
    receipts = operator_client.get(reverse("admin:trust_receipt_changelist")).content.decode()
    keys = operator_client.get(reverse("admin:trust_signingkey_changelist")).content.decode()

    assert '<span class="badge badge-neutral">Resolved: refunded</span>' in disputes
    assert f"receipt #{receipt.log_index} (Completed)" in disputes
    assert '<span class="badge badge-success">Completed</span>' in receipts
    assert '<span class="badge badge-neutral">Refunded</span>' in receipts
    assert '<span class="badge badge-success">Active</span>' in keys


def test_trust_admin_screens(operator_client, user):
    receipt = make_receipt(user)

    verify = operator_client.post(
        reverse("admin:trust_receipt_changelist"),
        {"action": "verify", ACTION_CHECKBOX_NAME: [str(receipt.pk)]},
        follow=True,
    )
    rotate = operator_client.post(
        reverse("admin:trust_signingkey_rotate"), {"reason": "yearly rotation"}, follow=True
    )

    assert "valid — signed by" in verify.content.decode()
    assert "now signs" in rotate.content.decode()
    for name in ("receipt", "treehead", "signingkey", "dispute"):
        assert operator_client.get(f"/admin/trust/{name}/").status_code == 200
    assert (
        operator_client.get(reverse("admin:trust_receipt_change", args=[receipt.pk])).status_code
        == 200
    )


def test_rotating_the_signing_key_asks_first_and_needs_the_csrf_token(operator, user):
    make_receipt(user)
    active = SigningKey.objects.get(status=SigningKey.Status.ACTIVE)
    operator_client = sign_in_with_mfa(Client(enforce_csrf_checks=True), operator)
    rotate = reverse("admin:trust_signingkey_rotate")

    confirmation = operator_client.get(rotate)
    forged = operator_client.post(rotate)

    assert confirmation.status_code == 200
    assert "Yes, rotate" in confirmation.content.decode()
    assert forged.status_code == 403
    assert SigningKey.objects.get(status=SigningKey.Status.ACTIVE) == active

    token = confirmation.context["csrf_token"]
    confirmed = operator_client.post(
        rotate, {"csrfmiddlewaretoken": token, "reason": "yearly rotation"}
    )

    assert confirmed.status_code == 302
    assert SigningKey.objects.get(status=SigningKey.Status.ACTIVE) != active


def test_the_disputes_list_is_a_work_queue_by_deadline_with_money_and_time_left(
    user, operator_client
):
    def dispute(days_left: float, status=Dispute.Status.OPEN) -> Dispute:
        opened = services.dispute_open(
            receipt=make_receipt(user), opened_by="buyer", reason="not_delivered", user=user
        )
        respond_by = timezone.now() + dt.timedelta(days=days_left)
        Dispute.objects.filter(pk=opened.pk).update(respond_by=respond_by, status=status)
        return opened

    settled = dispute(-10, Dispute.Status.RESOLVED_UPHELD)
    relaxed, overdue, near = dispute(9), dispute(-0.5), dispute(1.5)

    page = operator_client.get("/admin/trust/dispute/").content.decode()

    assert "45000.00 NGN (22.50 GBP)" in page
    assert '<span class="badge badge-danger">Overdue by 12 h' in page
    assert '<span class="badge badge-warning">1 d 11 h left</span>' in page
    assert '<span class="badge badge-info">8 d 23 h left</span>' in page
    order = [page.index(str(d.receipt)) for d in (overdue, near, relaxed, settled)]
    assert order == sorted(order)  # open ones first, soonest deadline first
