"""Payments through the sandbox Stripe rail: the real adapter and SDK, a simulated API."""

import datetime as dt
from decimal import Decimal

import pytest
import stripe
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from apps.core.errors import ApplicationError, ConflictError
from apps.payments import lifecycle, quotes, refunds, selectors
from apps.payments.adapters import ProviderResult
from apps.payments.adapters.stripe_sandbox import SandboxStripeTransport, _ResponseLost
from apps.payments.models import Payment, Refund
from apps.payments.tasks import authorize_payment as authorize_task
from apps.payments.tasks import reconcile_stuck_payments, refund_late_capture
from apps.trust import services as trust_services
from apps.trust.models import Dispute
from tests.factories import UserFactory, make_grant, make_payment, make_receipt
from tests.helpers import run_concurrently

pytestmark = pytest.mark.django_db


def test_authorize_capture_and_refund_in_sandbox(user):
    payment = make_payment(user)

    payment = lifecycle.payment_authorize(payment_id=payment.pk)
    assert (payment.status, payment.confirmation_verified) == ("authorized", True)
    payment = lifecycle.payment_capture(payment_id=payment.pk)
    assert payment.captured_amount == payment.local_amount

    refunds.refund_create(payment_id=payment.pk, amount=Decimal("20.00"))
    refunds.refund_create(payment_id=payment.pk)
    payment.refresh_from_db()

    assert payment.status == Payment.Status.REFUNDED
    assert payment.refunded_amount == payment.captured_amount
    assert [e.to_status for e in payment.events.all()] == [
        "pending",
        "authorized",
        "captured",
        "partially_refunded",
        "refunded",
    ]


def test_each_step_is_safe_to_run_twice(user):
    payment = make_payment(user)
    first = lifecycle.payment_authorize(payment_id=payment.pk).provider_reference

    again = lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)

    assert again.provider_reference == first
    assert Payment.objects.get().events.filter(to_status="captured").count() == 1


def test_declined_card_fails_the_payment(user):
    payment = make_payment(user, amount="50.51")

    payment = lifecycle.payment_authorize(payment_id=payment.pk)

    assert (payment.status, payment.failure_code) == ("failed", "insufficient_funds")


def test_lost_response_is_repaired_by_reconciliation_without_a_second_charge(user):
    payment = make_payment(user, amount="50.52")  # the sandbox charges, then times out

    with pytest.raises(Exception, match="timed out"):
        lifecycle.payment_authorize(payment_id=payment.pk)
    assert Payment.objects.get().status == Payment.Status.PENDING
    Payment.objects.update(updated_at=payment.created_at.replace(year=2020))

    assert reconcile_stuck_payments.delay().get() == 1

    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    # The retry carried the same idempotency key, so the rail answered with the charge it
    # had already made rather than making another.
    first_answer, _ = cache.get(f"sandbox:stripe:idem:{payment.provider_idempotency_key}")
    assert payment.provider_reference in first_answer


def test_refund_beyond_the_captured_amount_is_refused(user):
    payment = make_payment(user)
    lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)

    with pytest.raises(Exception, match="can still be refunded") as refused:
        refunds.refund_create(payment_id=payment.pk, amount=Decimal("50.01"))

    assert refused.value.code == "refund_exceeds_captured"
    assert not Refund.objects.exists()


def captured(user) -> Payment:
    payment = make_payment(user)
    lifecycle.payment_authorize(payment_id=payment.pk)
    return lifecycle.payment_capture(payment_id=payment.pk)


@pytest.mark.parametrize("amount", ["0", "-5", "0.004"])
def test_a_refund_of_nothing_is_refused_not_made_in_full(user, amount):
    payment = captured(user)

    with pytest.raises(ApplicationError) as refused:
        refunds.refund_create(payment_id=payment.pk, amount=Decimal(amount))

    assert (refused.value.code, refused.value.status) == ("refund_amount_not_positive", 422)
    assert not Refund.objects.exists()
    assert Payment.objects.get().status == Payment.Status.CAPTURED


def test_refund_amounts_are_rounded_to_the_currencys_minor_units(user):
    payment = captured(user)

    refund = refunds.refund_create(payment_id=payment.pk, amount=Decimal("20.004"))

    payment.refresh_from_db()
    assert refund.amount == Money("20.00", "GBP")
    assert payment.refunded_amount == Money("20.00", "GBP")


