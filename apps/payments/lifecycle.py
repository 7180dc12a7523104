"""A payment's life: created for a quote, authorized, captured or voided, told apart from
stale news. Rail calls never run inside a transaction: each step locks and checks,
commits, calls the rail, then locks, re-checks and applies what the rail said."""

import datetime as dt
import re
import uuid
from dataclasses import fields
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from djmoney.money import Money

from apps.core.enqueue import enqueue_on_commit
from apps.core.errors import ApplicationError, ConflictError, NotFoundError
from apps.core.state_machine import Transitions
from apps.identity import services as identity_services
from apps.identity.models import AgentGrant
from apps.payments import selectors
from apps.payments.adapters import ADAPTERS, ProviderResult, RailAdapter, adapter_for
from apps.payments.adapters.base import UNCONFIRMED
from apps.payments.models import Payment, PaymentEvent, ProviderEvent, Quote, Rail
from apps.payments.signals import payment_status_changed

Status = Payment.Status


class IllegalTransition(ConflictError):
    code = "illegal_payment_transition"


MOVES = Transitions(
    {
        Status.PENDING: {Status.REQUIRES_ACTION, Status.AUTHORIZED, Status.CAPTURED, Status.FAILED},
        Status.REQUIRES_ACTION: {Status.AUTHORIZED, Status.CAPTURED, Status.FAILED, Status.VOIDED},
        Status.AUTHORIZED: {Status.CAPTURED, Status.VOIDED, Status.FAILED},
        Status.CAPTURED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
        Status.PARTIALLY_REFUNDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
        # A payer can still approve after we gave up (an STK prompt answered late, a bank
        # page finished after the void): the money has moved, so it is recorded, then
        # given back.
        Status.VOIDED: {Status.CAPTURED},
        Status.FAILED: {Status.CAPTURED},
    },
    subject="A payment",
    refusal=IllegalTransition,
)
LATE_CAPTURE_FROM = frozenset({Status.VOIDED, Status.FAILED})

# An STK prompt expires on the phone within about a minute and Daraja calls back soon
# after: a push with neither its answer nor its callback this long after it was sent has
# failed (a callback later still is a late capture, refunded).
UNANSWERED_AFTER = dt.timedelta(minutes=5)
UNANSWERED = "unanswered"  # the failure code of a payment whose rail never answered


def lock_payment(payment_id) -> Payment:
    return Payment.objects.select_for_update(of=("self",)).select_related("rail").get(pk=payment_id)


def move(payment: Payment, to: str, *, cause: str, data: dict | None = None) -> None:
    """The one place a payment's status changes: legal moves only, each one recorded."""
    MOVES.require(payment.status, to)
    PaymentEvent.objects.create(
        payment=payment, from_status=payment.status, to_status=to, cause=cause, data=data or {}
    )
    payment.status = to
    if to in {Status.FAILED, Status.VOIDED} and payment.holds_agent_spend:
        # No money moved: the agent's limits get the amount back.
        identity_services.agent_grant_release_spend(
            grant=payment.grant, reference=_spend_reference(payment)
        )
    transaction.on_commit(
        lambda: payment_status_changed.send(sender=Payment, payment_id=payment.pk, status=to)
    )


def rail_adapter(payment: Payment) -> RailAdapter:
    return adapter_for(payment.rail.code, sandbox=payment.rail.sandbox)


def payer_account_check(*, rail: Rail, payer_account: str) -> None:
    """Refuse, before anything is created, a payment the rail could not start: M-Pesa
    needs the phone to prompt, UPI the payer's VPA."""
    needed = ADAPTERS[rail.code].payer_account
    if needed is None:
        return
    if not payer_account:
        problem, code = f"{rail.name} needs {needed.description}.", "payer_account_required"
    elif not re.fullmatch(needed.pattern, payer_account):
        problem, code = f"That is not {needed.description}.", "invalid_payer_account"
    else:
        return
    raise ApplicationError(problem, code=code, status=400, fields={"payer_account": [problem]})


