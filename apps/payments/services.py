"""Payments writes. Quotes first: the local amount the user sees and the home-currency
amount the business settles, tied together by one signature."""

import datetime as dt
import re
import uuid
from dataclasses import asdict, fields
from decimal import ROUND_CEILING, Decimal

from babel.numbers import get_territory_currencies
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from djmoney.contrib.exchange.exceptions import MissingRate
from djmoney.contrib.exchange.models import ExchangeBackend, get_rate
from djmoney.money import Money

from apps.core.errors import ApplicationError, ConflictError
from apps.core.money import money_document, round_to_minor_units
from apps.identity import services as identity_services
from apps.identity.models import AgentGrant
from apps.payments import fx, routing, selectors
from apps.payments.adapters import (
    ADAPTERS,
    RAIL_REFUSALS,
    ProviderResult,
    adapter_for,
)
from apps.payments.adapters import (  # re-exported for callers that retry rail calls
    RAIL_CALL_ERRORS as RAIL_CALL_ERRORS,
)
from apps.payments.adapters.base import WebhookIgnored, WebhookRejected
from apps.payments.errors import AmountOutOfRange, RateUnavailable, UnsupportedCurrency
from apps.payments.models import Payment, PaymentEvent, ProviderEvent, Quote, Rail, Refund
from apps.payments.signals import payment_status_changed
from apps.trust import services as trust_services

QUOTE_TYPE = "geraos-quote+jws"


def _rate(source: str, target: str) -> Decimal:
    try:
        return Decimal(get_rate(source, target, backend=fx.BACKEND_NAME))
    except MissingRate as exc:
        raise RateUnavailable(f"No exchange rate from {source} to {target}.") from exc


def local_currency_for(*, user, rail: Rail) -> str:
    """The currency the user sees: the rail's own, or for multi-currency rails the user's
    preference, else their country's, else the home currency. A currency we hold no
    exchange rate for is passed over."""
    if len(rail.currencies) == 1:
        return rail.currencies[0]
    country = user.country.code
    candidates = [user.preferred_currency]
    if country:
        candidates += get_territory_currencies(country, tender=True)
    for currency in filter(None, candidates):
        if (not rail.currencies or currency in rail.currencies) and _has_rate(currency):
            return currency
    return settings.GERAOS_HOME_CURRENCY


def _has_rate(currency: str) -> bool:
    try:
        _rate(settings.GERAOS_HOME_CURRENCY, currency)
    except RateUnavailable:
        return False
    return True


def quote_create(*, user, amount: Money) -> Quote:
    home = settings.GERAOS_HOME_CURRENCY
    requested = str(amount.currency)
    _require_minor_unit_precision(amount)
    try:
        to_home = _rate(requested, home)
    except RateUnavailable as exc:
        raise UnsupportedCurrency(f"Quotes in {requested} are not offered.") from exc
    home_amount = Money(round_to_minor_units(amount.amount * to_home, home), home)
    decision = routing.choose_rail(
        country=user.country.code, amount=home_amount, currency=requested
    )
    rail = decision.rail
    routing.check_rail_limits(rail, home_amount)
    local = local_currency_for(user=user, rail=rail)
    fees = _quote_fees(rail, home_amount)
    now = timezone.now()
    quote = Quote(
        user=user,
        rail=rail,
        requested=amount,
        local_amount=_local_amount(amount, local, whole_units=rail.whole_units),
        settlement_amount=home_amount - fees,
        fees=fees,
        rate=_rate(home, local),
        rate_at=ExchangeBackend.objects.get(name=fx.BACKEND_NAME).last_update,
        routing_reason=decision.reason,
        expires_at=now + dt.timedelta(seconds=settings.GERAOS_QUOTE_TTL_SECONDS),
    )
    quote.jws = trust_services.sign_document(payload=quote_document(quote), typ=QUOTE_TYPE)
    quote.save()
    return quote


