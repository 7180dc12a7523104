from rest_framework import serializers

from apps.core.money import money_document


class MoneySerializer(serializers.Serializer):
    """A Money value as `{"amount": "8210.00", "currency": "KES"}`: a decimal string in
    the currency's minor-unit precision, never a float."""

    amount = serializers.SerializerMethodField()
    currency = serializers.CharField(source="currency.code")

    def get_amount(self, value) -> str:
        return money_document(value)["amount"]
