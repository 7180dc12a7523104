"""Dispatch writes: an intent becomes an order, and the order moves through its state
machine one step at a time (docs/DESIGN.md):

    pending -> authorizing -> authorized -> fulfilling -> fulfilled -> capturing -> completed
    pending -> rejected; authorizing -> failed; authorized/fulfilling -> voided;
    capturing -> failed; completed -> partially_refunded -> refunded (each refund, whoever
    made it); completed -> disputed -> refunded | partially_refunded | resolved_upheld

Each step locks the order and checks where it is, commits, does its outside work (the
rail, the provider) with no transaction open, then locks again and records the outcome.
So every step is safe to run twice, and a step cut short by a crash resumes from the
state it left behind. The next step is enqueued only once the move is committed.
"""

import datetime as dt
import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog import services as catalog_services
from apps.catalog.models import Skill
from apps.core import audit
from apps.core.enqueue import enqueue_on_commit
from apps.core.errors import ApplicationError, ConflictError
from apps.core.money import money_document
from apps.core.state_machine import Transitions
from apps.dispatch import callbacks, fulfilment, resolver
from apps.dispatch.details import details_check
from apps.dispatch.models import (
    AT_REST,
    DISPUTABLE,
    FINISHED,
    CallbackDelivery,
    DispatchOrder,
    DispatchTransition,
)
from apps.dispatch.parser import ParsedIntent
from apps.dispatch.sandbox_provider import SandboxTransport
from apps.identity import services as identity_services
from apps.identity.models import AgentGrant, Feature
from apps.memory import selectors as memory_selectors
from apps.memory import services as memory_services
from apps.payments import lifecycle as payment_lifecycle
from apps.payments import refunds as payment_refunds
from apps.payments import selectors as payment_selectors
from apps.payments.models import Payment
from apps.trust import services as trust_services
from apps.trust.models import Dispute

Status = DispatchOrder.Status


class IllegalTransition(ConflictError):
    code = "illegal_dispatch_transition"


MOVES = Transitions(
    {
        Status.PENDING: {Status.AUTHORIZING, Status.REJECTED},
        Status.AUTHORIZING: {Status.AUTHORIZED, Status.FAILED},
        Status.AUTHORIZED: {Status.FULFILLING, Status.VOIDED},
        Status.FULFILLING: {Status.FULFILLED, Status.VOIDED},
        Status.FULFILLED: {Status.CAPTURING},
        Status.CAPTURING: {Status.COMPLETED, Status.FAILED},
        Status.COMPLETED: {Status.DISPUTED, Status.PARTIALLY_REFUNDED, Status.REFUNDED},
        Status.PARTIALLY_REFUNDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED},
        # A withdrawn dispute returns the order to where it was before it.
        Status.DISPUTED: {
            Status.REFUNDED,
            Status.PARTIALLY_REFUNDED,
            Status.RESOLVED_UPHELD,
            Status.COMPLETED,
        },
        # A goodwill refund after the charge was upheld, or the buyer disputes it again.
        Status.RESOLVED_UPHELD: {Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED},
    },
    subject="A dispatch",
    refusal=IllegalTransition,
)
RESOLUTIONS = {
    Status.COMPLETED: "completed",
    Status.REJECTED: "rejected",
    Status.FAILED: "failed",
    Status.VOIDED: "voided",
}
WORKER = "worker"


def _locked(order_id) -> DispatchOrder:
    return (
        DispatchOrder.objects.select_for_update(of=("self",))
        .select_related("payment", "grant", "quote__rail", "provider", "skill__product", "user")
        .get(pk=order_id)
    )


def _move(order: DispatchOrder, to: str, *, actor: str, reason: str, data: dict | None = None):
    """The one place an order's status changes: legal moves only, each one recorded, and
    the agent's callback told once the move is committed."""
    MOVES.require(order.status, to)
    DispatchTransition.objects.create(
        order=order,
        from_status=order.status,
        to_status=to,
        actor=actor,
        reason=reason[:300],
        data=data or {},
    )
    order.status = to
    order.save()
    _queue_callback(order)


@transaction.atomic
def _begin(order_id, *, waiting: str, working: str, reason: str) -> tuple[DispatchOrder, bool]:
    """Start a step: move the order from the state the step waits on to the one it works
    in. False when there is nothing to do: the step is done, or the order has failed."""
    order = _locked(order_id)
    if order.status == waiting:
        _move(order, working, actor=WORKER, reason=reason)
    return order, order.status == working and not order.failure_code


