"""Identity reads, for other apps and for views."""

import datetime as dt
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.dashboard import since
from apps.identity.models import (
    CAPACITY_FEATURES,
    MONTHLY_FEATURES,
    AgentGrant,
    EntitlementUsage,
    Feature,
    Plan,
    PlanEntitlement,
    Subscription,
    User,
)
from apps.identity.tokens import hash_token

# Capacity quotas (things held, not used up) are counted in one never-ending period.
CAPACITY_PERIOD = dt.date(2000, 1, 1)
PLAN_GIVING_STATUSES = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)


def home_currency() -> str:
    return settings.GERAOS_HOME_CURRENCY


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def user_email_verified(*, user: User) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def user_mfa_enabled(*, user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


# --- plans and entitlements -------------------------------------------------------------


def default_plan() -> Plan:
    return Plan.objects.get(is_default=True)


def plan_for_user(*, user: User) -> Plan:
    """The plan in force: a live subscription's (past-due keeps it while Stripe retries),
    otherwise the default plan."""
    subscription = (
        Subscription.objects.select_related("plan")
        .filter(user=user, status__in=PLAN_GIVING_STATUSES)
        .first()
    )
    return subscription.plan if subscription else default_plan()


def plan_entitlement(*, plan: Plan, feature: Feature) -> PlanEntitlement | None:
    return PlanEntitlement.objects.filter(plan=plan, feature=feature).first()


def has_feature(*, user: User, feature: Feature) -> bool:
    """Whether the user's plan includes `feature` (without consuming any quota)."""
    return plan_entitlement(plan=plan_for_user(user=user), feature=feature) is not None


def plan_features(*, user: User) -> tuple[Plan, list[str]]:
    """The plan in force and the features it includes (quota or not), as Sign in with
    Gera's claims carry them."""
    plan = plan_for_user(user=user)
    return plan, sorted(plan.entitlements.values_list("feature", flat=True))


def plans_with_feature(*, feature: Feature) -> QuerySet[Plan]:
    return Plan.objects.filter(entitlements__feature=feature).order_by("price")


def feature_is_quota(feature: Feature) -> bool:
    return feature in MONTHLY_FEATURES or feature in CAPACITY_FEATURES


def usage_period_start(*, feature: Feature, now: dt.datetime | None = None) -> dt.date:
    if feature in CAPACITY_FEATURES:
        return CAPACITY_PERIOD
    return (now or timezone.now()).astimezone(dt.UTC).date().replace(day=1)


@dataclass(frozen=True)
class EntitlementStatus:
    feature: str
    label: str
    included: bool
    quota: int | None
    used: int | None

    @property
    def remaining(self) -> int | None:
        if self.quota is None or self.used is None:
            return None
        return max(self.quota - self.used, 0)


def entitlement_summary(*, user: User) -> tuple[Plan, list[EntitlementStatus]]:
    """Every feature, whether the user's plan includes it, its quota and use so far."""
    plan = plan_for_user(user=user)
    included = {e.feature: e for e in plan.entitlements.all()}
    used = {
        (u.feature, u.period_start): u.used
        for u in EntitlementUsage.objects.filter(
            user=user,
            period_start__in=[CAPACITY_PERIOD, usage_period_start(feature=Feature.DISPATCHES)],
        )
    }
    # Grants are counted live, not with a counter (see services.require_entitlement).
    used[(Feature.AGENT_GRANTS, CAPACITY_PERIOD)] = agent_grants_live(user=user).count()
    summary = []
    for feature in Feature:
        entitlement = included.get(feature.value)
        is_quota = feature_is_quota(feature)
        summary.append(
            EntitlementStatus(
                feature=feature.value,
                label=feature.label,
                included=entitlement is not None,
                quota=entitlement.quota if entitlement else (0 if is_quota else None),
                used=used.get((feature.value, usage_period_start(feature=feature)), 0)
                if is_quota
                else None,
            )
        )
    return plan, summary


def subscription_for_user(*, user: User) -> Subscription | None:
    return Subscription.objects.select_related("plan").filter(user=user).first()


# --- agent grants -------------------------------------------------------------------------


def agent_grant_list(*, user: User) -> QuerySet[AgentGrant]:
    return AgentGrant.objects.filter(user=user)


def agent_grants_live(*, user: User) -> QuerySet[AgentGrant]:
    """The grants that can still act: neither revoked nor expired."""
    return AgentGrant.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def agent_grant_get(*, user: User, grant_id) -> AgentGrant | None:
    """A grant of this user's, or None: another user's grant is indistinguishable from
    one that does not exist."""
    return AgentGrant.objects.filter(user=user, pk=grant_id).first()


def agent_grant_by_token(*, token: str) -> AgentGrant | None:
    return AgentGrant.objects.select_related("user").filter(token_hash=hash_token(token)).first()


def agent_grant_of_oauth_token(*, user: User, grant_id: str) -> AgentGrant | None:
    """The grant an OAuth token names (oauth_tokens.GRANT_KEY), if it is `user`'s."""
    return (
        AgentGrant.objects.select_related("user")
        .filter(user=user, pk=grant_id, oauth_client__isnull=False)
        .first()
    )


def operator_kpis(period) -> list[dict]:
    """Headline numbers for the operator dashboard: accounts, those new in the period,
    subscribers and live agent grants."""
    now = timezone.now()
    return [
        {"title": "Accounts", "value": User.objects.count(), "link": "/admin/identity/user/"},
        {
            "title": f"New, {period.label}",
            "value": User.objects.filter(period.contains("date_joined")).count(),
            "link": f"/admin/identity/user/?{since(period, 'date_joined')}",
        },
        {
            "title": "Studio subscribers",
            "value": Subscription.objects.filter(
                status__in=PLAN_GIVING_STATUSES, plan__is_default=False
            ).count(),
        },
        {
            "title": "Active agent grants",
            "value": AgentGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=now).count(),
            "link": "/admin/identity/agentgrant/",
        },
    ]
