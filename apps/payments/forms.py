from decimal import Decimal

from django import forms
from django.conf import settings
from django_countries import countries
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminSelectWidget

from apps.core.money import ISO_CURRENCY_CHOICES


class RailForm(forms.ModelForm):
    """The rail's admin form (the admin gives it the model and fields)."""

    def clean_sandbox(self) -> bool:
        sandbox = self.cleaned_data["sandbox"]
        if sandbox and not settings.GERAOS_SANDBOX_ALLOWED:
            raise forms.ValidationError(
                "Sandbox mode is not allowed in this deployment (GERAOS_SANDBOX_ALLOWED is "
                "off): a sandbox rail's simulators and published secret must not meet real "
                "money."
            )
        return sandbox


class RouteSimulationForm(forms.Form):
    """What an operator asks the routing simulator: where the payer is and how much."""

    country = forms.ChoiceField(choices=list(countries), widget=UnfoldAdminSelectWidget)
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_digits=15,
        decimal_places=3,  # the finest any currency has (BHD, KWD); finer is refused
        widget=UnfoldAdminDecimalFieldWidget,
    )
    currency = forms.ChoiceField(
        choices=ISO_CURRENCY_CHOICES,
        required=False,
        help_text="The home currency when left empty.",
        widget=UnfoldAdminSelectWidget,
    )

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"] or settings.GERAOS_HOME_CURRENCY
