from rest_framework import serializers

from apps.core.money import money_document


class MoneySerializer(serializers.Serializer):
    """A Money value as `{"amount": "8210.00", "currency": "KES"}`: a decimal string in
    the currency's minor-unit precision, never a float."""

    amount = serializers.SerializerMethodField()
    currency = serializers.CharField(source="currency.code")

    def get_amount(self, value) -> str:
        return money_document(value)["amount"]


def without_nul_characters(value) -> None:
    """A validator for free-form JSON: PostgreSQL cannot store U+0000 in text or jsonb, so
    a string carrying one is refused here rather than failing at the database."""
    if _has_nul(value):
        raise serializers.ValidationError("Text may not contain NUL (U+0000) characters.")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
