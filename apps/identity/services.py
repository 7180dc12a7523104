"""Identity writes: accounts, the entitlement policy, subscriptions, agent grants and
their spend limits. Every other app enforces plans and grants through these functions."""

import datetime as dt
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.idp.oidc.models import Client
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from djmoney.money import Money

from apps.core import audit
from apps.core.errors import ApplicationError
from apps.identity import oauth_tokens, selectors
from apps.identity.errors import (
    CapabilityNotGranted,
    EntitlementRequired,
    QuotaExceeded,
    SpendLimitExceeded,
)
from apps.identity.models import (
    AgentGrant,
    AgentSpend,
    EntitlementUsage,
    Feature,
    Plan,
    PlanEntitlement,
    Subscription,
    User,
)
from apps.identity.scopes import invalid_scopes
from apps.identity.tokens import IssuedToken, issue_token

# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------


@transaction.atomic
def user_create_verified(
    *, email: str, password: str, name: str = "", is_operator: bool = False, **profile
) -> User:
    """Create an account whose email is already verified (operators, demo and imports)."""
    create = User.objects.create_superuser if is_operator else User.objects.create_user
    user = create(email, password, name=name, **profile)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@transaction.atomic
def user_update_profile(*, user: User, name: str, country: str, preferred_currency: str) -> User:
    user.name = name
    user.country = country
    user.preferred_currency = preferred_currency
    user.full_clean(exclude=["password"])
    user.save(update_fields=["name", "country", "preferred_currency"])
    return user


# ---------------------------------------------------------------------------
# Entitlements: the one rule every API view, page and task goes through
# ---------------------------------------------------------------------------


def require_entitlement(*, user: User, feature: Feature, amount: int = 1) -> None:
    """Allow `amount` of `feature` for `user`, consuming it if the feature is a quota.

    Raises EntitlementRequired (naming a plan that has the feature) or QuotaExceeded.
    Consumption is one conditional UPDATE, so concurrent callers can never overrun the
    quota; inside a transaction that rolls back, nothing stays consumed.

    Active agent grants are not consumed: a grant stops counting when it expires, which no
    counter would notice, so the live grants are counted instead (see
    `_require_live_grant_capacity`).
    """
    plan = selectors.plan_for_user(user=user)
    entitlement = selectors.plan_entitlement(plan=plan, feature=feature)
    if entitlement is None:
        raise _entitlement_required(plan=plan, feature=feature)
    if feature == Feature.AGENT_GRANTS:
        _require_live_grant_capacity(user=user, plan=plan, entitlement=entitlement, amount=amount)
    elif selectors.feature_is_quota(feature):
        _consume_quota(user=user, plan=plan, entitlement=entitlement, amount=amount)


def _consume_quota(*, user: User, plan: Plan, entitlement: PlanEntitlement, amount: int) -> None:
    feature = entitlement.feature
    period = selectors.usage_period_start(feature=feature)
    with transaction.atomic():
        EntitlementUsage.objects.bulk_create(
            [EntitlementUsage(user=user, feature=feature, period_start=period)],
            ignore_conflicts=True,
        )
        usage = EntitlementUsage.objects.filter(user=user, feature=feature, period_start=period)
        if entitlement.quota is not None:
            usage = usage.filter(used__lte=entitlement.quota - amount)
        if not usage.update(used=F("used") + amount):
            raise _quota_exceeded(plan=plan, entitlement=entitlement)


@transaction.atomic
def _require_live_grant_capacity(
    *, user: User, plan: Plan, entitlement: PlanEntitlement, amount: int
) -> None:
    # The user's row stays locked until the caller's transaction (the one creating the
    # grant) ends, so two simultaneous issues cannot both take the last place.
    _lock_user(user)
    live = selectors.agent_grants_live(user=user).count()
    if entitlement.quota is not None and live + amount > entitlement.quota:
        raise _quota_exceeded(plan=plan, entitlement=entitlement)


def _lock_user(user: User) -> None:
    User.objects.select_for_update(of=("self",)).get(pk=user.pk)


def _quota_exceeded(*, plan: Plan, entitlement: PlanEntitlement) -> QuotaExceeded:
    return QuotaExceeded(
        f"{plan.name} includes {entitlement.quota} of "
        f"{Feature(entitlement.feature).label.lower()}; all are used.",
        extra={"feature": entitlement.feature, "plan": plan.code, "quota": entitlement.quota},
    )


