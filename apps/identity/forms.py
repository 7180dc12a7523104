import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone
from djmoney.money import Money

from apps.core.money import ISO_CURRENCY_CHOICES
from apps.identity import selectors
from apps.identity.models import User
from apps.identity.scopes import FIXED_SCOPES, invalid_scopes


def preferred_currency_field(**options) -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=[("", "My country's currency"), *ISO_CURRENCY_CHOICES],
        required=False,
        **options,
    )


class ProfileForm(forms.ModelForm):
    """Validates profile input; saving goes through `services.user_update_profile`."""

    preferred_currency = preferred_currency_field()

    class Meta:
        model = User
        fields = ["name", "country", "preferred_currency"]


class PlanChoiceForm(forms.Form):
    plan = forms.SlugField(max_length=32)


def _split(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


class AgentGrantForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="So you recognise it, e.g. “Trip planner”.")
    client_id = forms.CharField(max_length=100, label="Agent client id")
    scopes = forms.MultipleChoiceField(
        choices=list(FIXED_SCOPES.items()), widget=forms.CheckboxSelectMultiple, required=False
    )
    memory_scopes = forms.CharField(
        required=False,
        help_text="Space-separated, e.g. memory:read:preferences memory:write:home",
    )
    allowed_capabilities = forms.CharField(
        required=False, help_text="Space-separated skill codes, e.g. home.plumbing; empty: all."
    )
    per_action_limit = forms.DecimalField(
        min_value=Decimal("0"), max_digits=12, decimal_places=2, initial=Decimal("50.00")
    )
    daily_limit = forms.DecimalField(
        min_value=Decimal("0"), max_digits=12, decimal_places=2, initial=Decimal("100.00")
    )
    expires_in_days = forms.IntegerField(min_value=1, max_value=365, initial=30)

    def clean_memory_scopes(self) -> list[str]:
        scopes = _split(self.cleaned_data["memory_scopes"])
        bad = invalid_scopes(scopes)
        if bad or any(not scope.startswith("memory:") for scope in scopes):
            raise forms.ValidationError(f"Not memory scopes: {' '.join(bad or scopes)}")
        return scopes

    def clean_allowed_capabilities(self) -> list[str]:
        return _split(self.cleaned_data["allowed_capabilities"])

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("scopes") and not data.get("memory_scopes"):
            raise forms.ValidationError("Give the agent at least one scope.")
        return data

    def grant_kwargs(self) -> dict:
        data, currency = self.cleaned_data, selectors.home_currency()
        return {
            "name": data["name"],
            "client_id": data["client_id"],
            "scopes": data["scopes"] + data["memory_scopes"],
            "allowed_capabilities": data["allowed_capabilities"],
            "per_action_limit": Money(data["per_action_limit"], currency),
            "daily_limit": Money(data["daily_limit"], currency),
            "expires_at": timezone.now() + dt.timedelta(days=data["expires_in_days"]),
        }