def _after_commit(task, order: DispatchOrder) -> None:
    enqueue_on_commit(task, str(order.pk))


# ---------------------------------------------------------------------------
# Creating an order: every check that can refuse runs before any money moves
# ---------------------------------------------------------------------------


def dispatch_create(
    *,
    user,
    grant: AgentGrant | None,
    intent: ParsedIntent | None = None,
    text: str = "",
    details: dict,
    idempotency_key: str,
    callback_url: str = "",
    payer_account: str = "",
) -> tuple[DispatchOrder, str]:
    """Resolve the intent; check the grant's capabilities, the details, consent, the
    plan's entitlement and the grant's spend limit; create a pending order whose pipeline
    starts after commit. Returns the order and, for a new order with a callback URL, the
    callback signing secret (shown once)."""
    existing = DispatchOrder.objects.filter(idempotency_key=idempotency_key).first()
    if existing:
        return _same_request(existing, user=user), ""
    try:
        return _dispatch_new(
            user=user,
            grant=grant,
            intent=intent,
            text=text,
            details=details,
            idempotency_key=idempotency_key,
            callback_url=callback_url,
            payer_account=payer_account,
        )
    except IntegrityError:  # the same key, committed by a concurrent request just now
        existing = DispatchOrder.objects.get(idempotency_key=idempotency_key)
        return _same_request(existing, user=user), ""


def _dispatch_new(
    *, user, grant, intent, text, details, idempotency_key, callback_url, payer_account
) -> tuple[DispatchOrder, str]:
    with transaction.atomic():
        found = resolver.resolve_intent_or_text(user=user, intent=intent, text=text)
        if grant is not None:
            identity_services.agent_grant_require_capability(
                grant=grant, capability=found.skill.capability
            )
        details_check(skill=found.skill, details=details)
        payment_lifecycle.payer_account_check(rail=found.quote.rail, payer_account=payer_account)
        _check_consent(user=user, grant=grant, skill=found.skill)
        identity_services.require_entitlement(user=user, feature=Feature.DISPATCHES)
        order = DispatchOrder.objects.create(
            user=user,
            grant=grant,
            idempotency_key=idempotency_key,
            intent=found.intent.as_dict(),
            details=details,
            skill=found.skill,
            skill_version=found.skill.version,
            provider=found.provider,
            quote=found.quote,
            payer_account=payer_account,
            callback_url=callback_url,
        )
        if grant is not None:
            identity_services.agent_grant_reserve_spend(
                grant=grant, amount=order.quote.home_total, reference=f"dispatch:{order.pk}"
            )
        callback_secret = callbacks.new_secret(order) if callback_url else ""
        DispatchTransition.objects.create(
            order=order,
            to_status=Status.PENDING,
            actor=_actor(user, grant),
            reason="dispatched",
            data={"quote": str(found.quote.pk), "provider": found.provider.name},
        )
        _queue_callback(order)
        _after_commit(_tasks().authorize_payment, order)
    return order, callback_secret


def _same_request(order: DispatchOrder, *, user) -> DispatchOrder:
    if order.user_id != user.pk:
        raise ApplicationError(
            "Idempotency key reused for another dispatch.", code="idempotency_key_reuse", status=422
        )
    return order


def _check_consent(*, user, grant, skill: Skill) -> None:
    """The provider will read these scopes while fulfilling: consent must be there now."""
    memory_services.memory_check_read(
        user=user,
        product=skill.product,
        scope_codes=skill.memory_scopes,
        grant=grant,
        purpose=f"dispatching {skill.capability}",
    )


def _actor(user, grant: AgentGrant | None) -> str:
    return f"agent:{grant.pk}" if grant is not None else f"user:{user.pk}"


def _tasks():
    from apps.dispatch import tasks  # the tasks call these services: import at call time

    return tasks


# ---------------------------------------------------------------------------
# Step 1: authorize the payment
# ---------------------------------------------------------------------------