def release_entitlement(
    *, user: User, feature: Feature, amount: int = 1, consumed_at: dt.datetime | None = None
) -> None:
    """Give back capacity (a deleted memory item) or a use that did not happen.

    It goes back to the period it was consumed in (`consumed_at`, default now): a dispatch
    consumed on 31 January that fails on 1 February gives back one of January's.
    """
    EntitlementUsage.objects.filter(
        user=user,
        feature=feature,
        period_start=selectors.usage_period_start(feature=feature, now=consumed_at),
        used__gte=amount,
    ).update(used=F("used") - amount)


def _entitlement_required(*, plan: Plan, feature: Feature) -> EntitlementRequired:
    offering = selectors.plans_with_feature(feature=feature).first()
    needed = offering.name if offering else "no current plan"
    return EntitlementRequired(
        f"{Feature(feature).label} is not part of {plan.name}; it needs {needed}.",
        extra={
            "feature": feature,
            "plan": plan.code,
            "required_plan": offering.code if offering else None,
        },
    )


# ---------------------------------------------------------------------------
# Subscriptions (changed by Stripe webhooks, see billing.py)
# ---------------------------------------------------------------------------


@transaction.atomic
def subscription_apply(
    *,
    user: User,
    plan: Plan,
    status: Subscription.Status,
    event_created: dt.datetime,
    current_period_end: dt.datetime | None = None,
    stripe_customer_id: str = "",
    stripe_subscription_id: str = "",
) -> Subscription:
    """Record the subscription state an event reports, unless a newer event already did.

    A completed Checkout comes through here: it is the one event that makes a Stripe
    subscription the user's current one. Later events about it go through
    `subscription_apply_stripe_state`.
    """
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        user=user, defaults={"plan": plan, "status": status}
    )
    if _is_stale(subscription, event_created) and not _replaces_an_ended_subscription(
        subscription, stripe_subscription_id
    ):
        return subscription
    subscription.stripe_customer_id = stripe_customer_id or subscription.stripe_customer_id
    subscription.stripe_subscription_id = (
        stripe_subscription_id or subscription.stripe_subscription_id
    )
    _record_state(
        subscription,
        plan=plan,
        status=status,
        event_created=event_created,
        current_period_end=current_period_end,
    )
    return subscription


@transaction.atomic
def subscription_apply_stripe_state(
    *,
    stripe_subscription_id: str,
    status: Subscription.Status,
    event_created: dt.datetime,
    plan: Plan | None = None,
    current_period_end: dt.datetime | None = None,
) -> Subscription | None:
    """Record what an event reports about the Stripe subscription a user is billed by.

    Returns None, changing nothing, for any other Stripe subscription (an older one the
    user replaced, or a duplicate): its end must not end the plan the current one pays for.
    """
    subscription = _lock_subscription_billed_as(stripe_subscription_id)
    if subscription is not None and not _is_stale(subscription, event_created):
        _record_state(
            subscription,
            plan=plan or subscription.plan,
            status=status,
            event_created=event_created,
            current_period_end=current_period_end,
        )
    return subscription


@transaction.atomic
def subscription_mark_past_due(
    *, stripe_subscription_id: str, event_created: dt.datetime
) -> Subscription | None:
    """A payment failed: an active subscription keeps its plan, past due, while Stripe
    retries. Any other state stands: a failure reported after the cancellation must not
    bring the plan back. None for a Stripe subscription that is not a user's current one."""
    subscription = _lock_subscription_billed_as(stripe_subscription_id)
    if (
        subscription is not None
        and subscription.status == Subscription.Status.ACTIVE
        and not _is_stale(subscription, event_created)
    ):
        _record_state(
            subscription,
            plan=subscription.plan,
            status=Subscription.Status.PAST_DUE,
            event_created=event_created,
        )
    return subscription


def _lock_subscription_billed_as(stripe_subscription_id: str) -> Subscription | None:
    if not stripe_subscription_id:
        return None
    return (
        Subscription.objects.select_for_update(of=("self",))
        .filter(stripe_subscription_id=stripe_subscription_id)
        .first()
    )


