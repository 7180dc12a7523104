"""The user's pages: agent grants (token shown once) and the plan with its usage."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.identity import services
from apps.identity.models import AgentGrant, Feature, Plan, Subscription
from tests.factories import make_grant

pytestmark = pytest.mark.django_db

GRANT_FORM = {
    "name": "Home helper",
    "client_id": "helper-1",
    "scopes": ["dispatch:create", "receipts:read"],
    "memory_scopes": "memory:read:home",
    "allowed_capabilities": "home.plumbing home.electrics",
    "per_action_limit": "40.00",
    "daily_limit": "90.00",
    "expires_in_days": "7",
}


def test_creating_a_grant_shows_the_token_once(user_client, user):
    response = user_client.post(reverse("identity:agents"), GRANT_FORM)

    grant = AgentGrant.objects.get(user=user)
    token = response.context["token"]
    assert token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert grant.scopes == ["dispatch:create", "memory:read:home", "receipts:read"]
    assert grant.allowed_capabilities == ["home.electrics", "home.plumbing"]
    assert str(grant.daily_limit.amount) == "90.00"

    listing = user_client.get(reverse("identity:agents")).content.decode()
    assert token not in listing
    assert f"gera_{grant.token_prefix}_" in listing


def test_bad_grant_form_shows_errors_and_creates_nothing(user_client):
    form = {**GRANT_FORM, "scopes": [], "memory_scopes": "memory:read:Bad Scope"}

    response = user_client.post(reverse("identity:agents"), form)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not AgentGrant.objects.exists()


def test_limit_errors_from_the_service_are_shown(user_client):
    form = {**GRANT_FORM, "per_action_limit": "100.00", "daily_limit": "10.00"}

    response = user_client.post(reverse("identity:agents"), form)

    assert "The grant is invalid" in response.content.decode()
    assert not AgentGrant.objects.exists()


def test_user_revokes_their_grant(user_client, user):
    grant, _ = make_grant(user)

    user_client.post(reverse("identity:agent-revoke", args=[grant.pk]))

    grant.refresh_from_db()
    assert grant.is_revoked


def test_a_grants_state_is_a_badge_on_the_list_and_its_page(user_client, user, monkeypatch):
    revoked, _ = make_grant(user, name="Old planner")
    services.agent_grant_revoke(grant=revoked, reason="not needed")
    make_grant(user, expires_at=timezone.now() + dt.timedelta(days=1))
    after_it_expires = timezone.now() + dt.timedelta(days=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: after_it_expires)

    listing = user_client.get(reverse("identity:agents")).content.decode()
    page = user_client.get(reverse("identity:agent-detail", args=[revoked.pk])).content.decode()

    assert '<span class="badge badge-danger">Revoked</span>' in listing
    assert '<span class="badge badge-warning">Expired</span>' in listing
    assert '<span class="badge badge-danger">Revoked</span>' in page


def test_another_users_grant_is_not_found_and_stays_active(user_client, other_user):
    grant, _ = make_grant(other_user)

    assert user_client.get(reverse("identity:agent-detail", args=[grant.pk])).status_code == 404
    assert user_client.post(reverse("identity:agent-revoke", args=[grant.pk])).status_code == 404
    grant.refresh_from_db()
    assert not grant.is_revoked


def test_plan_page_shows_plan_usage_and_the_upgrade(user_client, user):
    services.require_entitlement(user=user, feature=Feature.DISPATCHES, amount=4)

    page = user_client.get(reverse("identity:plan")).content.decode()

    assert "My plan: Free" in page
    assert "4 of 20" in page
    assert "Upgrade to Studio" in page
    assert "£29.00" in page
    assert "Billing is off on this GeraOS" in page  # no STRIPE_SECRET_KEY in tests


def test_with_billing_on_the_plan_page_offers_the_upgrade_button(user_client, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_recorded"

    page = user_client.get(reverse("identity:plan")).content.decode()

    assert '<button type="submit">Upgrade to Studio</button>' in page
    assert "Billing is off" not in page


def test_a_past_due_subscription_is_a_warning_badge_on_the_plan_page(user_client, user):
    services.subscription_apply(
        user=user,
        plan=Plan.objects.get(code="studio"),
        status=Subscription.Status.PAST_DUE,
        event_created=timezone.now(),
    )

    page = user_client.get(reverse("identity:plan")).content.decode()

    assert '<span class="badge badge-warning">Past due</span>' in page