def _require_minor_unit_precision(amount: Money) -> None:
    """The signed quote states the amount in the currency's minor units, so an amount
    finer than those would be priced as one amount and signed as another."""
    currency = str(amount.currency)
    if round_to_minor_units(amount.amount, currency) != amount.amount:
        message = f"{amount.amount} {currency} is finer than the currency's smallest unit."
        raise ApplicationError(
            message,
            code="amount_too_precise",
            status=400,
            fields={"amount": [{"code": "amount_too_precise", "message": message}]},
        )


def _local_amount(amount: Money, local: str, *, whole_units: bool) -> Money:
    """Priced from the amount asked for, not from its rounded home-currency value: in its
    own currency it is charged as asked."""
    value = round_to_minor_units(amount.amount * _rate(str(amount.currency), local), local)
    if whole_units:  # charged in whole units: round up, never charge less than quoted
        value = value.to_integral_value(rounding=ROUND_CEILING)
    return Money(value, local)


def _quote_fees(rail: Rail, home_amount: Money) -> Money:
    home = str(home_amount.currency)
    fee = home_amount.amount * Decimal(rail.fee_percent) / 100 + rail.fee_fixed.amount
    fees = Money(round_to_minor_units(fee, home), home)
    if fees >= home_amount:
        raise AmountOutOfRange(
            f"{rail.name}'s fees of {fees.amount} {home} leave nothing of {home_amount.amount}.",
            code="amount_below_minimum",
            extra={"rail": rail.code, "fees": str(fees.amount)},
        )
    return fees


def quote_document(quote: Quote) -> dict:
    """What the quote's signature covers."""
    return {
        "quote_id": str(quote.id),
        "subject": trust_services.user_pseudonym(quote.user_id),
        "rail": quote.rail.code,
        "requested": money_document(quote.requested),
        "local": money_document(quote.local_amount),
        "settlement": money_document(quote.settlement_amount),
        "fees": money_document(quote.fees),
        "rate": str(quote.rate),
        "rate_at": quote.rate_at.isoformat(),
        "expires_at": quote.expires_at.isoformat(),
    }


# ---------------------------------------------------------------------------
# Payments: the state machine. Provider calls never run inside a transaction: each
# step locks and checks, commits, calls the rail, then locks, re-checks and applies.
# ---------------------------------------------------------------------------

# A refund sent and unanswered this long was lost with the process that sent it.
REFUND_ANSWER_TIMEOUT = dt.timedelta(minutes=2)

# A rail without a refund API answers this: the refund is made by hand in its back office.
MANUAL_REFUND = "pending_manual"
# A refund the rail accepted but has not made yet; its webhook tells the outcome.
REFUND_PENDING = "pending"

TRANSITIONS = {
    Payment.Status.PENDING: {"requires_action", "authorized", "captured", "failed"},
    Payment.Status.REQUIRES_ACTION: {"authorized", "captured", "failed", "voided"},
    Payment.Status.AUTHORIZED: {"captured", "voided", "failed"},
    Payment.Status.CAPTURED: {"partially_refunded", "refunded"},
    Payment.Status.PARTIALLY_REFUNDED: {"partially_refunded", "refunded"},
    # A payer can still approve after we gave up (an STK prompt answered late, a bank page
    # finished after the void): the money has moved, so it is recorded, then given back.
    Payment.Status.VOIDED: {"captured"},
    Payment.Status.FAILED: {"captured"},
}
LATE_CAPTURE_FROM = frozenset({Payment.Status.VOIDED, Payment.Status.FAILED})


class IllegalTransition(ConflictError):
    code = "illegal_payment_transition"


def _locked(payment_id) -> Payment:
    return Payment.objects.select_for_update(of=("self",)).select_related("rail").get(pk=payment_id)


def _move(payment: Payment, to: str, *, cause: str, data: dict | None = None) -> None:
    if to != payment.status and to not in TRANSITIONS.get(payment.status, set()):
        raise IllegalTransition(f"A payment cannot go from {payment.status} to {to}.")
    PaymentEvent.objects.create(
        payment=payment, from_status=payment.status, to_status=to, cause=cause, data=data or {}
    )
    payment.status = to
    if to in {Payment.Status.FAILED, Payment.Status.VOIDED} and payment.grant_id:
        # No money moved: the agent's limits get the amount back.
        identity_services.agent_grant_release_spend(
            grant=payment.grant, reference=_spend_reference(payment)
        )
    transaction.on_commit(
        lambda: payment_status_changed.send(sender=Payment, payment_id=payment.pk, status=to)
    )


