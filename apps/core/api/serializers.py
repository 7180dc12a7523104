from rest_framework import serializers

from apps.core.money import round_to_minor_units


class MoneySerializer(serializers.Serializer):
    """A Money value as `{"amount": "8210.00", "currency": "KES"}`: a decimal string in
    the currency's minor-unit precision, never a float."""

    amount = serializers.SerializerMethodField()
    currency = serializers.CharField(source="currency.code")

    def get_amount(self, value) -> str:
        return str(round_to_minor_units(value.amount, str(value.currency)))