@transaction.atomic
def payment_create(
    *,
    user,
    quote: Quote,
    reference: str,
    idempotency_key: str,
    payer_account: str = "",
    grant: AgentGrant | None = None,
    holds_agent_spend: bool = False,
) -> Payment:
    """A payment for an unexpired quote of the user's, made by `grant`'s agent (or the user
    themselves); the same key returns the same one. `holds_agent_spend`: the caller
    reserves the grant's spend for this payment, which releases it if no money moves."""
    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing:
        if (
            existing.user_id != user.pk
            or existing.quote_id != quote.pk
            or existing.grant_id != getattr(grant, "pk", None)
        ):
            raise ApplicationError(
                "Idempotency key reused for another payment.",
                code="idempotency_key_reuse",
                status=422,
            )
        return existing
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.user_id != user.pk:
        raise NotFoundError("No such quote.")
    if refusal := selectors.quote_unpayable(quote):
        code, message = refusal
        raise ApplicationError(
            f"Not payable: {message}; ask for a new quote.", code=code, status=422
        )
    if Payment.objects.filter(quote=quote).exists():
        raise ConflictError("This quote is already paid for.", code="quote_used")
    payer_account_check(rail=quote.rail, payer_account=payer_account)
    payment = Payment.objects.create(
        user=user,
        grant=grant,
        payer_account=payer_account,
        quote=quote,
        rail=quote.rail,
        reference=reference,
        local_amount=quote.local_amount,
        settled_amount=quote.settlement_amount,
        rate=quote.rate,
        captured_amount=Money(0, quote.local_amount.currency),
        refunded_amount=Money(0, quote.local_amount.currency),
        idempotency_key=idempotency_key,
        provider_idempotency_key=f"geraos-pay-{uuid.uuid4()}",
        holds_agent_spend=holds_agent_spend,
    )
    PaymentEvent.objects.create(
        payment=payment,
        from_status="",
        to_status="pending",
        cause="created",
        data={"quote": str(quote.pk)},
    )
    return payment


def payment_start(*, grant: AgentGrant | None = None, **kwargs) -> Payment:
    """Create the payment and have a worker authorize it once the row is committed. An
    agent's payment is first held against its grant's limits: refused, nothing is made."""
    from apps.payments.tasks import authorize_payment

    with transaction.atomic():
        payment = payment_create(grant=grant, holds_agent_spend=grant is not None, **kwargs)
        if grant is not None:
            _reserve_agent_spend(payment, grant)
        if payment.status == Status.PENDING:
            enqueue_on_commit(authorize_payment, str(payment.pk))
    payment.refresh_from_db()
    return payment


def _reserve_agent_spend(payment: Payment, grant: AgentGrant) -> None:
    identity_services.agent_grant_reserve_spend(
        grant=grant,
        amount=payment.quote.home_total,
        reference=_spend_reference(payment),
    )


def _spend_reference(payment: Payment) -> str:
    return f"payment:{payment.pk}"


def payment_authorize(*, payment_id) -> Payment:
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if payment.status != Status.PENDING:
        return payment  # already done: safe to run twice
    adapter = rail_adapter(payment)
    if not getattr(adapter, "idempotent_authorize", True) and not _mark_sent(payment.pk):
        return _await_answer(payment.pk)  # asked again, the rail would ask the payer again
    result = adapter.authorize(payment, idempotency_key=payment.provider_idempotency_key)
    return payment_apply_result(payment_id=payment.pk, result=result, cause="authorize")


@transaction.atomic
def _mark_sent(payment_id) -> bool:
    """Claim the one request a rail without idempotency gets, committed before it is
    sent: True for the one caller that may send it."""
    payment = lock_payment(payment_id)
    if payment.status != Status.PENDING or payment.authorize_sent_at:
        return False
    payment.authorize_sent_at = timezone.now()
    payment.save(update_fields=["authorize_sent_at", "updated_at"])
    return True


@transaction.atomic
def _await_answer(payment_id) -> Payment:
    """The rail was asked already and is not asked again: its answer says what happened,
    or, that lost, its callback, whose URL names the payment (notices.webhook_receive).
    With neither UNANSWERED_AFTER on, the payment fails."""
    payment = lock_payment(payment_id)
    unanswered = (
        payment.status == Status.PENDING
        and not payment.provider_reference
        and payment.authorize_sent_at < timezone.now() - UNANSWERED_AFTER
    )
    if unanswered:
        _apply(payment, ProviderResult(status=Status.FAILED, failure_code=UNANSWERED), UNANSWERED)
        payment.save()
    return payment


def payment_capture(*, payment_id) -> Payment:
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if payment.status == Status.CAPTURED:
        return payment
    if payment.status != Status.AUTHORIZED:
        raise IllegalTransition(f"Only an authorized payment can be captured ({payment.status}).")
    result = rail_adapter(payment).capture(
        payment, idempotency_key=f"{payment.provider_idempotency_key}-capture"
    )
    return payment_apply_result(payment_id=payment.pk, result=result, cause="capture")


