"""Studio billing: Checkout and portal through recorded Stripe responses; webhooks
verified with real signatures, applied once, and never regressing state."""

import time

import pytest
from django.urls import reverse

from apps.identity import billing, selectors
from apps.identity.models import Plan, StripeEvent, Subscription
from tests.identity.stripe_recordings import (
    WEBHOOK_SECRET,
    RecordedStripe,
    checkout_completed,
    event,
    invoice_failed,
    signed_webhook,
    subscription_object,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_configured(settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = "sk_test_recorded"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    Plan.objects.filter(code="studio").update(stripe_price_id="price_studio_monthly")
    recorded = RecordedStripe()
    monkeypatch.setattr(billing, "STRIPE_HTTP_CLIENT", recorded)
    return recorded


def deliver(client, payload: bytes, signature: str):
    return client.post(
        reverse("stripe-webhook"),
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def send(client, evt: dict):
    return deliver(client, *signed_webhook(evt))


def subscribe(client, user, *, created: int, subscription: str = "sub_Recorded1"):
    session = checkout_completed(user.pk, subscription=subscription)
    return send(
        client, event(f"evt_{subscription}", "checkout.session.completed", session, created=created)
    )


# --- checkout and portal ---------------------------------------------------------------


def test_upgrade_button_opens_stripe_checkout_for_studio(user_client, user, stripe_configured):
    response = user_client.post(reverse("identity:plan-upgrade"), {"plan": "studio"})

    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.com/")
    ((method, path, sent),) = stripe_configured.sent
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert sent["mode"] == ["subscription"]
    assert sent["line_items[0][price]"] == ["price_studio_monthly"]
    assert sent["client_reference_id"] == [str(user.pk)]
    assert sent["subscription_data[metadata][plan]"] == ["studio"]


def test_stripe_refusal_is_shown_and_changes_nothing(user_client, stripe_configured):
    stripe_configured.overrides["/v1/checkout/sessions"] = ("error_no_such_price.json", 400)

    response = user_client.post(reverse("identity:plan-upgrade"), {"plan": "studio"}, follow=True)

    assert "No such price" in response.content.decode()
    assert not Subscription.objects.exists()


def test_upgrade_without_billing_configured_says_so(user_client):
    response = user_client.post(reverse("identity:plan-upgrade"), {"plan": "studio"}, follow=True)

    assert "Billing is not configured" in response.content.decode()


def test_studio_subscriber_is_not_sent_to_a_second_checkout(
    user_client, user, client, stripe_configured
):
    subscribe(client, user, created=int(time.time()))

    response = user_client.post(reverse("identity:plan-upgrade"), {"plan": "studio"}, follow=True)

    assert "You are already on Studio" in response.content.decode()
    assert stripe_configured.sent == []


def test_nul_in_the_plan_code_is_refused_without_a_server_error(user_client, stripe_configured):
    user_client.raise_request_exception = False

    response = user_client.post(reverse("identity:plan-upgrade"), {"plan": "stu\x00dio"})

    assert response.status_code < 500
    assert stripe_configured.sent == []
    assert not Subscription.objects.exists()


def test_billing_portal_link_for_a_stripe_customer(user_client, user, stripe_configured, client):
    send(client, event("evt_checkout", "checkout.session.completed", checkout_completed(user.pk)))

    response = user_client.post(reverse("identity:plan-billing"))

    assert response["Location"].startswith("https://billing.stripe.com/")
    assert stripe_configured.sent[-1][2]["customer"] == ["cus_RecordedCustomer1"]


# --- webhooks ----------------------------------------------------------------------------


def test_checkout_completed_puts_the_user_on_studio(client, user, stripe_configured):
    response = send(
        client, event("evt_checkout", "checkout.session.completed", checkout_completed(user.pk))
    )

    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    assert selectors.plan_for_user(user=user).code == "studio"
    subscription = Subscription.objects.get(user=user)
    assert subscription.stripe_subscription_id == "sub_Recorded1"


def test_replayed_event_changes_nothing(client, user, stripe_configured):
    evt = event("evt_checkout", "checkout.session.completed", checkout_completed(user.pk))
    send(client, evt)
    Subscription.objects.update(status=Subscription.Status.CANCELED)

    response = send(client, evt)

    assert response.json()["outcome"] == "duplicate"
    assert Subscription.objects.get().status == Subscription.Status.CANCELED
    assert StripeEvent.objects.count() == 1


def test_bad_signature_is_refused_and_changes_nothing(client, user, stripe_configured):
    evt = event("evt_checkout", "checkout.session.completed", checkout_completed(user.pk))
    payload, _ = signed_webhook(evt)
    _, forged = signed_webhook(evt, secret="whsec_attacker")

    response = deliver(client, payload, forged)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not Subscription.objects.exists()
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize("skew", [-310, 310], ids=["too-old", "in-the-future"])
def test_signature_outside_tolerance_either_way_is_refused(client, user, stripe_configured, skew):
    evt = event("evt_old", "checkout.session.completed", checkout_completed(user.pk))

    response = deliver(client, *signed_webhook(evt, at=int(time.time()) + skew))

    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_webhooks_refused_when_no_secret_is_configured(client, user, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    client.raise_request_exception = False
    evt = event("evt_x", "checkout.session.completed", checkout_completed(user.pk))

    response = deliver(client, *signed_webhook(evt, secret=""))

    assert response.status_code == 503
    assert not Subscription.objects.exists()


def test_out_of_order_events_do_not_regress_state(client, user, stripe_configured):
    now = int(time.time())
    send(
        client,
        event("evt_1", "checkout.session.completed", checkout_completed(user.pk), created=now - 60),
    )
    send(
        client,
        event(
            "evt_3",
            "customer.subscription.deleted",
            subscription_object(user.pk, "canceled"),
            created=now,
        ),
    )
    # An older "active" update arrives last: it must not resurrect the subscription.
    late = event(
        "evt_2",
        "customer.subscription.updated",
        subscription_object(user.pk, "active"),
        created=now - 30,
    )

    assert send(client, late).json()["outcome"] == "processed"
    assert Subscription.objects.get().status == Subscription.Status.CANCELED
    assert selectors.plan_for_user(user=user).code == "free"


def test_events_about_a_replaced_subscription_are_ignored(client, user, stripe_configured):
    now = int(time.time())
    subscribe(client, user, created=now - 300, subscription="sub_Old")
    subscribe(client, user, created=now - 200, subscription="sub_New")
    old_deleted = subscription_object(user.pk, "canceled", subscription="sub_Old")
    old_failed = invoice_failed(subscription="sub_Old")

    responses = [
        send(client, event("evt_1", "customer.subscription.deleted", old_deleted, created=now)),
        send(client, event("evt_2", "invoice.payment_failed", old_failed, created=now)),
    ]

    assert [response.json()["outcome"] for response in responses] == ["ignored", "ignored"]
    assert StripeEvent.objects.filter(event_id__in=["evt_1", "evt_2"]).count() == 2
    subscription = Subscription.objects.get()
    assert subscription.stripe_subscription_id == "sub_New"
    assert subscription.status == Subscription.Status.ACTIVE
    assert selectors.plan_for_user(user=user).code == "studio"


def test_subscribing_again_after_the_old_subscription_ended_binds_the_new_one(
    client, user, stripe_configured
):
    now = int(time.time())
    subscribe(client, user, created=now - 400, subscription="sub_Old")
    old_deleted = subscription_object(user.pk, "canceled", subscription="sub_Old")
    send(
        client, event("evt_old_end", "customer.subscription.deleted", old_deleted, created=now - 50)
    )
    # The new Checkout (earlier than the old one's last event) is delivered after it.
    subscribe(client, user, created=now - 100, subscription="sub_New")
    new_active = subscription_object(user.pk, "active", subscription="sub_New")
    send(client, event("evt_new", "customer.subscription.updated", new_active, created=now))

    assert Subscription.objects.get().stripe_subscription_id == "sub_New"
    assert selectors.plan_for_user(user=user).code == "studio"


def test_payment_failure_marks_past_due_but_keeps_studio(client, user, stripe_configured):
    now = int(time.time())
    send(
        client,
        event("evt_1", "checkout.session.completed", checkout_completed(user.pk), created=now - 10),
    )

    send(client, event("evt_2", "invoice.payment_failed", invoice_failed(), created=now))

    assert Subscription.objects.get().status == Subscription.Status.PAST_DUE
    assert selectors.plan_for_user(user=user).code == "studio"


def test_payment_failure_reported_with_the_cancellation_does_not_revive_studio(
    client, user, stripe_configured
):
    now = int(time.time())
    subscribe(client, user, created=now - 10)
    deleted = subscription_object(user.pk, "canceled")
    send(client, event("evt_1", "customer.subscription.deleted", deleted, created=now))

    send(client, event("evt_2", "invoice.payment_failed", invoice_failed(), created=now))

    assert Subscription.objects.get().status == Subscription.Status.CANCELED
    assert selectors.plan_for_user(user=user).code == "free"


@pytest.mark.parametrize("stripe_status", ["unpaid", "paused"])
def test_unpaid_or_paused_subscription_no_longer_gives_studio(
    client, user, stripe_configured, stripe_status
):
    now = int(time.time())
    subscribe(client, user, created=now - 10)
    updated = subscription_object(user.pk, stripe_status)

    send(client, event("evt_1", "customer.subscription.updated", updated, created=now))

    assert Subscription.objects.get().status == stripe_status
    assert selectors.plan_for_user(user=user).code == "free"


def test_subscription_status_unknown_to_geraos_changes_nothing(client, user, stripe_configured):
    now = int(time.time())
    subscribe(client, user, created=now - 10)
    updated = subscription_object(user.pk, "some_future_status")

    response = send(client, event("evt_1", "customer.subscription.updated", updated, created=now))

    assert response.json()["outcome"] == "ignored"
    assert Subscription.objects.get().status == Subscription.Status.ACTIVE


def test_subscription_events_before_checkout_are_ignored(client, user, stripe_configured):
    updated = subscription_object(user.pk, "active")

    response = send(client, event("evt_1", "customer.subscription.updated", updated))

    assert response.json()["outcome"] == "ignored"
    assert selectors.plan_for_user(user=user).code == "free"


def test_subscription_update_records_the_period_end(client, user, stripe_configured):
    now = int(time.time())
    subscribe(client, user, created=now - 10)
    updated = subscription_object(user.pk, "active")

    send(client, event("evt_1", "customer.subscription.updated", updated, created=now))

    subscription = Subscription.objects.get()
    assert subscription.current_period_end.timestamp() == 1797000000


def test_unhandled_event_types_are_acknowledged(client, stripe_configured):
    response = send(client, event("evt_misc", "charge.refunded", {"id": "ch_1"}))

    assert response.json()["outcome"] == "ignored"
