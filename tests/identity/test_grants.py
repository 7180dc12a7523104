"""Agent grants: tokens shown once, Bearer authentication, scopes, spend limits."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone
from djmoney.money import Money
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import HasScope
from apps.core.errors import ApplicationError
from apps.identity import selectors, services
from apps.identity.errors import QuotaExceeded, SpendLimitExceeded
from apps.identity.models import AgentGrant, AgentSpend, Feature
from apps.identity.tokens import hash_token
from tests.factories import UserFactory, make_grant
from tests.helpers import run_concurrently

pytestmark = pytest.mark.django_db


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def gbp(amount: str) -> Money:
    return Money(amount, "GBP")


# --- issuing and tokens ------------------------------------------------------------------


def test_only_a_hash_of_the_token_is_stored(user):
    grant, token = make_grant(user)

    stored = AgentGrant.objects.filter(pk=grant.pk).values().get()
    assert token not in str(stored)
    assert stored["token_hash"] == hash_token(token)
    assert token.startswith(f"gera_{grant.token_prefix}_")


def test_agent_sees_the_user_it_acts_for_and_its_grant(user):
    grant, token = make_grant(user)

    body = bearer(token).get("/api/v1/me").json()

    assert body["user"]["email"] == user.email
    assert body["grant"]["id"] == str(grant.pk)
    assert body["grant"]["scopes"] == ["dispatch:create", "dispatch:read"]
    assert body["grant"]["daily_limit"] == {"amount": "50.00", "currency": "GBP"}
    grant.refresh_from_db()
    assert grant.last_used_at is not None


def test_unknown_token_is_401_token_invalid():
    response = bearer("gera_00000000_" + "x" * 43).get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"
    assert response["WWW-Authenticate"] == 'Bearer realm="geraos"'


def test_expired_token_is_401_token_expired(user):
    grant, token = make_grant(user)
    AgentGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - dt.timedelta(1))

    response = bearer(token).get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_revocation_refuses_the_very_next_request(user):
    grant, token = make_grant(user)
    agent = bearer(token)
    assert agent.get("/api/v1/me").status_code == 200

    services.agent_grant_revoke(grant=grant, reason="lost laptop")

    response = agent.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"


def test_agent_cannot_change_the_profile_that_decides_payment(user):
    _, token = make_grant(user)

    response = bearer(token).patch("/api/v1/me", {"country": "KE"}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "person_required"
    user.refresh_from_db()
    assert user.country.code == "GB"


def test_invalid_grants_are_refused_with_field_errors(user):
    with pytest.raises(ApplicationError) as refused:
        make_grant(
            user,
            scopes=["root:everything"],
            per_action_limit=gbp("80.00"),
            daily_limit=Money("50.00", "EUR"),
            expires_at=timezone.now() - dt.timedelta(days=1),
        )

    assert set(refused.value.fields) == {"scopes", "daily_limit", "expires_at"}
    assert not AgentGrant.objects.exists()


def test_free_plan_caps_active_grants_and_revoking_frees_a_place(user):
    first, _ = make_grant(user)
    make_grant(user)
    with pytest.raises(QuotaExceeded):
        make_grant(user)

    services.agent_grant_revoke(grant=first)

    make_grant(user)
    assert AgentGrant.objects.filter(user=user, revoked_at__isnull=True).count() == 2


def grants_in_use(user) -> int:
    _, summary = selectors.entitlement_summary(user=user)
    return next(entry.used for entry in summary if entry.feature == Feature.AGENT_GRANTS)


def test_expired_grants_free_their_places(user):
    first, _ = make_grant(user)
    second, _ = make_grant(user)
    expired = timezone.now() - dt.timedelta(minutes=1)
    AgentGrant.objects.filter(pk__in=[first.pk, second.pk]).update(expires_at=expired)

    make_grant(user)

    assert grants_in_use(user) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locking needs PostgreSQL")
def test_an_issue_racing_for_the_last_place_is_refused(monkeypatch):
    user = UserFactory()
    make_grant(user)
    issue_token = services.issue_token
    racers: list[threading.Thread] = []
    outcomes: list[str] = []

    def racing_issue() -> None:
        try:
            make_grant(user)
            outcomes.append("issued")
        except QuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    def token_after_a_racing_issue():
        # This issue has found the last place free; another one now tries for it, and
        # waits for this one to commit (or, unlocked, takes the place first).
        monkeypatch.setattr(services, "issue_token", issue_token)
        racers.append(threading.Thread(target=racing_issue))
        racers[0].start()
        racers[0].join(timeout=1)
        return issue_token()

    monkeypatch.setattr(services, "issue_token", token_after_a_racing_issue)

    make_grant(user)
    racers[0].join()

    assert outcomes == ["refused"]
    assert grants_in_use(user) == 2


# --- scopes --------------------------------------------------------------------------------


class ReadsDispatches(APIView):
    permission_classes = [HasScope("dispatch:read")]

    def get(self, request):
        return Response({"ok": True})


class ReadsReceipts(APIView):
    permission_classes = [HasScope("receipts:read")]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/dispatch-probe", ReadsDispatches.as_view()),
    path("api/v1/receipts-probe", ReadsReceipts.as_view()),
]


@override_settings(ROOT_URLCONF=__name__)
def test_scope_in_grant_is_allowed_and_missing_scope_is_named(user):
    _, token = make_grant(user)
    agent = bearer(token)

    assert agent.get("/api/v1/dispatch-probe").status_code == 200
    response = agent.get("/api/v1/receipts-probe")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_required"
    assert response.json()["error"]["details"] == {"scope": "receipts:read"}


@override_settings(ROOT_URLCONF=__name__)
def test_signed_in_person_holds_every_scope(user_client):
    assert user_client.get("/api/v1/receipts-probe").status_code == 200


# --- spend limits ----------------------------------------------------------------------------


def test_spend_within_limits_is_recorded(user):
    grant, _ = make_grant(user)

    services.agent_grant_reserve_spend(grant=grant, amount=gbp("30.00"), reference="order-1")

    assert AgentSpend.objects.get().amount == gbp("30.00")


def test_over_per_action_limit_is_refused_and_nothing_consumed(user):
    grant, _ = make_grant(user, per_action_limit=gbp("20.00"))

    with pytest.raises(SpendLimitExceeded) as refused:
        services.agent_grant_reserve_spend(grant=grant, amount=gbp("20.01"), reference="o-1")

    assert refused.value.code == "spend_limit_exceeded"
    assert refused.value.extra["limit"] == "per-action"
    assert not AgentSpend.objects.exists()


def test_over_daily_limit_is_refused_and_nothing_consumed(user):
    grant, _ = make_grant(user)
    services.agent_grant_reserve_spend(grant=grant, amount=gbp("30.00"), reference="o-1")

    with pytest.raises(SpendLimitExceeded) as refused:
        services.agent_grant_reserve_spend(grant=grant, amount=gbp("30.00"), reference="o-2")

    assert refused.value.extra["limit"] == "daily"
    assert AgentSpend.objects.count() == 1


def test_spending_from_yesterday_no_longer_counts(user):
    grant, _ = make_grant(user)
    services.agent_grant_reserve_spend(grant=grant, amount=gbp("40.00"), reference="o-1")
    AgentSpend.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))

    today = services.agent_grant_reserve_spend(grant=grant, amount=gbp("40.00"), reference="o-2")

    assert (today.reference, today.amount) == ("o-2", gbp("40.00"))
    assert AgentSpend.objects.count() == 2


def test_same_reference_is_reserved_once(user):
    grant, _ = make_grant(user)

    first = services.agent_grant_reserve_spend(grant=grant, amount=gbp("30.00"), reference="o-1")
    again = services.agent_grant_reserve_spend(grant=grant, amount=gbp("30.00"), reference="o-1")

    assert first.pk == again.pk
    assert AgentSpend.objects.count() == 1


def test_spend_in_another_currency_is_refused(user):
    grant, _ = make_grant(user)

    with pytest.raises(SpendLimitExceeded) as refused:
        services.agent_grant_reserve_spend(
            grant=grant, amount=Money("10.00", "EUR"), reference="o-1"
        )

    assert refused.value.code == "invalid_amount"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locking needs PostgreSQL")
def test_two_simultaneous_thirty_pound_actions_under_fifty_one_passes():
    grant, _ = make_grant(UserFactory())

    def spend(reference: str):
        return services.agent_grant_reserve_spend(
            grant=grant, amount=gbp("30.00"), reference=reference
        )

    results = run_concurrently(spend, [("o-0",), ("o-1",)], refusals=(SpendLimitExceeded,))

    outcomes = ["refused" if isinstance(r, SpendLimitExceeded) else "passed" for r in results]
    assert sorted(outcomes) == ["passed", "refused"]
    assert AgentSpend.objects.count() == 1
