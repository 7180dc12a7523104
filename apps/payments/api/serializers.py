from rest_framework import serializers

from apps.core.api.fields import AmountField
from apps.core.api.serializers import BodySerializer, MoneySerializer
from apps.core.money import ISO_CURRENCY_CHOICES
from apps.payments.models import Payment, Quote, Refund


class QuoteRequestSerializer(BodySerializer):
    amount = AmountField()
    currency = serializers.ChoiceField(choices=ISO_CURRENCY_CHOICES)


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


class RefundSerializer(serializers.ModelSerializer):
    amount = MoneySerializer()

    class Meta:
        model = Refund
        fields = ["id", "amount", "status", "created_at"]


class PaymentSerializer(serializers.ModelSerializer):
    rail = serializers.CharField(source="rail.code")
    quote = serializers.UUIDField(source="quote_id")
    local_amount = MoneySerializer()
    settled_amount = MoneySerializer()
    captured_amount = MoneySerializer()
    refunded_amount = MoneySerializer()
    rate = serializers.DecimalField(max_digits=24, decimal_places=10)
    refunds = RefundSerializer(many=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "reference",
            "rail",
            "quote",
            "status",
            "local_amount",
            "settled_amount",
            "rate",
            "captured_amount",
            "refunded_amount",
            "next_action",
            "confirmation_id",
            "confirmation_verified",
            "failure_code",
            "refunds",
            "created_at",
            "updated_at",
        ]


class PaymentCreateSerializer(BodySerializer):
    quote = serializers.UUIDField(help_text="An unexpired quote of the calling user's.")
    reference = serializers.CharField(max_length=200, help_text="What the payment is for.")
    payer_account = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        help_text="The phone (M-Pesa) or VPA (UPI) to charge; empty for card and redirect rails.",
    )
