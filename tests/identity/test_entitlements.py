"""One entitlement rule: plans, quotas consumed atomically, refusals naming the plan."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from apps.identity import selectors, services
from apps.identity.errors import EntitlementRequired, QuotaExceeded
from apps.identity.models import EntitlementUsage, Feature, PlanEntitlement, Subscription
from tests.factories import UserFactory, put_on_plan
from tests.helpers import run_concurrently

pytestmark = pytest.mark.django_db


def used(user, feature) -> int:
    usage = EntitlementUsage.objects.filter(user=user, feature=feature).first()
    return usage.used if usage else 0


def test_accounts_without_subscription_are_on_free(user):
    assert selectors.plan_for_user(user=user).code == "free"


def test_free_user_asking_for_a_studio_feature_is_told_which_plan_has_it(user):
    with pytest.raises(EntitlementRequired) as refused:
        services.require_entitlement(user=user, feature=Feature.CROSS_PRODUCT_MEMORY)

    assert refused.value.code == "entitlement_required"
    assert refused.value.extra["required_plan"] == "studio"
    assert "Studio" in refused.value.message


def test_studio_user_has_studio_features(user):
    put_on_plan(user, "studio")

    services.require_entitlement(user=user, feature=Feature.CROSS_PRODUCT_MEMORY)

    plan, summary = selectors.entitlement_summary(user=user)
    by_feature = {entry.feature: entry for entry in summary}
    assert plan.code == "studio"
    assert by_feature["cross_product_memory"].included
    assert not EntitlementUsage.objects.filter(user=user).exists()  # a feature, not a quota


def test_quota_is_consumed_then_refused_without_consuming(user):
    services.require_entitlement(user=user, feature=Feature.DISPATCHES, amount=19)
    services.require_entitlement(user=user, feature=Feature.DISPATCHES)

    with pytest.raises(QuotaExceeded) as refused:
        services.require_entitlement(user=user, feature=Feature.DISPATCHES)

    assert refused.value.extra["quota"] == 20
    assert used(user, Feature.DISPATCHES) == 20


def test_released_capacity_can_be_used_again(user):
    services.require_entitlement(user=user, feature=Feature.MEMORY_ITEMS, amount=100)
    services.release_entitlement(user=user, feature=Feature.MEMORY_ITEMS)

    services.require_entitlement(user=user, feature=Feature.MEMORY_ITEMS)

    assert used(user, Feature.MEMORY_ITEMS) == 100


def test_a_use_is_given_back_to_the_month_it_was_consumed_in(user, monkeypatch):
    january = dt.datetime(2026, 1, 31, 23, 59, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: january)
    services.require_entitlement(user=user, feature=Feature.DISPATCHES)
    monkeypatch.setattr(timezone, "now", lambda: january + dt.timedelta(minutes=2))
    services.require_entitlement(user=user, feature=Feature.DISPATCHES)

    services.release_entitlement(user=user, feature=Feature.DISPATCHES, consumed_at=january)

    usage = EntitlementUsage.objects.filter(user=user, feature=Feature.DISPATCHES)
    assert dict(usage.values_list("period_start", "used")) == {
        dt.date(2026, 1, 1): 0,
        dt.date(2026, 2, 1): 1,
    }


def test_past_due_keeps_the_plan_and_canceled_falls_back_to_free(user):
    subscription = put_on_plan(user, "studio")
    Subscription.objects.filter(pk=subscription.pk).update(status=Subscription.Status.PAST_DUE)
    assert selectors.plan_for_user(user=user).code == "studio"

    Subscription.objects.filter(pk=subscription.pk).update(status=Subscription.Status.CANCELED)
    assert selectors.plan_for_user(user=user).code == "free"


def test_operator_changes_to_a_plan_apply_at_once(user):
    PlanEntitlement.objects.filter(plan__code="free", feature=Feature.DISPATCHES).update(quota=1)
    services.require_entitlement(user=user, feature=Feature.DISPATCHES)

    with pytest.raises(QuotaExceeded):
        services.require_entitlement(user=user, feature=Feature.DISPATCHES)


def test_summary_reports_usage_for_the_period(user):
    services.require_entitlement(user=user, feature=Feature.DISPATCHES, amount=3)

    plan, summary = selectors.entitlement_summary(user=user)

    by_feature = {entry.feature: entry for entry in summary}
    assert plan.code == "free"
    assert (by_feature["dispatches"].used, by_feature["dispatches"].remaining) == (3, 17)
    assert not by_feature["premium_skills"].included


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locking needs PostgreSQL")
def test_twenty_concurrent_requests_against_a_quota_of_ten_consume_exactly_ten():
    user = UserFactory()
    PlanEntitlement.objects.filter(plan__code="free", feature=Feature.DISPATCHES).update(quota=10)

    results = run_concurrently(
        lambda: services.require_entitlement(user=user, feature=Feature.DISPATCHES),
        20,
        refusals=(QuotaExceeded,),
    )

    outcomes = ["refused" if isinstance(r, QuotaExceeded) else "allowed" for r in results]
    assert outcomes.count("allowed") == 10
    assert outcomes.count("refused") == 10
    assert used(user, Feature.DISPATCHES) == 10