def order_authorize(*, order_id) -> DispatchOrder:
    """Create the payment for the quote and ask the rail to authorize it. Rails that need
    the payer (an STK prompt, a bank redirect) leave the order authorizing until their
    confirmation arrives; `order_sync_payment` then carries on."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == Status.PENDING:
            refusal = _pre_payment_refusal(order)
            if refusal:
                _move(order, Status.REJECTED, actor=WORKER, reason=refusal)
                _release_reservations(order)
                _after_commit(_tasks().issue_receipt, order)
                return order
            order.payment = payment_lifecycle.payment_create(
                user=order.user,
                quote=order.quote,
                reference=f"dispatch {order.pk}: {order.skill.title}",
                idempotency_key=f"dispatch:{order.pk}",
                payer_account=order.payer_account,
                grant=order.grant,
            )
            _move(order, Status.AUTHORIZING, actor=WORKER, reason="payment created")
        elif order.status != Status.AUTHORIZING:
            return order
    payment_lifecycle.payment_authorize(payment_id=order.payment_id)
    return order_sync_payment(order_id=order_id)


def _pre_payment_refusal(order: DispatchOrder) -> str:
    grant = order.grant
    if grant is not None and (grant.revoked_at or grant.expires_at <= timezone.now()):
        return "the agent grant was revoked or expired before payment"
    if refusal := payment_selectors.quote_unpayable(order.quote):
        return f"not payable any more: {refusal[1]}"
    if not order.provider.active:
        return "the provider was deactivated before payment"
    return ""


@transaction.atomic
def order_sync_payment(*, order_id) -> DispatchOrder:
    """Carry an authorizing order on from what its payment now says."""
    order = _locked(order_id)
    if order.status != Status.AUTHORIZING or order.failure_code:
        return order
    payment = order.payment
    if payment.status in {Payment.Status.AUTHORIZED, Payment.Status.CAPTURED}:
        _move(
            order,
            Status.AUTHORIZED,
            actor=WORKER,
            reason=f"payment {payment.get_status_display().lower()}",
        )
        _after_commit(_tasks().fulfil, order)
    elif payment.status in {Payment.Status.FAILED, Payment.Status.VOIDED}:
        _fail(
            order,
            Status.FAILED,
            code=payment.failure_code or "payment_failed",
            message="The payment was not authorized.",
        )
    return order


# ---------------------------------------------------------------------------
# Step 2: fulfil with the provider
# ---------------------------------------------------------------------------


def order_fulfil(*, order_id) -> DispatchOrder:
    """Send the provider the signed booking (the same request, with the same key, if this
    runs again) and record its verified confirmation. ProviderUnavailable propagates so
    the task retries; a decline starts compensation."""
    order, go_on = _begin(
        order_id,
        waiting=Status.AUTHORIZED,
        working=Status.FULFILLING,
        reason="sent to the provider",
    )
    if not go_on:
        return order
    try:
        booking = _book(order)
    except (fulfilment.ProviderDeclined, ApplicationError) as refusal:
        # The provider said no, consent was withdrawn, or the provider has no secret yet:
        # none of these gets better by retrying.
        return order_fulfilment_failed(order_id=order_id, code=refusal.code, message=str(refusal))
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == Status.FULFILLING and not order.failure_code:
            order.confirmation = booking.as_confirmation()
            _move(
                order,
                Status.FULFILLED,
                actor=WORKER,
                reason=f"booked: {booking.reference}",
                data={"reference": booking.reference},
            )
            _after_commit(_tasks().capture, order)
    return order


def _book(order: DispatchOrder) -> fulfilment.Booking:
    provider = order.provider
    secret = catalog_services.provider_secret(provider=provider)
    transport = (
        SandboxTransport(provider=provider, secret=secret)
        if provider.is_sandbox
        else fulfilment.HttpTransport()
    )
    return fulfilment.book(
        url=provider.endpoint_url or "sandbox:",
        booking=_booking_request(order),
        idempotency_key=str(order.pk),
        secret=secret,
        transport=transport,
    )


def _booking_request(order: DispatchOrder) -> dict:
    return {
        "booking_id": str(order.pk),
        "skill": {"capability": order.skill.capability, "version": order.skill_version},
        "provider": order.provider.name,
        "city": order.provider.city,
        "window": order.intent.get("window"),
        "details": order.details,
        "price": money_document(order.provider.price),
        "customer": trust_services.user_pseudonym(order.user_id),
        "memory": _consented_memory(order),
    }


def _consented_memory(order: DispatchOrder) -> dict:
    """The scopes the skill needs, read through memory's service: consent is applied
    again here (it may have been withdrawn since dispatch) and every read is logged."""
    product = order.skill.product
    memory = {}
    for code in order.skill.memory_scopes:
        scope = memory_selectors.memory_scope_get(code=code)
        items = memory_services.memory_read(
            user=order.user,
            product=product,
            scope=scope,
            grant=order.grant,
            purpose=f"fulfilling dispatch {order.pk}",
        )
        memory[code] = {item.key: item.value for item in items}
    return memory


@transaction.atomic
def order_fulfilment_failed(*, order_id, code: str, message: str) -> DispatchOrder:
    """The provider will not do it: mark why, then give the money back."""
    order = _locked(order_id)
    if order.status not in {Status.AUTHORIZED, Status.FULFILLING} or order.failure_code:
        return order
    order.failure_code, order.failure_message = code[:64], message[:300]
    order.save(update_fields=["failure_code", "failure_message", "updated_at"])
    _after_commit(_tasks().compensate, order)
    return order


# ---------------------------------------------------------------------------
# Step 3: capture
# ---------------------------------------------------------------------------


def order_capture(*, order_id) -> DispatchOrder:
    order, go_on = _begin(
        order_id,
        waiting=Status.FULFILLED,
        working=Status.CAPTURING,
        reason="the provider confirmed",
    )
    if not go_on:
        return order
    payment = payment_lifecycle.payment_capture(payment_id=order.payment_id)
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != Status.CAPTURING:
            return order
        if payment.status == Payment.Status.CAPTURED:
            _move(order, Status.COMPLETED, actor=WORKER, reason="payment captured")
            _after_commit(_tasks().issue_receipt, order)
        else:
            order.failure_code = payment.failure_code or "capture_failed"
            order.failure_message = "The rail refused the capture."
            order.save(update_fields=["failure_code", "failure_message", "updated_at"])
            _after_commit(_tasks().compensate, order)
    return order


@transaction.atomic
def order_capture_failed(*, order_id, message: str) -> DispatchOrder:
    order = _locked(order_id)
    if order.status == Status.CAPTURING and not order.failure_code:
        order.failure_code, order.failure_message = "capture_failed", message[:300]
        order.save(update_fields=["failure_code", "failure_message", "updated_at"])
        _after_commit(_tasks().compensate, order)
    return order


# ---------------------------------------------------------------------------
# Compensation: void what was authorized, refund what was captured
# ---------------------------------------------------------------------------


COMPENSABLE = frozenset(
    {Status.AUTHORIZING, Status.AUTHORIZED, Status.FULFILLING, Status.CAPTURING}
)


def order_compensate(*, order_id) -> DispatchOrder:
    """Undo the payment of an order that failed for good, then record the failure."""
    order = DispatchOrder.objects.select_related("payment").get(pk=order_id)
    if order.status not in COMPENSABLE or not order.failure_code:
        return order
    payment = order.payment
    if payment.status == Payment.Status.PENDING:
        # Ask the rail what became of the authorization (never a second charge).
        payment = payment_lifecycle.payment_reconcile(payment_id=payment.pk)
    # A rerun of compensation finds the refund it asked for on its way: not asked twice.
    refund_waiting = payment_selectors.payment_refund_waiting(payment_id=payment.pk)
    if payment.status == Payment.Status.CAPTURED and not refund_waiting:
        payment_refunds.refund_create(payment_id=payment.pk, reason=f"dispatch {order.pk} failed")
    elif payment.status in {Payment.Status.AUTHORIZED, Payment.Status.REQUIRES_ACTION}:
        payment_lifecycle.payment_void(payment_id=payment.pk)
    _require_released(payment.pk)
    with transaction.atomic():
        order = _locked(order_id)
        if order.status not in COMPENSABLE:
            return order
        voided = order.status in {Status.AUTHORIZED, Status.FULFILLING}
        to = Status.VOIDED if voided else Status.FAILED
        _fail(order, to, code=order.failure_code, message=order.failure_message)
    return order


def _require_released(payment_id) -> None:
    """The rail must have let the money go (or a refund is on its way) before the order
    says so; otherwise the task retries."""
    payment = payment_selectors.payment_get(payment_id=payment_id)
    if not payment_selectors.payment_released(payment):
        raise ConflictError(
            f"The rail has not released payment {payment.pk} ({payment.status}) yet.",
            code="compensation_incomplete",
        )


def _fail(order: DispatchOrder, to: str, *, code: str, message: str) -> None:
    order.failure_code, order.failure_message = code[:64], message[:300]
    _move(order, to, actor=WORKER, reason=message or code, data={"failure_code": code})
    _release_reservations(order)
    _after_commit(_tasks().issue_receipt, order)


def _release_reservations(order: DispatchOrder) -> None:
    """No money moved for the user: give back this month's dispatch and the spend. In the
    order they were taken (usage row, then grant row), so a new dispatch taking them at
    the same time cannot deadlock with this."""
    identity_services.release_entitlement(
        user=order.user, feature=Feature.DISPATCHES, consumed_at=order.created_at
    )
    if order.grant is not None:
        identity_services.agent_grant_release_spend(
            grant=order.grant, reference=f"dispatch:{order.pk}"
        )


# ---------------------------------------------------------------------------
# Step 4: the receipt
# ---------------------------------------------------------------------------


@transaction.atomic
def order_issue_receipt(*, order_id) -> DispatchOrder:
    order = _locked(order_id)
    if order.status not in FINISHED or order.receipt_id:
        return order
    quote, payment = order.quote, order.payment
    order.receipt = trust_services.issue_receipt(
        user=order.user,
        source=_receipt_source(order),
        amount_local=quote.local_amount,
        amount_settled=quote.settlement_amount,
        fx_rate=quote.rate,
        rail=quote.rail.code,
        payment_ref=str(payment.pk) if payment else "",
        resolution=RESOLUTIONS[order.status],
        agent_grant_id=order.grant_id,
        agent=order.grant.client_id if order.grant else None,
    )
    order.save(update_fields=["receipt", "updated_at"])
    _queue_callback(order)
    if order.status in FOLLOWS_REFUNDS:
        _record_refunds(order)  # any made before there was a receipt to amend
    return order


def _receipt_source(order: DispatchOrder) -> dict:
    """The chain a buyer, seller or insurer checks: what was asked, who did it, what it
    was quoted at (the signed quote's hash), and what the rail and provider confirmed."""
    payment = order.payment
    return {
        "dispatch": str(order.pk),
        "product": order.skill.product.code,
        "skill": {"capability": order.skill.capability, "version": order.skill_version},
        "provider": {"name": order.provider.name, "city": order.provider.city},
        "quote_sha256": _sha256(order.quote.jws),
        "rail_confirmation": {
            "id": payment.confirmation_id,
            "verified": payment.confirmation_verified,
        }
        if payment and payment.confirmation_id
        else None,
        "provider_confirmation": order.confirmation,
        "failure": order.failure_code or None,
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------
# Agent callbacks: a signed status event per move
# ---------------------------------------------------------------------------


def _queue_callback(order: DispatchOrder) -> None:
    if not order.callback_url:
        return
    delivery = CallbackDelivery.objects.create(
        order=order,
        event={
            "type": "dispatch.status",
            "dispatch": str(order.pk),
            "status": order.status,
            "receipt": str(order.receipt_id) if order.receipt_id else None,
            "at": timezone.now().isoformat(),
        },
    )
    enqueue_on_commit(_tasks().deliver_callback, str(delivery.pk))


# ---------------------------------------------------------------------------
# After completion: refunds and disputes; the order follows what payments and trust say
# ---------------------------------------------------------------------------

# Where a refund of the order's payment is recorded on the order; a disputed order waits
# for its dispute's outcome (which records the refund it makes), then catches up.
FOLLOWS_REFUNDS = frozenset(
    {Status.COMPLETED, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.RESOLVED_UPHELD}
)


@transaction.atomic
def order_follow_refunds(*, order_id) -> DispatchOrder:
    """Record each refund of the order's payment, whichever path made it (the Payments
    admin, a dispute), as the receipt amendment trust issues once per refund, and move the
    order to say how much went back."""
    order = _locked(order_id)
    if order.status in FOLLOWS_REFUNDS and order.receipt_id:  # else issuing it will
        _record_refunds(order)
    return order


def _record_refunds(order: DispatchOrder) -> None:
    for refund in payment_selectors.payment_refunds_made(payment_id=order.payment_id):
        amendment, issued = trust_services.receipt_record_refund(
            receipt=order.receipt, refund=refund
        )
        to = Status.REFUNDED if refund.in_full else Status.PARTIALLY_REFUNDED
        if issued and MOVES.allows(order.status, to):
            amount = refund.amount
            _move(
                order,
                to,
                actor="payments",
                reason=f"refunded {amount.amount} {amount.currency}",
                data={"refund": refund.refund_id, "receipt": str(amendment.pk)},
            )


@transaction.atomic
def order_follow_dispute(*, receipt_id, dispute_id, status: str) -> DispatchOrder | None:
    """Move an order whose receipt is disputed (completed or partly refunded, or already in
    a dispute). A dispute going under review, one about a receipt no order issued, or one
    about an order that never took the money (failed, voided, rejected: trust handles it
    alone) changes nothing here."""
    order_id = (
        DispatchOrder.objects.filter(receipt_id=receipt_id).values_list("pk", flat=True).first()
    )
    if order_id is None:
        return None
    order = _locked(order_id)
    to = _after_dispute(order, status) if order.status in DISPUTABLE else None
    if to is not None and to != order.status:
        said = Dispute.Status(status).label.lower()
        _move(order, to, actor="trust", reason=f"dispute {said}", data={"dispute": str(dispute_id)})
        _record_refunds(order)  # any made while it was disputed
    return order


def _after_dispute(order: DispatchOrder, status: str) -> str | None:
    if status == Dispute.Status.OPEN:
        return Status.DISPUTED
    if status == Dispute.Status.RESOLVED_UPHELD:
        return Status.RESOLVED_UPHELD
    if status == Dispute.Status.RESOLVED_REFUNDED:
        refunded = order.payment.status == Payment.Status.REFUNDED
        return Status.REFUNDED if refunded else Status.PARTIALLY_REFUNDED
    if status == Dispute.Status.WITHDRAWN and order.status == Status.DISPUTED:
        return order.transitions.filter(to_status=Status.DISPUTED).last().from_status
    return None


# ---------------------------------------------------------------------------
# Recovery: orders stuck past a deadline, and the operator's "retry step"
# ---------------------------------------------------------------------------

# Waiting this long after dispatch for the payer (an STK prompt, a bank page) or for a
# provider means the answer is not coming: the order is failed and the money released.
GIVE_UP_AFTER = dt.timedelta(minutes=30)


@transaction.atomic
def order_resume(*, order_id, actor: str, request=None) -> str:
    """Enqueue the step the order is waiting on; returns that step's task name. An
    operator's retry (with the admin's request) is recorded in the audit log."""
    order = _locked(order_id)
    step = _step_for(order)
    DispatchTransition.objects.create(
        order=order,
        from_status=order.status,
        to_status=order.status,
        actor=actor,
        reason=f"resumed: {step.name}",
    )
    order.save(update_fields=["updated_at"])  # resumed: not "stuck" again for a while
    audit.record_if_operator(
        request=request,
        action="dispatch.order_retry",
        obj=order,
        changes={"step": (None, step.name)},
    )
    step.delay_on_commit(str(order.pk))
    return step.name


def _step_for(order: DispatchOrder):
    tasks = _tasks()
    if order.status in AT_REST:
        raise ConflictError("A disputed order is in the operators' hands.", code="order_at_rest")
    if order.status in FINISHED:
        return tasks.issue_receipt
    if order.failure_code:
        return tasks.compensate
    waiting = order.status in {Status.AUTHORIZING, Status.FULFILLING}
    if waiting and order.created_at < timezone.now() - GIVE_UP_AFTER:
        return tasks.give_up
    return {
        Status.PENDING: tasks.authorize_payment,
        Status.AUTHORIZING: tasks.authorize_payment,
        Status.AUTHORIZED: tasks.fulfil,
        Status.FULFILLING: tasks.fulfil,
        Status.FULFILLED: tasks.capture,
        Status.CAPTURING: tasks.capture,
    }[order.status]


@transaction.atomic
def order_give_up(*, order_id) -> DispatchOrder:
    order = _locked(order_id)
    if order.status not in {Status.AUTHORIZING, Status.FULFILLING} or order.failure_code:
        return order
    waited_for = "payer" if order.status == Status.AUTHORIZING else "provider"
    order.failure_code = f"{waited_for}_timeout"
    order.failure_message = f"No answer from the {waited_for} within {GIVE_UP_AFTER}."
    order.save(update_fields=["failure_code", "failure_message", "updated_at"])
    _after_commit(_tasks().compensate, order)
    return order
