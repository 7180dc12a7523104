"""A person connects an agent on the consent page in a real browser: what it may do in
plain words, a Studio-only skill shown as not available on Free, a lower daily limit,
and back to the agent with a code its access token acts under."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from playwright.sync_api import expect

from apps.catalog.demo import seed as seed_catalog
from tests.browser.helpers import screenshot, sign_in
from tests.factories import UserFactory, studio_only_skill
from tests.identity.oidc_helpers import agent_client, authorize_url, pkce, redeem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCOPES = [
    "openid",
    "dispatch:create",
    "dispatch:read",
    "capability:home.plumbing",
    "capability:home.concierge",
    "memory:read:preferences",
]


def test_a_person_connects_an_agent_with_a_lower_daily_limit(page, live_server):
    seed_catalog()
    studio_only_skill()
    user = UserFactory()  # on Free
    planner = agent_client(scopes=SCOPES)
    verifier, challenge = pkce()
    port = urlsplit(live_server.url).port
    # Another origin than the page's: the browser must be let go there after the form.
    callback = f"http://127.0.0.1:{port}/callback"
    sign_in(page, user.email)

    page.goto(authorize_url(planner, scopes=SCOPES, challenge=challenge, redirect_uri=callback))
    expect(page.get_by_role("heading", name="Let Trip planner act for you?")).to_be_visible()
    expect(page.get_by_label("Dispatch actions (book, buy) for me")).to_be_checked()
    expect(page.get_by_label("Plumber visit")).to_be_checked()
    expect(page.get_by_text("Home concierge: not available.")).to_be_visible()
    expect(page.get_by_text("Not part of your Free plan, it needs Studio.")).to_be_visible()
    expect(page.get_by_label("Read what your memory keeps under “preferences”")).to_be_checked()
    page.get_by_label("Per day (GBP)").fill("50.00")
    screenshot(page, "agent-consent")
    # From the keyboard: right after a full-page screenshot chromium dropped a mouse click.
    page.get_by_role("button", name="Allow Trip planner").press("Enter")

    expect(page).to_have_url(re.compile(rf"^{re.escape(callback)}\?code="))
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    tokens = redeem(Client(), planner, code, verifier, redirect_uri=callback).json()
    me = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").get("/api/v1/me").json()
    assert me["grant"]["daily_limit"] == {"amount": "50.00", "currency": "GBP"}
    assert me["grant"]["allowed_capabilities"] == ["home.plumbing"]
