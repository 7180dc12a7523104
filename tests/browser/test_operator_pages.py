"""An operator reads the money on the dashboard, works the disputes queue, and asks where
a payment would go before changing a rail."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.dispatch.models import DispatchOrder
from apps.payments import lifecycle
from apps.trust import services as trust_services
from tests.browser.helpers import screenshot, sign_in_as_operator
from tests.dispatch.conftest import ANYTIME, Agent
from tests.factories import UserFactory, make_payment, make_receipt

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_operator_simulates_a_route_with_the_form(page, catalog):
    sign_in_as_operator(page, UserFactory(is_staff=True, is_superuser=True))
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/admin/payments/routingrule/")

    expect(page.get_by_text("Sandbox: Idram, M-Pesa")).to_be_visible()
    page.get_by_role("link", name="Simulate routing").click()
    form = page.get_by_role("form", name="Simulate a route")
    form.get_by_label("Country").select_option("KE")
    form.get_by_label("Amount").fill("50")
    form.get_by_label("Currency").select_option("GBP")
    form.get_by_role("button", name="Simulate").click()

    route = page.get_by_role("region", name="Route")
    expect(route.get_by_role("heading", name="M-Pesa (sandbox)")).to_be_visible()
    expect(route).to_contain_text("Falls back to: Stripe card.")
    expect(page.get_by_role("table")).to_contain_text("Not reached: an earlier rule decided.")
    screenshot(page, "admin-routing-simulator")


def test_the_operator_goes_from_the_dashboard_to_the_disputes_queue(page, catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    payment = make_payment(user, amount="42.00")
    lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)
    for reason in ("not_delivered", "not_as_described"):
        trust_services.dispute_open(
            receipt=make_receipt(user), opened_by="buyer", reason=reason, user=user
        )
    sign_in_as_operator(page, UserFactory(is_staff=True, is_superuser=True))
    page.set_viewport_size({"width": 1400, "height": 900})

    page.goto("/admin/")
    money = page.get_by_role("region", name="Money (GBP)")
    expect(money).to_contain_text("£42.00")
    screenshot(page, "admin-dashboard")
    page.get_by_role("region", name="Disputes").get_by_role("link", name="Open now").click()

    expect(page.get_by_text("45000.00 NGN (22.50 GBP)").first).to_be_visible()
    expect(page.get_by_text("13 d 23 h left").first).to_be_visible()
    screenshot(page, "admin-disputes")


def test_the_operator_exports_the_filtered_payments_as_csv(page, catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    make_payment(user, amount="10.00")  # pending: the filter leaves it out
    captured = make_payment(user, amount="42.00")
    lifecycle.payment_authorize(payment_id=captured.pk)
    lifecycle.payment_capture(payment_id=captured.pk)
    sign_in_as_operator(page, UserFactory(is_staff=True, is_superuser=True))
    page.set_viewport_size({"width": 1400, "height": 900})

    page.goto("/admin/payments/payment/?status__exact=captured")
    page.get_by_role("link", name="Export").click()
    screenshot(page, "admin-export")
    with page.expect_download() as download:
        page.get_by_role("button", name="Submit").click()

    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("id,created_at,updated_at,status,rail,")
    assert [line.split(",")[0] for line in lines[1:]] == [str(captured.pk)]
    assert ",42.000,GBP," in lines[1]


def test_the_operator_resolves_a_disputed_order_as_refunded_from_the_dashboard(page, catalog):
    """Sign in with TOTP, find the disputed order from the dashboard card, refund it with a
    reason; the audit log has the refund and the decision, the receipt an amendment."""
    buyer = UserFactory(country="GB", preferred_currency="GBP")
    order = DispatchOrder.objects.get(pk=Agent(buyer).dispatch(text=ANYTIME).json()["id"])
    trust_services.dispute_open(
        receipt=order.receipt,
        opened_by="buyer",
        reason="not_delivered",
        user=buyer,
        evidence="Nobody came between 9 and 12.",
    )
    sign_in_as_operator(page, UserFactory(is_staff=True, is_superuser=True))
    page.set_viewport_size({"width": 1400, "height": 900})

    page.goto("/admin/")
    page.get_by_role("region", name="Disputes").get_by_role("link", name="Open now").click()
    page.get_by_role("link", name=f"#{order.receipt.log_index}").first.click()
    expect(page.get_by_text("Nobody came between 9 and 12.")).to_be_visible()
    expect(page.get_by_text(order.confirmation["reference"]).first).to_be_visible()
    page.get_by_role("link", name="Refund the buyer").click()
    page.get_by_label("Reason (kept in the audit log)").fill("The provider confirmed a no-show.")
    page.get_by_role("button", name="Go ahead").click()

    expect(page.get_by_text("refunded.", exact=False).first).to_be_visible()
    expect(page.get_by_text("42.00 GBP (refunded so far 42.00 GBP)")).to_be_visible()
    screenshot(page, "admin-dispute-resolved")
    page.goto("/admin/core/auditevent/")
    expect(page.get_by_role("row", name="payments.refund")).to_contain_text(
        "The provider confirmed a no-show."
    )
    expect(page.get_by_role("row", name="trust.dispute_resolve")).to_be_visible()
    screenshot(page, "admin-audit-log")
    order.refresh_from_db()
    assert order.status == DispatchOrder.Status.REFUNDED
