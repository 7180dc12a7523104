from decimal import Decimal

from djmoney.settings import CURRENCY_CHOICES
from rest_framework import serializers

from apps.core.api.serializers import MoneySerializer
from apps.payments.models import Quote


class QuoteRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)


class QuoteSerializer(serializers.ModelSerializer):
    rail = serializers.CharField(source="rail.code")
    requested = MoneySerializer()
    local_amount = MoneySerializer()
    settlement_amount = MoneySerializer()
    fees = MoneySerializer()
    rate = serializers.DecimalField(max_digits=24, decimal_places=10)

    class Meta:
        model = Quote
        fields = [
            "id",
            "rail",
            "routing_reason",
            "requested",
            "local_amount",
            "settlement_amount",
            "fees",
            "rate",
            "rate_at",
            "created_at",
            "expires_at",
            "jws",
        ]