def _adapter(payment: Payment):
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
) -> Payment:
    """A payment for an unexpired quote of the user's, made by `grant`'s agent (or the user
    themselves); the same key returns the same one."""
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
        raise ApplicationError("No such quote.", code="not_found", status=404)
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
        payment = payment_create(grant=grant, **kwargs)
        if grant is not None:
            _reserve_agent_spend(payment, grant)
        if payment.status == Payment.Status.PENDING:
            transaction.on_commit(lambda: authorize_payment.delay(str(payment.pk)))
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
    if payment.status != Payment.Status.PENDING:
        return payment  # already done: safe to run twice
    result = _adapter(payment).authorize(payment, idempotency_key=payment.provider_idempotency_key)
    return payment_apply_result(payment_id=payment.pk, result=result, cause="authorize")


def payment_capture(*, payment_id) -> Payment:
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if payment.status == Payment.Status.CAPTURED:
        return payment
    if payment.status != Payment.Status.AUTHORIZED:
        raise IllegalTransition(f"Only an authorized payment can be captured ({payment.status}).")
    result = _adapter(payment).capture(
        payment, idempotency_key=f"{payment.provider_idempotency_key}-capture"
    )
    return payment_apply_result(payment_id=payment.pk, result=result, cause="capture")


def payment_void(*, payment_id) -> Payment:
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if payment.status == Payment.Status.VOIDED:
        return payment
    result = _adapter(payment).void(
        payment, idempotency_key=f"{payment.provider_idempotency_key}-void"
    )
    return payment_apply_result(payment_id=payment.pk, result=result, cause="void")


def payment_reconcile(*, payment_id) -> Payment:
    """Ask the rail what happened (after a timeout or a lost response) and record it."""
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if not payment.provider_reference:
        return payment_authorize(payment_id=payment_id)  # same key: no second charge
    result = _adapter(payment).status(payment)
    return payment_apply_result(payment_id=payment_id, result=result, cause="reconcile")


@transaction.atomic
def payment_apply_result(*, payment_id, result: ProviderResult, cause: str) -> Payment:
    """Record what the rail said. Older news never moves a payment backwards."""
    payment = _locked(payment_id)
    early_notices = []
    if result.provider_reference and not payment.provider_reference:
        payment.provider_reference = result.provider_reference
        _serialize_on_reference(payment.provider_reference)
        early_notices = list(_early_notices(payment))
    _apply(payment, result, cause)
    for notice in early_notices:
        _apply(payment, _held_result(notice.pending_result), "webhook")
        notice.pending_result = None
        notice.save(update_fields=["pending_result"])
    payment.save()
    return payment


def _refund_late_capture(payment: Payment) -> None:
    from apps.payments.tasks import refund_late_capture

    refund_late_capture.delay_on_commit(str(payment.pk))


def _serialize_on_reference(provider_reference: str) -> None:
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
    if target == Payment.Status.CAPTURED and mismatch:
        # The rail confirmed another amount than we asked for: never settle it.
        result = ProviderResult(
            status="failed",
            failure_code="amount_mismatch",
            provider_reference=result.provider_reference,
        )
        target = result.status
    if target != payment.status and target in TRANSITIONS.get(payment.status, set()):
        late = target == Payment.Status.CAPTURED and payment.status in LATE_CAPTURE_FROM
        _move(
            payment, target, cause=cause, data={"failure_code": result.failure_code, "late": late}
        )
        if target == Payment.Status.CAPTURED:
            payment.captured_amount = payment.local_amount
        if late:
            _refund_late_capture(payment)
    if payment.status != target:
        return  # stale or refused news: it must not clear what the current state shows
    payment.next_action = result.next_action if target == "requires_action" else None
    if result.confirmation_id:
        payment.confirmation_id = result.confirmation_id
        payment.confirmation_verified = result.confirmation_verified
    payment.failure_code = result.failure_code or payment.failure_code