def payment_void(*, payment_id) -> Payment:
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if payment.status == Status.VOIDED:
        return payment
    result = rail_adapter(payment).void(
        payment, idempotency_key=f"{payment.provider_idempotency_key}-void"
    )
    return payment_apply_result(payment_id=payment.pk, result=result, cause="void")


def payment_reconcile(*, payment_id) -> Payment:
    """Ask the rail what happened (after a timeout or a lost response) and record it."""
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if not payment.provider_reference:
        # Asked again only where that cannot charge twice: the same key, or not at all.
        return payment_authorize(payment_id=payment_id)
    result = rail_adapter(payment).status(payment)
    return payment_apply_result(payment_id=payment_id, result=result, cause="reconcile")


@transaction.atomic
def payment_apply_result(*, payment_id, result: ProviderResult, cause: str) -> Payment:
    """Record what the rail said. Older news never moves a payment backwards."""
    if result.provider_reference:
        # Before the payment's lock, as a notice takes them: the other order deadlocks.
        serialize_on_reference(result.provider_reference)
    payment = lock_payment(payment_id)
    early_notices = []
    if result.provider_reference and not payment.provider_reference:
        payment.provider_reference = result.provider_reference
        early_notices = list(_early_notices(payment))
    _apply(payment, result, cause)
    for notice in early_notices:
        held = _held_result(notice.pending_result)
        if held.status == UNCONFIRMED:  # a callback named it before it was ours to ask about
            payment_ask_rail_on_commit(payment_id=payment.pk)
        else:
            _apply(payment, held, "webhook")
        notice.pending_result = None
        notice.save(update_fields=["pending_result"])
    payment.save()
    return payment


def payment_ask_rail_on_commit(*, payment_id) -> None:
    """Reconcile once this commits: an unsigned callback named the payment, and the rail
    says what happened (never asked inside a transaction)."""
    from apps.payments.tasks import reconcile_payment

    reconcile_payment.delay_on_commit(str(payment_id))


def serialize_on_reference(provider_reference: str) -> None:
    """Hold a lock on the reference until commit. A webhook looking for the payment and
    the apply storing its reference then run one after the other: either the notice finds
    the payment, or the apply finds the held notice; without it both can miss.
    (PostgreSQL; SQLite lets one writer in at a time anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"payment-reference:{provider_reference}"],
            )


def _early_notices(payment: Payment):
    """Notices the rail sent before we stored the payment's reference (a real race: a
    callback can beat the response to the request that caused it)."""
    return ProviderEvent.objects.select_for_update().filter(
        provider_reference=payment.provider_reference, pending_result__isnull=False
    )


def _held_result(stored: dict) -> ProviderResult:
    # A notice held by an older release may carry a field since dropped (captured_minor).
    known = {f.name for f in fields(ProviderResult)}
    return ProviderResult(**{name: value for name, value in stored.items() if name in known})


def _apply(payment: Payment, result: ProviderResult, cause: str) -> None:
    target = result.status
    reported = result.data.get("amount")
    mismatch = reported is not None and Decimal(reported) != payment.local_amount.amount
    if target == Status.CAPTURED and mismatch:
        # The rail confirmed another amount than we asked for: never settle it.
        result = ProviderResult(
            status="failed",
            failure_code="amount_mismatch",
            provider_reference=result.provider_reference,
        )
        target = result.status
    if target != payment.status and MOVES.allows(payment.status, target):
        late = target == Status.CAPTURED and payment.status in LATE_CAPTURE_FROM
        move(payment, target, cause=cause, data={"failure_code": result.failure_code, "late": late})
        if target == Status.CAPTURED:
            payment.captured_amount = payment.local_amount
        if late:
            _refund_late_capture(payment)
    if payment.status != target:
        return  # stale or refused news: it must not clear what the current state shows
    # News that the payer is still to act (Idram's unsigned precheck) may not say how: the
    # payer's way there is kept until a later step replaces it.
    waiting = target == Status.REQUIRES_ACTION
    payment.next_action = (result.next_action or payment.next_action) if waiting else None
    if result.confirmation_id:
        payment.confirmation_id = result.confirmation_id
        payment.confirmation_verified = result.confirmation_verified
    payment.failure_code = result.failure_code or payment.failure_code


def _refund_late_capture(payment: Payment) -> None:
    from apps.payments.tasks import refund_late_capture

    refund_late_capture.delay_on_commit(str(payment.pk))