@pytest.fixture
def refund_answer_lost_once(monkeypatch):
    """The sandbox Stripe makes the first refund, but its answer never arrives."""
    make_refund = SandboxStripeTransport._refund
    made = []

    def refund_and_lose_the_first_answer(self, params):
        body, status = make_refund(self, params)
        made.append(body)
        if len(made) == 1:
            raise _ResponseLost(body)
        return body, status

    monkeypatch.setattr(SandboxStripeTransport, "_refund", refund_and_lose_the_first_answer)
    return made


def refunded_at_the_rail(payment: Payment) -> int:
    return cache.get(f"sandbox:stripe:pi:{payment.provider_reference}")["amount_refunded"]


def test_a_refund_whose_answer_was_lost_is_sent_again_and_made_once(user, refund_answer_lost_once):
    payment = captured(user)
    with pytest.raises(stripe.APIConnectionError):
        refunds.refund_create(payment_id=payment.pk)
    assert Refund.objects.get().status == Refund.Status.PENDING

    refund = refunds.refund_create(payment_id=payment.pk)  # e.g. the task's retry

    payment.refresh_from_db()
    assert (refund.status, Refund.objects.count()) == (Refund.Status.SUCCEEDED, 1)
    assert payment.status == Payment.Status.REFUNDED
    assert payment.refunded_amount == payment.captured_amount
    assert refunded_at_the_rail(payment) == 5000
    assert len(refund_answer_lost_once) == 1  # the resend carried the key: Stripe replayed


def test_a_refund_the_rail_made_but_the_database_did_not_record_is_finished_by_the_retry(
    user, monkeypatch
):
    payment = captured(user)
    record = refunds.refund_apply_result
    blinked = []

    def database_blinks_once(**answer):
        if not blinked:
            blinked.append(answer)
            raise OperationalError("server closed the connection unexpectedly")
        return record(**answer)

    monkeypatch.setattr(refunds, "refund_apply_result", database_blinks_once)
    with pytest.raises(OperationalError):
        refunds.refund_create(payment_id=payment.pk)

    refund = refunds.refund_create(payment_id=payment.pk)  # the task's retry, seconds later

    payment.refresh_from_db()
    assert (refund.status, Refund.objects.count()) == (Refund.Status.SUCCEEDED, 1)
    assert payment.status == Payment.Status.REFUNDED
    assert refunded_at_the_rail(payment) == 5000


def test_a_refund_still_on_its_way_makes_the_next_one_wait_not_fail(user):
    payment = captured(user)
    Refund.objects.create(
        payment=payment,
        amount=payment.captured_amount,
        provider_idempotency_key="geraos-refund-in-flight",
        send_started_at=timezone.now(),  # sent a moment ago, its answer not recorded yet
    )

    with pytest.raises(ConflictError) as waiting:
        refunds.refund_create(payment_id=payment.pk)

    assert waiting.value.code == "refund_in_flight"


class WorkerKilled(BaseException):
    """A process killed mid-call: no except clause of ours runs."""


def test_a_refund_whose_sender_died_mid_call_is_sent_again_later(user, monkeypatch):
    payment = captured(user)
    stripe_answers = SandboxStripeTransport.request

    def answered_then_killed(self, method, url, *args, **kwargs):
        stripe_answers(self, method, url, *args, **kwargs)  # Stripe made it and kept the answer
        raise WorkerKilled

    monkeypatch.setattr(SandboxStripeTransport, "request", answered_then_killed)
    with pytest.raises(WorkerKilled):
        refunds.refund_create(payment_id=payment.pk)
    monkeypatch.setattr(SandboxStripeTransport, "request", stripe_answers)
    assert not selectors.payment_refund_waiting(payment_id=payment.pk)  # not the rail's to make
    Refund.objects.update(send_started_at=timezone.now() - refunds.REFUND_ANSWER_TIMEOUT)

    refund = refunds.refund_create(payment_id=payment.pk)

    payment.refresh_from_db()
    assert (refund.status, Refund.objects.count()) == (Refund.Status.SUCCEEDED, 1)
    assert payment.status == Payment.Status.REFUNDED
    assert refunded_at_the_rail(payment) == 5000


