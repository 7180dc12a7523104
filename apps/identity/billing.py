"""Studio billing with Stripe: Checkout to upgrade, the customer portal, and webhooks.

Webhooks are verified with Stripe's signature scheme (300 s tolerance), applied once per
event id, and never move a subscription back to an older state (see
services.subscription_apply). Amounts are Stripe's business only here: the plan price
is configured in Stripe as `Plan.stripe_price_id`.
"""

import datetime as dt
import json
import logging
from collections.abc import Callable
from http import HTTPStatus

import stripe
from django.conf import settings
from django.db import transaction

from apps.core.errors import ApplicationError
from apps.core.stripe_signature import reject_skewed_timestamp
from apps.identity import services
from apps.identity.errors import BillingUnavailable
from apps.identity.models import Plan, StripeEvent, Subscription, User

logger = logging.getLogger(__name__)

WEBHOOK_TOLERANCE_SECONDS = 300
# The SDK's transport; tests replace it with one that replays recorded Stripe responses.
STRIPE_HTTP_CLIENT: stripe.HTTPClient | None = None

STRIPE_STATUS = {
    "active": Subscription.Status.ACTIVE,
    "trialing": Subscription.Status.ACTIVE,
    "past_due": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.PAST_DUE,
    "incomplete": Subscription.Status.PAST_DUE,
    "canceled": Subscription.Status.CANCELED,
    "incomplete_expired": Subscription.Status.CANCELED,
}


class InvalidWebhook(ApplicationError):
    code = "invalid_signature"
    status = HTTPStatus.BAD_REQUEST


def stripe_client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise BillingUnavailable("Billing is not configured on this GeraOS (STRIPE_SECRET_KEY).")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, http_client=STRIPE_HTTP_CLIENT, max_network_retries=2
    )


def checkout_start(*, user: User, plan: Plan, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout Session for `plan`; returns the URL to send the user to."""
    client = stripe_client()
    if not plan.stripe_price_id:
        raise BillingUnavailable(f"{plan.name} has no Stripe price configured.")
    subscription = Subscription.objects.filter(user=user).first()
    metadata = {"user_id": str(user.pk), "plan": plan.code}
    params = {
        "mode": "subscription",
        "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
        "client_reference_id": str(user.pk),
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if subscription and subscription.stripe_customer_id:
        params["customer"] = subscription.stripe_customer_id
    else:
        params["customer_email"] = user.email
    try:
        session = client.v1.checkout.sessions.create(params)
    except stripe.StripeError as exc:
        raise BillingUnavailable(f"Stripe refused to start checkout: {exc.user_message}") from exc
    return session.url


def portal_url(*, user: User, return_url: str) -> str:
    subscription = Subscription.objects.filter(user=user).exclude(stripe_customer_id="").first()
    if subscription is None:
        raise BillingUnavailable("There is no Stripe billing account for you yet.")
    try:
        session = stripe_client().v1.billing_portal.sessions.create(
            {"customer": subscription.stripe_customer_id, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        raise BillingUnavailable(f"Stripe refused the portal: {exc.user_message}") from exc
    return session.url


# ---------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------


def webhook_receive(*, payload: bytes, signature: str) -> str:
    """Verify and apply one webhook delivery; returns processed, duplicate or ignored."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        # An empty secret would make any sender's signature "valid".
        raise BillingUnavailable("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET).")
    try:
        reject_skewed_timestamp(signature, tolerance=WEBHOOK_TOLERANCE_SECONDS)
        stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS
        )
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise InvalidWebhook(f"Webhook rejected: {exc}") from exc
    event = json.loads(payload)
    created = dt.datetime.fromtimestamp(event["created"], tz=dt.UTC)
    with transaction.atomic():
        _, is_new = StripeEvent.objects.get_or_create(
            event_id=event["id"], defaults={"type": event["type"], "created": created}
        )
        if not is_new:
            return "duplicate"
        handler = WEBHOOK_HANDLERS.get(event["type"])
        if handler is None:
            return "ignored"
        handler(event["data"]["object"], created)
    return "processed"


def _on_checkout_completed(session: dict, created: dt.datetime) -> None:
    user = _user_for(session.get("client_reference_id"), session.get("subscription"))
    plan = _plan_for(session.get("metadata", {}))
    if user is None or plan is None:
        logger.warning("checkout.session.completed for unknown user or plan: %s", session["id"])
        return
    services.subscription_apply(
        user=user,
        plan=plan,
        status=Subscription.Status.ACTIVE,
        event_created=created,
        stripe_customer_id=session.get("customer") or "",
        stripe_subscription_id=session.get("subscription") or "",
    )


def _on_subscription_changed(subscription: dict, created: dt.datetime) -> None:
    metadata = subscription.get("metadata", {})
    user = _user_for(metadata.get("user_id"), subscription["id"])
    plan = _plan_for(metadata) or _current_plan(user)
    if user is None or plan is None:
        logger.warning("subscription event for unknown user or plan: %s", subscription["id"])
        return
    services.subscription_apply(
        user=user,
        plan=plan,
        status=STRIPE_STATUS.get(subscription["status"], Subscription.Status.PAST_DUE),
        event_created=created,
        current_period_end=_period_end(subscription),
        stripe_customer_id=subscription.get("customer") or "",
        stripe_subscription_id=subscription["id"],
    )


def _on_payment_failed(invoice: dict, created: dt.datetime) -> None:
    subscription_id = invoice.get("subscription") or (
        (invoice.get("parent") or {}).get("subscription_details", {}).get("subscription")
    )
    user = _user_for(None, subscription_id)
    plan = _current_plan(user)
    if user is None or plan is None:
        logger.warning("invoice.payment_failed for unknown subscription: %s", invoice["id"])
        return
    services.subscription_apply(
        user=user, plan=plan, status=Subscription.Status.PAST_DUE, event_created=created
    )


WEBHOOK_HANDLERS: dict[str, Callable[[dict, dt.datetime], None]] = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_changed,
    "customer.subscription.updated": _on_subscription_changed,
    "customer.subscription.deleted": _on_subscription_changed,
    "invoice.payment_failed": _on_payment_failed,
}


def _user_for(user_id: str | None, stripe_subscription_id: str | None) -> User | None:
    if user_id and str(user_id).isdigit():
        user = User.objects.filter(pk=int(user_id)).first()
        if user:
            return user
    if stripe_subscription_id:
        subscription = Subscription.objects.filter(
            stripe_subscription_id=stripe_subscription_id
        ).first()
        return subscription.user if subscription else None
    return None


def _plan_for(metadata: dict) -> Plan | None:
    return Plan.objects.filter(code=metadata.get("plan", "")).first()


def _current_plan(user: User | None) -> Plan | None:
    subscription = Subscription.objects.filter(user=user).first() if user else None
    return subscription.plan if subscription else None


def _period_end(subscription: dict) -> dt.datetime | None:
    # Newer API versions carry the period on each subscription item.
    items = (subscription.get("items") or {}).get("data") or [{}]
    end = subscription.get("current_period_end") or items[0].get("current_period_end")
    return dt.datetime.fromtimestamp(end, tz=dt.UTC) if end else None
