"""Refunds: the sum never exceeds what was captured, however many run at once.

A refund is marked as sent before the rail is called and unmarked by the answer. One whose
sending broke off (a network error, or a process that died mid-call) stays pending, its
amount held: the next refund of the payment first sends it again with its own key, so the
rail makes it once. A rail's definite refusal fails it and frees the amount.
"""

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from djmoney.money import Money

from apps.core import audit
from apps.core.errors import ApplicationError, ConflictError, NotFoundError
from apps.core.money import round_to_minor_units
from apps.payments import selectors
from apps.payments.adapters import RAIL_REFUSALS, ProviderResult
from apps.payments.lifecycle import IllegalTransition, lock_payment, move, rail_adapter
from apps.payments.models import Payment, Refund
from apps.trust.refunds import RefundMade

# A refund sent and unanswered this long was lost with the process that sent it.
REFUND_ANSWER_TIMEOUT = dt.timedelta(minutes=2)

# A rail without a refund API answers this: the refund is made by hand in its back office.
MANUAL_REFUND = "pending_manual"
# A refund the rail accepted but has not made yet; its webhook tells the outcome.
REFUND_PENDING = "pending"


def refund_create(
    *,
    payment_id,
    amount: Decimal | None = None,
    reason: str = "",
    request=None,
    requested_for: str = "",
) -> Refund:
    """Refund part (`amount`, in the payment's local currency) or, by default, the rest of
    a captured payment. A retry after an error gets the refund it first asked for. An
    operator's refund (`request`) is audited with the refund's reservation."""
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if amount is not None:
        amount = _refund_amount(payment, amount)
    resent = _resend_interrupted_refunds(payment)
    earlier = _earlier_attempt(payment, resent, amount)
    if earlier is not None:
        return earlier
    refund = _refund_reserve(
        payment_id=payment.pk,
        amount=amount,
        reason=reason,
        request=request,
        requested_for=requested_for,
    )
    return _refund_send(payment, refund)


def _refund_amount(payment: Payment, amount: Decimal) -> Decimal:
    """The amount asked for, in the currency's minor units; nothing is not a refund."""
    try:
        amount = round_to_minor_units(amount, str(payment.local_amount.currency))
    except InvalidOperation:  # more digits than any amount has
        amount = None
    if amount is None:
        raise ApplicationError(
            "That is more than any payment.", code="refund_exceeds_captured", status=422
        )
    if amount <= 0:
        message = "A refund must be for more than nothing."
        raise ApplicationError(
            message,
            code="refund_amount_not_positive",
            status=422,
            fields={"amount": [{"code": "refund_amount_not_positive", "message": message}]},
        )
    return amount


def _resend_interrupted_refunds(payment: Payment) -> list[Refund]:
    resent = []
    while (refund := _claim_interrupted_refund(payment)) is not None:
        resent.append(_refund_send(payment, refund))
    return resent


@transaction.atomic
def _claim_interrupted_refund(payment: Payment) -> Refund | None:
    """The payment's oldest refund whose sending broke off, claimed by one caller only:
    the claim marks it as being sent now, so a second caller finds nothing to claim."""
    now = timezone.now()
    abandoned = Q(send_started_at__lt=now - REFUND_ANSWER_TIMEOUT)
    refund = (
        payment.refunds.select_for_update()
        .filter(Q(send_interrupted_at__isnull=False) | abandoned, status=Refund.Status.PENDING)
        .filter(created_at__gt=now - selectors.REFUND_RESEND_WITHIN)
        .order_by("created_at")
        .first()
    )
    if refund is not None:
        _mark_sending(refund)
    return refund


def _mark_sending(refund: Refund) -> None:
    refund.send_started_at, refund.send_interrupted_at = timezone.now(), None
    refund.save(update_fields=["send_started_at", "send_interrupted_at", "updated_at"])


def _earlier_attempt(payment: Payment, resent: list[Refund], amount: Decimal | None):
    """A refund just sent again stands for this call when this call is its retry: the
    same amount, or 'the rest' with nothing left."""
    if amount is None:
        return resent[-1] if resent and _refundable(payment) <= 0 else None
    return next((refund for refund in resent if refund.amount.amount == amount), None)


