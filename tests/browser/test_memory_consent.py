"""A person flips a consent toggle on /me/memory/ and the agent's next read obeys it."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.browser.helpers import sign_in
from tests.factories import UserFactory, make_grant, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def agent_reads_health(token: str) -> int:
    agent = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return agent.get("/api/v1/memory", {"product": "geraclinic", "scope": "health"}).status_code


def cell_of(page, button: str):
    return page.locator("td", has=page.get_by_role("button", name=button))


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_consent_toggle_opens_then_closes_the_agents_read(browser, live_server, javascript):
    product("gerahome")
    product("geraclinic")
    user = UserFactory()
    _, token = make_grant(user, scopes=["memory:read:health"])
    context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
    page = context.new_page()
    sign_in(page, user.email)
    assert agent_reads_health(token) == 403

    page.goto("/me/memory/")
    page.get_by_role("button", name="Let GeraClinic use Health").click()
    expect(page.get_by_role("button", name="Stop GeraClinic using Health")).to_be_visible()
    # With JavaScript the cell changes in place; without, the page reloads with a message.
    expect(page.get_by_text("GeraClinic — Health: On.")).to_have_count(0 if javascript else 1)
    switched_on = cell_of(page, "Stop GeraClinic using Health")
    expect(switched_on.locator(".badge-success")).to_have_text("On")
    assert agent_reads_health(token) == 200

    page.get_by_role("button", name="Stop GeraClinic using Health").click()
    expect(page.get_by_role("button", name="Let GeraClinic use Health")).to_be_visible()
    switched_off = cell_of(page, "Let GeraClinic use Health")
    expect(switched_off.locator(".badge-danger")).to_have_text("Off")
    assert agent_reads_health(token) == 403
    context.close()