# ---------------------------------------------------------------------------
# Refunds: the sum never exceeds what was captured, however many run at once. A refund
# is marked as sent before the rail is called and unmarked by the answer. One whose
# sending broke off (a network error, or a process that died mid-call) stays pending, its
# amount held: the next refund of the payment first sends it again with its own key, so
# the rail makes it once. A rail's definite refusal fails it and frees the amount.
# ---------------------------------------------------------------------------


def refund_create(*, payment_id, amount: Decimal | None = None, reason: str = "") -> Refund:
    """Refund part (`amount`, in the payment's local currency) or, by default, the rest of
    a captured payment. A retry after an error gets the refund it first asked for."""
    payment = Payment.objects.select_related("rail").get(pk=payment_id)
    if amount is not None:
        amount = _refund_amount(payment, amount)
    resent = _resend_interrupted_refunds(payment)
    earlier = _earlier_attempt(payment, resent, amount)
    if earlier is not None:
        return earlier
    refund = _refund_reserve(payment_id=payment.pk, amount=amount, reason=reason)
    return _refund_send(payment, refund)


def _refund_amount(payment: Payment, amount: Decimal) -> Decimal:
    """The amount asked for, in the currency's minor units; nothing is not a refund."""
    amount = round_to_minor_units(amount, str(payment.local_amount.currency))
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


def _refundable(payment: Payment) -> Decimal:
    """Captured, less every refund not failed (a pending one holds its amount)."""
    committed = sum(
        (r.amount.amount for r in payment.refunds.exclude(status=Refund.Status.FAILED)),
        Decimal(0),
    )
    return payment.captured_amount.amount - committed


@transaction.atomic
def _refund_reserve(*, payment_id, amount: Decimal | None, reason: str) -> Refund:
    payment = _locked(payment_id)
    if payment.status not in {Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED}:
        raise IllegalTransition(f"Only a captured payment can be refunded ({payment.status}).")
    left = _refundable(payment)
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise ApplicationError(
            f"At most {left} {payment.local_amount.currency} can still be refunded.",
            code="refund_exceeds_captured",
            status=422,
        )
    return Refund.objects.create(
        payment=payment,
        amount=Money(amount, payment.local_amount.currency),
        reason=reason,
        provider_idempotency_key=f"geraos-refund-{uuid.uuid4()}",
        send_started_at=timezone.now(),
    )


def _refund_send(payment: Payment, refund: Refund) -> Refund:
    """Ask the rail; `refund` is already marked as being sent (by reserve or claim)."""
    try:
        result = _adapter(payment).refund(
            payment, refund.amount.amount, idempotency_key=refund.provider_idempotency_key
        )
    except RAIL_REFUSALS as refusal:
        result = ProviderResult(status="failed", failure_code=getattr(refusal, "code", "") or "")
    except Exception:
        # No answer: the rail may have made it or not. Only the same key may ask again.
        _refund_mark_interrupted(refund_id=refund.pk)
        raise
    return _refund_apply(refund_id=refund.pk, result=result)


@transaction.atomic
def _refund_mark_interrupted(*, refund_id) -> None:
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status == Refund.Status.PENDING:
        refund.send_interrupted_at = timezone.now()
        refund.save(update_fields=["send_interrupted_at", "updated_at"])


