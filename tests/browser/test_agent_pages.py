"""A person lets an agent act for them, copies the token once, then revokes it."""

import pytest
from playwright.sync_api import expect

from apps.identity.models import AgentGrant
from tests.browser.helpers import sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_grant_an_agent_copy_its_token_and_revoke_it(page):
    user = UserFactory()
    sign_in(page, user.email)

    page.get_by_role("link", name="Agents").click()
    page.get_by_label("Name").fill("Trip planner")
    page.get_by_label("Agent client id").fill("planner-7")
    page.get_by_label("Dispatch actions (book, buy) for me").check()
    page.get_by_label("Daily limit").fill("80")
    page.get_by_role("button", name="Create grant and token").click()

    expect(page.get_by_role("heading", name="Trip planner can now act for you")).to_be_visible()
    token = page.get_by_label("API token").input_value()
    grant = AgentGrant.objects.get(user=user)
    assert token.startswith(f"gera_{grant.token_prefix}_")
    expect(page.get_by_role("button", name="Copy")).to_be_visible()

    page.get_by_role("link", name="See the grant").click()
    page.get_by_role("button", name="Revoke now").click()
    expect(page.get_by_text("Trip planner can no longer act for you.")).to_be_visible()
    expect(page.get_by_text("Revoked", exact=True)).to_be_visible()
    grant.refresh_from_db()
    assert grant.is_revoked