class RefundInFlight(ConflictError):
    """The rest is held by a refund sent and not answered yet: a caller retrying its own
    refund (a task after a lost answer) waits for the resend to settle it."""

    code = "refund_in_flight"


def _in_flight(payment: Payment) -> bool:
    """Sent and not answered yet, and to be sent again if need be (not one so old it is
    left to an operator, nor one waiting for the rail's back office)."""
    sent = Q(send_started_at__isnull=False) | Q(send_interrupted_at__isnull=False)
    recent = Q(created_at__gt=timezone.now() - selectors.REFUND_RESEND_WITHIN)
    return payment.refunds.filter(sent, recent, status=Refund.Status.PENDING).exists()


def _refundable(payment: Payment) -> Decimal:
    """Captured, less every refund not failed (a pending one holds its amount)."""
    committed = sum(
        (r.amount.amount for r in payment.refunds.exclude(status=Refund.Status.FAILED)),
        Decimal(0),
    )
    return payment.captured_amount.amount - committed


@transaction.atomic
def _refund_reserve(
    *, payment_id, amount: Decimal | None, reason: str, request, requested_for: str
) -> Refund:
    payment = lock_payment(payment_id)
    if payment.status not in {Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED}:
        raise IllegalTransition(f"Only a captured payment can be refunded ({payment.status}).")
    left, asked_for_the_rest = _refundable(payment), amount is None
    amount = left if asked_for_the_rest else amount
    if left <= 0 and asked_for_the_rest and _in_flight(payment):
        raise RefundInFlight(
            "A refund of this payment is on its way and holds what is left; try again once "
            "the rail has answered it."
        )
    if amount <= 0 or amount > left:
        raise ApplicationError(
            f"At most {left} {payment.local_amount.currency} can still be refunded.",
            code="refund_exceeds_captured",
            status=422,
        )
    refund = Refund.objects.create(
        payment=payment,
        amount=Money(amount, payment.local_amount.currency),
        reason=reason,
        provider_idempotency_key=f"geraos-refund-{uuid.uuid4()}",
        send_started_at=timezone.now(),
        requested_for=requested_for,
    )
    _audit_refund(request, payment, refund, already=payment.captured_amount.amount - left)
    return refund


def _audit_refund(request, payment: Payment, refund: Refund, *, already: Decimal) -> None:
    """An operator's refund, as the refunds asked of the payment before and after it."""
    currency = payment.local_amount.currency
    audit.record_if_operator(
        request=request,
        action="payments.refund",
        obj=payment,
        changes={"refunds": (Money(already, currency), Money(already, currency) + refund.amount)},
        reason=refund.reason,
    )


def _refund_send(payment: Payment, refund: Refund) -> Refund:
    """Ask the rail; `refund` is already marked as being sent (by reserve or claim)."""
    try:
        result = rail_adapter(payment).refund(
            payment, refund.amount.amount, idempotency_key=refund.provider_idempotency_key
        )
    except RAIL_REFUSALS as refusal:
        result = ProviderResult(status="failed", failure_code=getattr(refusal, "code", "") or "")
    except Exception:
        # No answer: the rail may have made it or not. Only the same key may ask again.
        _refund_mark_interrupted(refund_id=refund.pk)
        raise
    try:
        return refund_apply_result(refund_id=refund.pk, result=result)
    except Exception:
        # The rail answered but the answer was not recorded (the database blinked): sent
        # again with its key, the rail answers the same and the answer is recorded then.
        _refund_mark_interrupted(refund_id=refund.pk)
        raise


@transaction.atomic
def _refund_mark_interrupted(*, refund_id) -> None:
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status == Refund.Status.PENDING:
        refund.send_interrupted_at = timezone.now()
        refund.save(update_fields=["send_interrupted_at", "updated_at"])


