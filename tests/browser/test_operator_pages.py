"""An operator asks the admin where a payment would go before changing a rail."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import screenshot, sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_operator_simulates_a_route_with_the_form(page, catalog):
    sign_in(page, UserFactory(is_staff=True, is_superuser=True).email)
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