def _replaces_an_ended_subscription(subscription: Subscription, stripe_subscription_id: str):
    """A Checkout for a new Stripe subscription after the stored one stopped giving the
    plan: the user subscribed again. It binds, whatever the old one's latest event time
    (their timelines are unrelated). A Checkout while the stored one still pays is a late
    duplicate, and waits its turn like any other event."""
    return (
        bool(stripe_subscription_id)
        and stripe_subscription_id != subscription.stripe_subscription_id
        and subscription.status not in selectors.PLAN_GIVING_STATUSES
    )


def _is_stale(subscription: Subscription, event_created: dt.datetime) -> bool:
    # Stripe delivers events out of order; one older than the state recorded changes nothing.
    return subscription.stripe_state_at is not None and event_created < subscription.stripe_state_at


def _record_state(
    subscription: Subscription,
    *,
    plan: Plan,
    status: Subscription.Status,
    event_created: dt.datetime,
    current_period_end: dt.datetime | None = None,
) -> None:
    subscription.plan = plan
    subscription.status = status
    subscription.current_period_end = current_period_end or subscription.current_period_end
    subscription.stripe_state_at = event_created
    subscription.save()


# ---------------------------------------------------------------------------
# Agent grants
# ---------------------------------------------------------------------------


@transaction.atomic
def agent_grant_issue(
    *,
    user: User,
    name: str,
    client_id: str,
    scopes: list[str],
    per_action_limit: Money,
    daily_limit: Money,
    expires_at: dt.datetime,
    allowed_capabilities: list[str] | None = None,
    token: IssuedToken | None = None,
) -> tuple[AgentGrant, str]:
    """Issue a grant and its API token. The token is returned once and never stored.

    `token` is for a token chosen elsewhere (the demo's); normally a fresh one is made.
    """
    _validate_grant(scopes, per_action_limit, daily_limit, expires_at)
    require_entitlement(user=user, feature=Feature.AGENT_GRANTS)
    issued = token or issue_token()
    grant = AgentGrant.objects.create(
        user=user,
        name=name,
        client_id=client_id,
        scopes=sorted(set(scopes)),
        allowed_capabilities=sorted(set(allowed_capabilities or [])),
        per_action_limit=per_action_limit,
        daily_limit=daily_limit,
        expires_at=expires_at,
        token_prefix=issued.prefix,
        token_hash=issued.hash,
    )
    return grant, issued.token


@transaction.atomic
def agent_grant_approve_client(
    *,
    user: User,
    client: Client,
    scopes: list[str],
    allowed_capabilities: list[str],
    per_action_limit: Money,
    daily_limit: Money,
    expires_at: dt.datetime,
) -> AgentGrant:
    """The grant a user approves on an OAuth client's consent page. It acts through the
    OAuth tokens issued with it (oauth_tokens), not a gera_ token, and replaces the grant
    the user gave the same client before (whose tokens end with it)."""
    _validate_grant(scopes, per_action_limit, daily_limit, expires_at)
    for previous in AgentGrant.objects.filter(user=user, oauth_client=client, revoked_at=None):
        agent_grant_revoke(grant=previous, reason="replaced by a new approval")
    require_entitlement(user=user, feature=Feature.AGENT_GRANTS)
    return AgentGrant.objects.create(
        user=user,
        name=client.name,
        client_id=client.id,
        oauth_client=client,
        scopes=sorted(set(scopes)),
        allowed_capabilities=sorted(set(allowed_capabilities)),
        per_action_limit=per_action_limit,
        daily_limit=daily_limit,
        expires_at=expires_at,
    )


def _validate_grant(
    scopes: list[str], per_action_limit: Money, daily_limit: Money, expires_at: dt.datetime
) -> None:
    fields: dict[str, list[dict[str, str]]] = {}
    if not scopes or invalid_scopes(scopes):
        bad = ", ".join(invalid_scopes(scopes)) or "none given"
        fields["scopes"] = [{"code": "invalid", "message": f"Unknown scopes: {bad}."}]
    for field, limit in (("per_action_limit", per_action_limit), ("daily_limit", daily_limit)):
        if str(limit.currency) != selectors.home_currency() or limit.amount < 0:
            message = f"A non-negative amount in {selectors.home_currency()}."
            fields[field] = [{"code": "invalid", "message": message}]
    limits_valid = not {"per_action_limit", "daily_limit"} & fields.keys()
    if limits_valid and per_action_limit > daily_limit:
        message = "The per-action limit cannot exceed the daily limit."
        fields["per_action_limit"] = [{"code": "invalid", "message": message}]
    if expires_at <= timezone.now():
        fields["expires_at"] = [{"code": "invalid", "message": "Must be in the future."}]
    if fields:
        raise ApplicationError("The grant is invalid.", code="validation_error", fields=fields)


