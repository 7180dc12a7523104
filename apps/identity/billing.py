"""Studio billing with Stripe: Checkout to upgrade, the customer portal, and webhooks.

Webhooks are verified with Stripe's signature scheme (300 s tolerance), applied once per
event id, and never move a subscription back to an older state (services._is_stale).
Only Checkout completion makes a Stripe subscription a user's current one; events about
any other Stripe subscription are ignored. Amounts are Stripe's business only here: the
plan price is configured in Stripe as `Plan.stripe_price_id`.
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
from apps.identity import selectors, services
from apps.identity.errors import AlreadySubscribed, BillingUnavailable
from apps.identity.models import Plan, StripeEvent, Subscription, User

logger = logging.getLogger(__name__)

WEBHOOK_TOLERANCE_SECONDS = 300
# The SDK's transport; tests replace it with one that replays recorded Stripe responses.
STRIPE_HTTP_CLIENT: stripe.HTTPClient | None = None

# Past due keeps the plan while Stripe retries the payment; once Stripe gives up (unpaid)
# or the subscription is paused, the plan stops.
STRIPE_STATUS = {
    "active": Subscription.Status.ACTIVE,
    "trialing": Subscription.Status.ACTIVE,
    "past_due": Subscription.Status.PAST_DUE,
    "incomplete": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.UNPAID,
    "paused": Subscription.Status.PAUSED,
    "canceled": Subscription.Status.CANCELED,
    "incomplete_expired": Subscription.Status.CANCELED,
}


class InvalidWebhook(ApplicationError):
    code = "invalid_signature"
    status = HTTPStatus.BAD_REQUEST


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    if not is_configured():
        raise BillingUnavailable("Billing is not configured on this GeraOS (STRIPE_SECRET_KEY).")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, http_client=STRIPE_HTTP_CLIENT, max_network_retries=2
    )


def checkout_start(*, user: User, plan: Plan, success_url: str, cancel_url: str) -> str:
    """Open a Stripe Checkout Session for `plan`; returns the URL to send the user to.

    Refused while the user's subscription already gives them `plan`: paying a second
    Checkout would bill them twice for it.
    """
    if selectors.plan_for_user(user=user) == plan:
        raise AlreadySubscribed(f"You are already on {plan.name}.")
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
        return handler(event["data"]["object"], created)


def _on_checkout_completed(session: dict, created: dt.datetime) -> str:
    user = _user_for(session.get("client_reference_id"))
    plan = _plan_for(session.get("metadata", {}))
    if user is None or plan is None:
        logger.warning("checkout.session.completed for unknown user or plan: %s", session["id"])
        return "ignored"
    services.subscription_apply(
        user=user,
        plan=plan,
        status=Subscription.Status.ACTIVE,
        event_created=created,
        stripe_customer_id=session.get("customer") or "",
        stripe_subscription_id=session.get("subscription") or "",
    )
    return "processed"


def _on_subscription_changed(subscription: dict, created: dt.datetime) -> str:
    status = STRIPE_STATUS.get(subscription["status"])
    if status is None:
        logger.warning(
            "subscription %s has an unknown status: %s", subscription["id"], subscription["status"]
        )
        return "ignored"
    applied = services.subscription_apply_stripe_state(
        stripe_subscription_id=subscription["id"],
        plan=_plan_for(subscription.get("metadata", {})),
        status=status,
        event_created=created,
        current_period_end=_period_end(subscription),
    )
    return _outcome(applied, subscription["id"])


def _on_payment_failed(invoice: dict, created: dt.datetime) -> str:
    subscription_id = invoice.get("subscription") or (
        (invoice.get("parent") or {}).get("subscription_details", {}).get("subscription")
    )
    applied = services.subscription_mark_past_due(
        stripe_subscription_id=subscription_id or "", event_created=created
    )
    return _outcome(applied, subscription_id)


WEBHOOK_HANDLERS: dict[str, Callable[[dict, dt.datetime], str]] = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_changed,
    "customer.subscription.updated": _on_subscription_changed,
    "customer.subscription.deleted": _on_subscription_changed,
    "invoice.payment_failed": _on_payment_failed,
}


def _outcome(subscription: Subscription | None, stripe_subscription_id: str | None) -> str:
    if subscription is None:
        logger.info("event for %s, not any user's current subscription", stripe_subscription_id)
        return "ignored"
    return "processed"


def _user_for(user_id: str | None) -> User | None:
    if user_id and str(user_id).isdigit():
        return User.objects.filter(pk=int(user_id)).first()
    return None


def _plan_for(metadata: dict) -> Plan | None:
    return Plan.objects.filter(code=metadata.get("plan", "")).first()


def _period_end(subscription: dict) -> dt.datetime | None:
    # Newer API versions carry the period on each subscription item.
    items = (subscription.get("items") or {}).get("data") or [{}]
    end = subscription.get("current_period_end") or items[0].get("current_period_end")
    return dt.datetime.fromtimestamp(end, tz=dt.UTC) if end else None