def test_a_refund_the_rail_refuses_fails_and_frees_the_amount(user):
    payment = captured(user)
    intent_key = f"sandbox:stripe:pi:{payment.provider_reference}"
    intent = cache.get(intent_key)
    intent["amount_refunded"] = 2000  # 20.00 refunded by an operator in Stripe's dashboard
    cache.set(intent_key, intent)

    refused = refunds.refund_create(payment_id=payment.pk)  # "the rest": 50.00, too much
    refund = refunds.refund_create(payment_id=payment.pk, amount=Decimal("30.00"))

    assert refused.status == Refund.Status.FAILED
    assert refund.status == Refund.Status.SUCCEEDED


def test_the_late_capture_refund_task_retries_until_the_refund_is_made(
    user, refund_answer_lost_once
):
    payment = captured(user)

    outcome = refund_late_capture.apply(args=[str(payment.pk)], throw=False).get()

    payment.refresh_from_db()
    assert (outcome, Refund.objects.count()) == ("succeeded", 1)
    assert payment.status == Payment.Status.REFUNDED
    assert refunded_at_the_rail(payment) == 5000


@pytest.mark.parametrize("blips", [0, 3, 8])
@pytest.mark.parametrize(
    ("task", "service"),
    [
        (refund_late_capture, (refunds, "refund_create")),
        (authorize_task, (lifecycle, "payment_authorize")),
    ],
    ids=["late-capture refund", "authorization"],
)
def test_blips_do_not_spend_a_tasks_rail_attempts(
    monkeypatch, retried_at_once, task, service, blips
):
    asked = []

    def rail_down_after_blips(**kwargs):
        if len(asked) < blips * 2 and len(asked) % 2 == 0:  # every other call, blips times
            asked.append("blip")
            raise OperationalError("server closed the connection unexpectedly")
        asked.append("rail")
        raise OSError("the rail timed out")

    monkeypatch.setattr(*service, rail_down_after_blips)

    task.apply(args=["a-payment"], throw=False)

    assert asked.count("rail") == task.max_retries + 1


def test_a_retried_partial_refund_is_made_once(user, refund_answer_lost_once):
    payment = captured(user)
    with pytest.raises(stripe.APIConnectionError):
        refunds.refund_create(payment_id=payment.pk, amount=Decimal("20.00"))

    refunds.refund_create(payment_id=payment.pk, amount=Decimal("20.00"))

    payment.refresh_from_db()
    assert Refund.objects.count() == 1
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert payment.refunded_amount == Money("20.00", "GBP")
    assert refunded_at_the_rail(payment) == 2000


def test_a_refund_left_unanswered_is_finished_before_another_is_made(user, refund_answer_lost_once):
    payment = captured(user)
    with pytest.raises(stripe.APIConnectionError):
        refunds.refund_create(payment_id=payment.pk, amount=Decimal("20.00"))

    refunds.refund_create(payment_id=payment.pk)  # the rest

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert sorted(r.amount.amount for r in Refund.objects.all()) == [Decimal("20"), Decimal("30")]
    assert refunded_at_the_rail(payment) == 5000


def test_a_dispute_refund_after_a_lost_answer_finishes_that_refund(user, refund_answer_lost_once):
    payment = captured(user)
    with pytest.raises(stripe.APIConnectionError):
        refunds.refund_create(payment_id=payment.pk)
    receipt = make_receipt(user, payment_ref=str(payment.pk))
    dispute = trust_services.dispute_open(receipt=receipt, opened_by="buyer", reason="other")

    dispute = trust_services.dispute_resolve(
        dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED
    )

    payment.refresh_from_db()
    refund = Refund.objects.get()
    assert payment.status == Payment.Status.REFUNDED
    assert dispute.resolution_receipt.payload["payment_ref"] == refund.provider_reference
    assert refunded_at_the_rail(payment) == 5000


def test_expired_or_foreign_quotes_cannot_be_paid(user, other_user):
    payment = make_payment(user)

    with pytest.raises(Exception, match="already paid"):
        lifecycle.payment_create(
            user=user, quote=payment.quote, reference="x", idempotency_key="k2"
        )
    with pytest.raises(Exception, match="No such quote"):
        lifecycle.payment_create(
            user=other_user, quote=payment.quote, reference="x", idempotency_key="k3"
        )


