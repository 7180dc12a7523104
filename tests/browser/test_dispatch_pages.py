"""A person sees what their agent booked, follows it step by step, and takes the signed
receipt away to check it themselves."""

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from apps.catalog.models import Provider
from apps.dispatch.models import DispatchOrder
from apps.trust import services as trust_services
from apps.trust.models import Dispute
from apps.trust.verify import verify_bundle
from tests.browser.helpers import screenshot, sign_in, sign_in_as_operator
from tests.dispatch.conftest import ANYTIME, LEAK, Agent
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_user_sees_the_agents_dispatch_and_downloads_its_receipt(page, catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    agent = Agent(user)
    assert agent.dispatch(text=ANYTIME, details=LEAK).status_code == 202
    sign_in(page, user.email)

    page.get_by_role("link", name="Dispatches").click()
    row = page.get_by_role("row", name="Plumber visit")
    expect(row).to_contain_text("Lagos Plumber A, Lagos")
    expect(row).to_contain_text("Trip planner")
    expect(row.get_by_text("Completed")).to_be_visible()

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Plumber visit — Lagos Plumber A")).to_be_visible()
    expect(page.get_by_text("Completed: payment captured")).to_be_visible()
    screenshot(page, "dispatch-detail")
    href = page.get_by_role("link", name="Download the signed receipt").get_attribute("href")
    bundle = page.request.get(href)
    published = page.request.get("/.well-known/jwks.json")  # the keys a verifier pins
    assert bundle.ok
    assert verify_bundle(bundle.json(), published.json())["resolution"] == "completed"


def test_the_agent_page_links_to_what_that_agent_dispatched(page, catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    Agent(user).dispatch(text=ANYTIME, details=LEAK)
    sign_in(page, user.email)

    page.get_by_role("link", name="Agents").click()
    page.get_by_role("link", name="Trip planner").first.click()
    page.get_by_role("link", name="What Trip planner dispatched for you").click()

    expect(page.get_by_role("row", name="Plumber visit")).to_be_visible()
    expect(page.get_by_role("link", name="show all")).to_be_visible()


def colours(badge) -> tuple[str, str]:
    style = "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    return tuple(badge.evaluate(style))


def test_the_user_and_the_operator_see_each_status_in_the_same_words_and_colours(page, catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    agent = Agent(user, daily_limit=Money("500.00", "GBP"))
    refunded = DispatchOrder.objects.get(pk=agent.dispatch(key="k1", text=ANYTIME).json()["id"])
    dispute = trust_services.dispute_open(
        receipt=refunded.receipt, opened_by="buyer", reason="not_delivered", user=user
    )
    trust_services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)
    agent.dispatch(key="k2", text=ANYTIME)
    Provider.objects.update(sandbox_behaviour="decline")
    agent.dispatch(key="k3", text=ANYTIME)
    statuses = ["Completed", "Voided", "Refunded"]

    sign_in(page, user.email)
    page.get_by_role("link", name="Dispatches").click()
    on_the_users_page = {s: colours(page.locator(".badge", has_text=s)) for s in statuses}
    screenshot(page, "dispatches")
    page.get_by_role("button", name="Sign out").click()
    sign_in_as_operator(page, UserFactory(is_staff=True, is_superuser=True))
    page.set_viewport_size({"width": 1600, "height": 720})  # every column in the picture
    page.goto("/admin/dispatch/dispatchorder/")
    in_the_admin = {s: colours(page.locator(".badge", has_text=s)) for s in statuses}
    screenshot(page, "admin-orders")

    assert in_the_admin == on_the_users_page
    assert len(set(on_the_users_page.values())) == 3  # success, danger, neutral