@transaction.atomic
def _refund_apply(*, refund_id, result: ProviderResult) -> Refund:
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    payment = _locked(refund.payment_id)
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
    full = payment.refunded_amount.amount >= payment.captured_amount.amount
    _move(
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
    payment = _locked(refund.payment_id)
    refund.status = Refund.Status.SUCCEEDED
    refund.provider_reference = reference.strip()
    refund.reason = f"{refund.reason} (confirmed by {operator})".strip()
    refund.save()
    _record_refunded(payment, refund)
    return refund


def refund_for_receipt(*, receipt, reason: str) -> str:
    """Refund what is left of the payment a receipt records (registered with trust)."""
    payment = _payment_named_by(receipt)
    if payment is None:
        raise ApplicationError(
            "The receipt names no GeraOS payment.", code="payment_not_found", status=404
        )
    if payment.status == Payment.Status.REFUNDED:  # e.g. confirmed by hand earlier
        return (
            payment.refunds.filter(status=Refund.Status.SUCCEEDED)
            .latest("created_at")
            .provider_reference
        )
    if selectors.payment_refund_waiting(payment_id=payment.pk):
        raise _RefundNotConfirmed()
    refund = refund_create(payment_id=payment.pk, reason=reason)
    if refund.status == Refund.Status.PENDING:
        raise _RefundNotConfirmed()
    if refund.status != Refund.Status.SUCCEEDED:
        raise ApplicationError("The rail refused the refund.", code="refund_failed", status=502)
    return refund.provider_reference


def _payment_named_by(receipt) -> Payment | None:
    """Receipts carry other references too (none for a rejected order, demo ids)."""
    try:
        payment_id = uuid.UUID(str(receipt.payload.get("payment_ref")))
    except ValueError:
        return None
    return Payment.objects.filter(pk=payment_id).first()


# ---------------------------------------------------------------------------
# Webhooks and callbacks
# ---------------------------------------------------------------------------


def webhook_receive(*, rail_code: str, body: bytes, headers: dict) -> str:
    """Verify a rail's notification, apply it once; returns processed or duplicate."""
    rail = Rail.objects.filter(code=rail_code).first()
    if rail is None:
        raise ApplicationError("Unknown rail.", code="not_found", status=404)
    try:
        notice = adapter_for(rail.code, sandbox=rail.sandbox).parse_webhook(body, headers)
    except WebhookIgnored:
        return "ignored"
    except (WebhookRejected, LookupError) as exc:
        raise ApplicationError(f"Webhook rejected: {exc}", code="invalid_signature") from exc
    with transaction.atomic():
        event, is_new = ProviderEvent.objects.get_or_create(
            rail=rail.code,
            event_id=notice.event_id,
            defaults={"provider_reference": notice.provider_reference},
        )
        if not is_new:
            return "duplicate"
        if notice.about_refund:
            return _apply_refund_notice(notice, event)
        _serialize_on_reference(notice.provider_reference)
        # Matched by reference alone: one Stripe account sends card and iDEAL events alike.
        payment = Payment.objects.filter(provider_reference=notice.provider_reference).first()
        if payment is None:
            event.pending_result = asdict(notice.result)
            event.save(update_fields=["pending_result"])
            return "held"
        payment_apply_result(payment_id=payment.pk, result=notice.result, cause="webhook")
    return "processed"


def _apply_refund_notice(notice, event: ProviderEvent) -> str:
    refund = Refund.objects.filter(provider_reference=notice.provider_reference).first()
    if refund is not None:
        _refund_apply(refund_id=refund.pk, result=notice.result)
        return "processed"
    if _refund_awaiting_its_answer(notice.result.data.get("payment_reference", "")):
        # The rail wrote this before we stored its answer to our request: refused, so the
        # rail sends it again (rolled back, the event is not kept either).
        raise ConflictError(
            "That refund is not recorded yet; send the notice again.", code="refund_not_recorded"
        )
    # Made outside GeraOS (the rail's dashboard, say): kept where operators look.
    event.pending_result = asdict(notice.result)
    event.save(update_fields=["pending_result"])
    return "held"


def _refund_awaiting_its_answer(payment_reference: str) -> bool:
    return Refund.objects.filter(
        payment__provider_reference=payment_reference,
        status=Refund.Status.PENDING,
        provider_reference="",
    ).exists()


STUCK_AFTER = dt.timedelta(minutes=10)


def payments_needing_reconciliation():
    cutoff = timezone.now() - STUCK_AFTER
    return Payment.objects.filter(
        status__in=[Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION], updated_at__lt=cutoff
    ).values_list("pk", flat=True)
