"""Notices: what rails tell us on their own (webhooks, callbacks), verified, applied once,
and kept for operators when they name nothing of ours."""

from dataclasses import asdict

from django.db import transaction
from django.db.models import Q

from apps.core.errors import ApplicationError, ConflictError, NotFoundError
from apps.payments.adapters import adapter_for
from apps.payments.adapters.base import UNCONFIRMED, WebhookIgnored, WebhookNotice, WebhookRejected
from apps.payments.lifecycle import (
    UNANSWERED,
    payment_apply_result,
    payment_ask_rail_on_commit,
    serialize_on_reference,
)
from apps.payments.models import Payment, ProviderEvent, Rail, Refund
from apps.payments.refunds import refund_apply_result


def webhook_receive(*, rail_code: str, body: bytes, headers: dict, payment_key: str = "") -> str:
    """Verify a rail's notification, apply it once; returns processed or duplicate.
    `payment_key`, from a callback URL given for one payment, names that payment too while
    it waits for the reference that the rail's lost answer carried."""
    rail = Rail.objects.filter(code=rail_code).first()
    if rail is None:
        raise NotFoundError("Unknown rail.")
    try:
        adapter = adapter_for(rail.code, sandbox=rail.sandbox)
        notice = adapter.parse_webhook(body, headers)
        ours = _payments_of(rail, notice).exists() or _awaiting(rail, payment_key).exists()
        if _unconfirmed(notice) and ours:
            notice = adapter.confirm(notice)  # outside any transaction: it asks the rail
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
            return _apply_refund_notice(rail, notice, event)
        serialize_on_reference(notice.provider_reference)
        payment = _payments_of(rail, notice).first() or _adopting(rail, notice, payment_key)
        if payment is None:
            # Kept for when the payment's reference is stored (a callback can beat the
            # response that brings it) or for operators: an unconfirmed one names a
            # reference GeraOS did not issue, so the rail is not asked about it.
            event.pending_result = asdict(notice.result)
            event.save(update_fields=["pending_result"])
            return "held"
        if _unconfirmed(notice):  # its reference was stored in the meantime
            payment_ask_rail_on_commit(payment_id=payment.pk)
        else:
            payment_apply_result(payment_id=payment.pk, result=notice.result, cause="webhook")
    return "processed"


def _unconfirmed(notice: WebhookNotice) -> bool:
    return notice.result.status == UNCONFIRMED


def _payments_of(rail: Rail, notice: WebhookNotice):
    if _unconfirmed(notice):
        # The rail is asked about its own references only.
        return Payment.objects.filter(rail=rail, provider_reference=notice.provider_reference)
    # By reference: one Stripe account sends card and iDEAL events alike. But only within
    # the rail's own world: a sandbox rail may believe a published secret, so its news
    # never settles a live rail's payment.
    return Payment.objects.filter(
        provider_reference=notice.provider_reference, rail__sandbox=rail.sandbox
    )


def _awaiting(rail: Rail, payment_key: str):
    """The payment whose one request to the rail went out and whose answer, which carried
    the reference, was lost (M-Pesa's STK push)."""
    if not payment_key:
        return Payment.objects.none()
    return Payment.objects.filter(
        rail=rail,
        provider_idempotency_key=payment_key,
        provider_reference="",
        authorize_sent_at__isnull=False,
    ).filter(
        # Or failed for want of that answer: a late approval is still taken, then refunded.
        Q(status=Payment.Status.PENDING) | Q(status=Payment.Status.FAILED, failure_code=UNANSWERED)
    )


# How a request can be confirmed to have ended (not "still processing").
FINAL = {Payment.Status.AUTHORIZED, Payment.Status.CAPTURED, Payment.Status.FAILED}


def _adopting(rail: Rail, notice: WebhookNotice, payment_key: str) -> Payment | None:
    """The waiting payment takes the reference its callback brings only once the rail
    confirmed how that request ended (a forged id is 'still processing' or unknown to it)
    and no payment holds the reference already (checked by the caller's lookup)."""
    if _unconfirmed(notice) or notice.result.status not in FINAL:
        return None
    return _awaiting(rail, payment_key).first()


def _apply_refund_notice(rail: Rail, notice, event: ProviderEvent) -> str:
    refund = Refund.objects.filter(
        provider_reference=notice.provider_reference, payment__rail__sandbox=rail.sandbox
    ).first()
    if refund is not None:
        refund_apply_result(refund_id=refund.pk, result=notice.result)
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