def test_same_payment_key_returns_the_same_payment(user):
    payment = make_payment(user, key="order-77")

    again = lifecycle.payment_create(
        user=user, quote=payment.quote, reference="order", idempotency_key="order-77"
    )

    assert again.pk == payment.pk


def test_dispute_refund_is_wired_to_the_real_refund(user):
    payment = make_payment(user)
    lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)
    receipt = make_receipt(user, payment_ref=str(payment.pk))
    dispute = trust_services.dispute_open(receipt=receipt, opened_by="buyer", reason="other")

    dispute = trust_services.dispute_resolve(
        dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED
    )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert dispute.resolution_receipt.payload["payment_ref"].startswith("re_sandbox_")


@pytest.mark.parametrize("payment_ref", ["", "pi_demo_plumber"])
def test_a_dispute_on_a_receipt_naming_no_geraos_payment_is_a_404(user, payment_ref):
    receipt = make_receipt(user, payment_ref=payment_ref)
    dispute = trust_services.dispute_open(receipt=receipt, opened_by="buyer", reason="other")

    with pytest.raises(ApplicationError) as refused:
        trust_services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)

    assert (refused.value.code, refused.value.status) == ("payment_not_found", 404)


def test_owner_and_the_agent_that_paid_read_a_payment_others_get_404(user, other_user):
    grant, token = make_grant(user, scopes=["dispatch:read"])
    quote = quotes.quote_create(user=user, amount=Money("50.00", "GBP"))
    payment = lifecycle.payment_create(
        user=user, quote=quote, reference="order", idempotency_key="pay-1", grant=grant
    )
    owner, stranger = Client(), Client()
    owner.force_login(user)
    stranger.force_login(other_user)

    body = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"/api/v1/payments/{payment.pk}").json()

    assert body["status"] == "pending"
    assert body["local_amount"] == {"amount": "50.00", "currency": "GBP"}
    assert owner.get(f"/api/v1/payments/{payment.pk}").status_code == 200
    assert stranger.get(f"/api/v1/payments/{payment.pk}").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_partial_refunds_never_exceed_the_captured_amount():
    payment = make_payment(UserFactory())
    lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)

    results = run_concurrently(
        lambda: refunds.refund_create(payment_id=payment.pk, amount=Decimal("15.00")),
        8,
        refusals=(ApplicationError,),
    )

    outcomes = [r.code if isinstance(r, ApplicationError) else "refunded" for r in results]
    payment.refresh_from_db()
    assert outcomes.count("refunded") == 3  # 3 x 15 <= 50 < 4 x 15
    assert outcomes.count("refund_exceeds_captured") == 5
    assert payment.refunded_amount.amount == Decimal("45.00")


def test_stale_news_does_not_clear_what_the_payer_must_do(user):
    payment = make_payment(user)
    redirect = {"type": "redirect_to_url", "url": "https://bank.example/approve"}
    lifecycle.payment_apply_result(
        payment_id=payment.pk,
        result=ProviderResult(
            status="requires_action", provider_reference="pi_1", next_action=redirect
        ),
        cause="authorize",
    )

    lifecycle.payment_apply_result(
        payment_id=payment.pk,
        result=ProviderResult(status="pending", failure_code="still_processing"),
        cause="webhook",
    )

    payment.refresh_from_db()
    assert (payment.status, payment.next_action) == ("requires_action", redirect)
    assert payment.failure_code == ""


def test_an_unanswered_refund_a_day_old_is_left_to_an_operator(user, refund_answer_lost_once):
    payment = captured(user)
    with pytest.raises(stripe.APIConnectionError):
        refunds.refund_create(payment_id=payment.pk)
    Refund.objects.update(created_at=timezone.now() - dt.timedelta(days=1, minutes=1))

    with pytest.raises(ApplicationError, match="can still be refunded"):
        refunds.refund_create(payment_id=payment.pk)  # its key may have expired: not resent

    assert len(refund_answer_lost_once) == 1
    assert selectors.refunds_unanswered_too_long().count() == 1


def test_a_late_capture_whose_refund_task_gave_up_is_refunded_by_the_sweep(user, monkeypatch):
    payment = captured(user)
    payment.events.filter(to_status=Payment.Status.CAPTURED).update(data={"late": True})
    later = timezone.now() + selectors.STUCK_AFTER + dt.timedelta(seconds=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)

    reconcile_stuck_payments()

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert refunded_at_the_rail(payment) == 5000
