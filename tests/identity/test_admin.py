import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.identity import services
from apps.identity.models import AgentGrant, Plan
from tests.factories import UserFactory, make_grant, put_on_plan
from tests.helpers import audit_trail

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["plan", "subscription", "agentgrant", "stripeevent", "user"])
def test_changelists_render(operator_client, user, model):
    put_on_plan(user, "studio")
    make_grant(user)
    url = f"/admin/identity/{model}/"

    response = operator_client.get(url)

    assert response.status_code == 200


def test_revoking_a_grant_asks_the_operators_reason_first_and_is_one_audit_event(
    operator_client, operator, user
):
    grant, _ = make_grant(user)
    chosen = {"action": "revoke", ACTION_CHECKBOX_NAME: [str(grant.pk)]}
    changelist = reverse("admin:identity_agentgrant_changelist")

    asked = operator_client.post(changelist, chosen).content.decode()
    unrevoked = AgentGrant.objects.get(pk=grant.pk)
    operator_client.post(changelist, {**chosen, "reason": "owner reported the laptop stolen"})

    assert 'name="reason"' in asked
    assert not unrevoked.is_revoked
    grant.refresh_from_db()
    assert grant.revoked_reason == "owner reported the laptop stolen"
    [(action, obj, changes, reason, actor)] = audit_trail()
    assert (action, obj, reason, actor) == (
        "identity.agent_grant_revoke",
        f"identity.agentgrant:{grant.pk}",
        "owner reported the laptop stolen",
        operator,
    )
    assert changes.keys() == {"revoked_at"}
    assert changes["revoked_at"][0] is None


def test_an_operator_cannot_widen_what_a_user_granted_their_agent(operator_client, user):
    grant, _ = make_grant(user, scopes=["dispatch:read"])
    change = reverse("admin:identity_agentgrant_change", args=[grant.pk])

    operator_client.post(
        change,
        {
            "name": grant.name,
            "client_id": grant.client_id,
            "scopes": '["dispatch:read", "dispatch:create"]',
            "allowed_capabilities": "[]",
            "per_action_limit_0": "5000",
            "per_action_limit_1": "GBP",
            "daily_limit_0": "5000",
            "daily_limit_1": "GBP",
            "expires_at_0": "2099-01-01",
            "expires_at_1": "00:00:00",
        },
    )

    after = AgentGrant.objects.get(pk=grant.pk)
    assert (after.scopes, after.per_action_limit) == (grant.scopes, grant.per_action_limit)
    assert after.expires_at == grant.expires_at


def test_a_user_revoking_their_own_grant_writes_no_operator_audit_event(user_client, user):
    grant, _ = make_grant(user)

    user_client.post(reverse("identity:agent-revoke", args=[grant.pk]))

    assert AgentGrant.objects.get(pk=grant.pk).is_revoked
    assert audit_trail() == []


def test_grants_and_subscriptions_show_their_state_as_badges(operator_client, user):
    put_on_plan(user, "studio")
    grant, _ = make_grant(user)
    services.agent_grant_revoke(grant=grant, reason="lost the laptop")
    make_grant(user, name="New planner")

    grants = operator_client.get(reverse("admin:identity_agentgrant_changelist")).content.decode()
    subscriptions = operator_client.get(
        reverse("admin:identity_subscription_changelist")
    ).content.decode()

    assert '<span class="badge badge-danger">Revoked</span>' in grants
    assert '<span class="badge badge-success">Active</span>' in grants
    assert '<span class="badge badge-success">Active</span>' in subscriptions


def test_user_page_shows_plan_and_grants(operator_client, user):
    put_on_plan(user, "studio")
    grant, _ = make_grant(user)

    page = operator_client.get(reverse("admin:identity_user_change", args=[user.pk]))

    content = page.content.decode()
    assert grant.token_prefix in content
    assert "Studio" in content


def test_plan_entitlements_are_editable_inline(operator_client):
    studio = Plan.objects.get(code="studio")

    page = operator_client.get(reverse("admin:identity_plan_change", args=[studio.pk]))

    assert "entitlements-TOTAL_FORMS" in page.content.decode()


def test_grant_changelist_queries_do_not_grow_with_rows(operator_client):
    url = reverse("admin:identity_agentgrant_changelist")
    make_grant(UserFactory())
    with CaptureQueriesContext(connection) as few:
        operator_client.get(url)
    for _ in range(5):
        make_grant(UserFactory())
    with CaptureQueriesContext(connection) as many:
        operator_client.get(url)

    assert len(many) == len(few)
    assert AgentGrant.objects.count() == 6


def test_mfa_authenticators_never_show_their_secret(operator_client, user):
    authenticator = Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXPSECRETVALUE"}
    )

    page = operator_client.get(
        reverse("admin:mfa_authenticator_change", args=[authenticator.pk])
    ).content.decode()

    assert user.email in page
    assert "JBSWY3DPEHPK3PXPSECRETVALUE" not in page


def test_a_grant_is_revoked_never_deleted_and_saving_its_page_unchanged_writes_nothing(
    operator_client, user
):
    grant, _ = make_grant(user)

    operator_client.post(
        reverse("admin:identity_agentgrant_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(grant.pk)], "post": "yes"},
    )
    operator_client.post(reverse("admin:identity_agentgrant_change", args=[grant.pk]), {})

    assert AgentGrant.objects.filter(pk=grant.pk).exists()
    assert audit_trail() == []
