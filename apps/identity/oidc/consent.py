"""The consent page's form: what a client asks for, what the user's plan allows of it,
and, for an agent, the grant's limits and expiry.

A client asking for agent scopes (`dispatch:create`, `memory:read:<scope>`,
`capability:<skill>`, …) is an agent: approving makes an AgentGrant. A capability the
user's plan does not include (or that no product offers) is shown as not available and
cannot be ticked. An agent that asked for particular capabilities and is allowed none
may dispatch nothing: an empty list of allowed capabilities would mean "any".
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from allauth.idp.oidc.forms import AuthorizationForm
from django import forms
from django.utils import timezone
from djmoney.money import Money

from apps.identity import selectors
from apps.identity.capabilities import capabilities_named
from apps.identity.models import Feature, User
from apps.identity.scopes import (
    FIXED_SCOPES,
    SIGN_IN_SCOPES,
    capability_of,
    is_agent_scope,
    is_valid_scope,
)

# What a grant approved here allows at most; the user may lower each.
PER_ACTION_LIMIT = Decimal("50.00")
DAILY_LIMIT = Decimal("100.00")
EXPIRY_DAYS = [(1, "1 day"), (7, "7 days"), (30, "30 days"), (90, "90 days")]
DEFAULT_EXPIRY_DAYS = 30


@dataclass(frozen=True)
class AskedCapability:
    """A skill capability an agent asked for, as the consent page shows it."""

    scope: str
    title: str
    why_not: str = ""  # empty: the user may allow it

    @property
    def available(self) -> bool:
        return not self.why_not


def asked_capabilities(*, user: User, scopes: list[str]) -> list[AskedCapability]:
    codes = [code for scope in scopes if (code := capability_of(scope))]
    offered = capabilities_named(codes)
    plan = selectors.plan_for_user(user=user)
    asked = []
    for code in codes:
        capability = offered.get(code)
        if capability is None:
            asked.append(AskedCapability(f"capability:{code}", code, "No Gera product offers it."))
            continue
        why_not = ""
        feature = capability.required_feature
        if feature and not selectors.plan_entitlement(plan=plan, feature=feature):
            offering = selectors.plans_with_feature(feature=feature).first()
            needs = f", it needs {offering.name}" if offering else ""
            why_not = f"Not part of your {plan.name} plan{needs}."
        asked.append(AskedCapability(f"capability:{code}", capability.title, why_not))
    return asked


def _limit_field(maximum: Decimal, label: str) -> forms.DecimalField:
    currency = selectors.home_currency()
    return forms.DecimalField(
        label=f"{label} ({currency})",
        min_value=Decimal("0"),
        max_value=maximum,
        max_digits=12,
        decimal_places=2,
        initial=maximum,
        help_text=f"At most {maximum} {currency}; lower it if you like.",
    )


class ConsentForm(AuthorizationForm):
    """allauth's authorization form (the scopes to approve), with what an agent needs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.requested = [value for value, _ in self.fields["scopes"].choices]
        self.capabilities = asked_capabilities(user=kwargs["user"], scopes=self.requested)
        refused = {c.scope for c in self.capabilities if not c.available}
        titles = {c.scope: c.title for c in self.capabilities}
        allowed = [
            (scope, titles.get(scope, label))
            for scope, label in self.fields["scopes"].choices
            if scope not in refused
        ]
        self.fields["scopes"].choices = allowed
        self.fields["scopes"].initial = [value for value, _ in allowed]
        self.is_agent = any(is_agent_scope(scope) for scope in self.requested)
        if self.is_agent:
            self.fields["per_action_limit"] = _limit_field(PER_ACTION_LIMIT, "Per action")
            self.fields["daily_limit"] = _limit_field(DAILY_LIMIT, "Per day")
            self.fields["expires_in_days"] = forms.TypedChoiceField(
                label="The grant expires after",
                choices=EXPIRY_DAYS,
                coerce=int,
                initial=DEFAULT_EXPIRY_DAYS,
            )

    def clean(self) -> dict:
        data = super().clean()
        scopes = data.get("scopes")
        if scopes is None:
            return data
        data["scopes"] = self._granted(scopes)
        per_action, daily = data.get("per_action_limit"), data.get("daily_limit")
        if per_action is not None and daily is not None and per_action > daily:
            self.add_error("per_action_limit", "It cannot be more than the limit per day.")
        return data

    def _granted(self, scopes: list[str]) -> list[str]:
        asked_for_skills = any(capability_of(scope) for scope in self.requested)
        allowed_skills = [scope for scope in scopes if capability_of(scope)]
        if asked_for_skills and not allowed_skills:
            scopes = [scope for scope in scopes if scope != "dispatch:create"]
        if not any(is_valid_scope(scope) for scope in scopes):
            scopes = [scope for scope in scopes if not capability_of(scope)]
        return scopes

    @property
    def makes_grant(self) -> bool:
        """Whether approving lets the agent act (rather than only sign in)."""
        return any(is_valid_scope(scope) for scope in self.cleaned_data["scopes"])

    def grant_kwargs(self) -> dict:
        data, currency = self.cleaned_data, selectors.home_currency()
        return {
            "scopes": [scope for scope in data["scopes"] if is_valid_scope(scope)],
            "allowed_capabilities": [
                code for scope in data["scopes"] if (code := capability_of(scope))
            ],
            "per_action_limit": Money(data["per_action_limit"], currency),
            "daily_limit": Money(data["daily_limit"], currency),
            "expires_at": timezone.now() + dt.timedelta(days=data["expires_in_days"]),
        }

    def scope_groups(self) -> list[tuple[str, list]]:
        """The scope checkboxes under the page's headings, in the order asked."""
        headings = [
            ("Your account", lambda scope: scope in SIGN_IN_SCOPES),
            ("What it may do", lambda scope: scope in FIXED_SCOPES),
            ("Which skills it may use", lambda scope: capability_of(scope) is not None),
            ("Your memory", lambda scope: scope.startswith("memory:")),
        ]
        boxes = list(self["scopes"])
        groups = []
        for heading, belongs in headings:
            members = [box for box in boxes if belongs(box.data["value"])]
            if members or (heading.startswith("Which skills") and self.capabilities):
                groups.append((heading, members))
        return groups


def plan_feature_label(feature: str) -> str:
    return Feature(feature).label
