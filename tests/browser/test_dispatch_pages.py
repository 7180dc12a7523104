"""A person sees what their agent booked, follows it step by step, and takes the signed
receipt away to check it themselves."""

import pytest
from playwright.sync_api import expect

from apps.trust.verify import verify_bundle
from tests.browser.helpers import sign_in
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
    href = page.get_by_role("link", name="Download the signed receipt").get_attribute("href")
    bundle = page.request.get(href)
    assert bundle.ok
    assert verify_bundle(bundle.json())["resolution"] == "completed"


def test_the_agent_page_links_to_what_that_agent_dispatched(page, catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    Agent(user).dispatch(text=ANYTIME, details=LEAK)
    sign_in(page, user.email)

    page.get_by_role("link", name="Agents").click()
    page.get_by_role("link", name="Trip planner").first.click()
    page.get_by_role("link", name="What Trip planner dispatched for you").click()

    expect(page.get_by_role("row", name="Plumber visit")).to_be_visible()
    expect(page.get_by_role("link", name="show all")).to_be_visible()