@transaction.atomic
def refund_apply_result(*, refund_id, result: ProviderResult) -> Refund:
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    payment = lock_payment(refund.payment_id)
    if refund.status != Refund.Status.PENDING:
        return refund  # settled meanwhile (e.g. confirmed by hand): never recorded twice
    refund.provider_reference = result.provider_reference or refund.provider_reference
    refund.send_started_at = refund.send_interrupted_at = None  # answered
    if result.status in {MANUAL_REFUND, REFUND_PENDING}:
        refund.save()  # pending, its amount held, until the rail or an operator confirms
        return refund
    refund.status = (
        Refund.Status.SUCCEEDED if result.status == "succeeded" else Refund.Status.FAILED
    )
    refund.save()
    if refund.status == Refund.Status.SUCCEEDED:
        _record_refunded(payment, refund)
    return refund


class _RefundNotConfirmed(ConflictError):
    code = "refund_pending"

    def __init__(self):
        super().__init__(
            "The refund is on its way but not confirmed yet (by the rail, or by an operator "
            "for a rail refunded in its back office); resolve the dispute once it is."
        )


def _record_refunded(payment: Payment, refund: Refund) -> None:
    payment.refunded_amount += refund.amount
    refund.refunded_total = payment.refunded_amount
    refund.save(update_fields=["refunded_total", "refunded_total_currency", "updated_at"])
    full = payment.refunded_amount.amount >= payment.captured_amount.amount
    move(
        payment,
        Payment.Status.REFUNDED if full else Payment.Status.PARTIALLY_REFUNDED,
        cause="refund",
        data={"refund": str(refund.pk), "amount": str(refund.amount.amount)},
    )
    payment.save()


@transaction.atomic
def refund_confirm_manual(*, refund_id, reference: str, operator) -> Refund:
    """An operator made the refund in the rail's own back office (Idram's cabinet)."""
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status != Refund.Status.PENDING or not reference.strip():
        raise ApplicationError(
            "Only a pending refund, with the rail's reference, can be confirmed.",
            code="refund_not_pending",
            status=409,
        )
    payment = lock_payment(refund.payment_id)
    refund.status = Refund.Status.SUCCEEDED
    refund.provider_reference = reference.strip()
    refund.reason = f"{refund.reason} (confirmed by {operator})".strip()
    refund.save()
    _record_refunded(payment, refund)
    return refund


def refund_for_receipt(
    *, receipt, reason: str, amount: Decimal | None = None, request=None, requested_for: str = ""
) -> RefundMade:
    """Refund `amount` (by default what is left) of the payment a receipt records, for
    `requested_for` (registered with trust; a dispute names itself). Asked again for the
    same thing, it answers with the refund it made then (or says it still waits for it),
    never with a second one."""
    payment = _payment_named_by(receipt)
    if payment is None:
        raise NotFoundError("The receipt names no GeraOS payment.", code="payment_not_found")
    refund = _refund_requested_for(payment, requested_for)
    if refund is None and payment.status == Payment.Status.REFUNDED:  # in full meanwhile
        refund = payment.refunds.filter(status=Refund.Status.SUCCEEDED).latest("refunded_total")
    if refund is None:
        if selectors.payment_refund_waiting(payment_id=payment.pk):
            raise _RefundNotConfirmed()
        refund = refund_create(
            payment_id=payment.pk,
            amount=amount,
            reason=reason,
            request=request,
            requested_for=requested_for,
        )
    return _made(refund)


def _refund_requested_for(payment: Payment, requested_for: str) -> Refund | None:
    if not requested_for:
        return None
    asked = payment.refunds.filter(requested_for=requested_for)
    return asked.exclude(status=Refund.Status.FAILED).order_by("created_at").last()


def _made(refund: Refund) -> RefundMade:
    if refund.status == Refund.Status.PENDING:
        raise _RefundNotConfirmed()
    if refund.status != Refund.Status.SUCCEEDED:
        raise ApplicationError("The rail refused the refund.", code="refund_failed", status=502)
    return selectors.refund_made(refund)


def _payment_named_by(receipt) -> Payment | None:
    """Receipts carry other references too (none for a rejected order, demo ids)."""
    try:
        payment_id = uuid.UUID(str(receipt.payload.get("payment_ref")))
    except ValueError:
        return None
    return Payment.objects.filter(pk=payment_id).first()