@transaction.atomic
def agent_grant_revoke(*, grant: AgentGrant, reason: str = "", request=None) -> AgentGrant:
    """Revoke at once: the next request with its token (or its OAuth tokens) is refused,
    and its refresh tokens refresh nothing. The reason is shown to the grant's owner."""
    grant = AgentGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.revoked_reason = reason[:200]
        grant.save(update_fields=["revoked_at", "revoked_reason", "updated_at"])
        if grant.oauth_client_id:
            oauth_tokens.tokens_end(grant=grant)
        audit.record_if_operator(
            request=request,
            action="identity.agent_grant_revoke",
            obj=grant,
            changes={"revoked_at": (None, grant.revoked_at)},
            reason=reason,
        )
    return grant


def agent_grant_require_capability(*, grant: AgentGrant, capability: str) -> None:
    """Refuse an action outside the capabilities the user allowed (none listed: any)."""
    if grant.allowed_capabilities and capability not in grant.allowed_capabilities:
        raise CapabilityNotGranted(
            f"{grant.name} may not do {capability}; the user allowed "
            f"{', '.join(grant.allowed_capabilities)}.",
            extra={"capability": capability, "allowed": grant.allowed_capabilities},
        )


@transaction.atomic
def agent_grant_reserve_spend(*, grant: AgentGrant, amount: Money, reference: str) -> AgentSpend:
    """Commit `amount` against the grant's limits before money moves, or refuse.

    The grant row is locked, so two simultaneous actions are checked one after the other
    against the same ledger. Reserving the same reference again returns the first spend.
    """
    grant = AgentGrant.objects.select_for_update().get(pk=grant.pk)
    existing = AgentSpend.objects.filter(grant=grant, reference=reference).first()
    if existing:
        return existing
    if amount.currency != grant.daily_limit.currency or amount.amount <= 0:
        raise SpendLimitExceeded(
            f"Spend must be a positive amount in {grant.daily_limit.currency}.",
            code="invalid_amount",
            status=400,
        )
    if amount > grant.per_action_limit:
        raise _over_limit("per-action", grant.per_action_limit, amount)
    spent_today = _spent_since(grant, timezone.now() - dt.timedelta(days=1))
    if spent_today + amount > grant.daily_limit:
        raise _over_limit("daily", grant.daily_limit, amount, spent=spent_today)
    return AgentSpend.objects.create(grant=grant, amount=amount, reference=reference)


@transaction.atomic
def agent_grant_release_spend(*, grant: AgentGrant, reference: str) -> None:
    """The action a spend was reserved for failed before money moved: stop counting it.
    Nothing reserved under `reference`: nothing changes and nothing is locked."""
    held = grant.spends.filter(reference=reference, released_at__isnull=True)
    if not held.exists():
        return
    AgentGrant.objects.select_for_update().get(pk=grant.pk)
    held.update(released_at=timezone.now())


def _spent_since(grant: AgentGrant, since: dt.datetime) -> Money:
    total = grant.spends.filter(created_at__gte=since, released_at__isnull=True).aggregate(
        total=Sum("amount")
    )["total"]
    return Money(total or Decimal("0"), grant.daily_limit.currency)


def _over_limit(kind: str, limit: Money, amount: Money, spent: Money | None = None):
    already = f" ({spent} already spent in the last 24 hours)" if spent is not None else ""
    return SpendLimitExceeded(
        f"{amount} exceeds the grant's {kind} limit of {limit}{already}.",
        extra={"limit": kind, "limit_amount": str(limit.amount), "currency": str(limit.currency)},
    )


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def agent_grant_touch(*, grant: AgentGrant) -> None:
    """Record use, at most once a minute per grant, so busy agents cost no write per call."""
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    AgentGrant.objects.filter(stale, pk=grant.pk).update(last_used_at=now)
