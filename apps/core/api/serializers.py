from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import empty

from apps.core.money import money_document

# The JSON type the OpenAPI document gives each kind of field (decimals are strings, so an
# amount never passes through a float). DRF itself would read 0 as "0", "5" as 5 and
# "yes" as true; a body that needs such reading breaks the schema and is refused.
JSON_TYPES: list[tuple[type[serializers.Field], type, str]] = [
    (serializers.BooleanField, bool, "a boolean"),
    (serializers.IntegerField, int, "an integer"),
    (serializers.DecimalField, str, "a string (a decimal number)"),
    (serializers.CharField, str, "a string"),
    (serializers.ChoiceField, str, "a string"),
    (serializers.DateTimeField, str, "a string (a date and time)"),
    (serializers.UUIDField, str, "a string (a UUID)"),
]


class BodySerializer(serializers.Serializer):
    """A JSON request body, held to the JSON types its OpenAPI schema states (400
    `validation_error`, each such field `invalid_type`)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            wrong = {
                field.field_name: [serializers.ErrorDetail(f"Must be {what}.", "invalid_type")]
                for field in self._writable_fields
                if (what := _type_mismatch(field, data.get(field.field_name, empty)))
            }
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


def _type_mismatch(field: serializers.Field, value) -> str | None:
    if value is empty or value is None:
        return None  # missing or null: the field's own rules decide
    for kind, json_type, what in JSON_TYPES:
        if isinstance(field, kind):
            wrong_bool = isinstance(value, bool) and json_type is not bool
            return what if wrong_bool or not isinstance(value, json_type) else None
    return None


class QuerySerializer(serializers.Serializer):
    """A query string. `?status=` is a value, an empty one, refused where the field needs
    one: DRF on its own reads an empty value in a QueryDict as no value at all."""

    def __init__(self, instance=None, data=empty, **kwargs):
        if isinstance(data, QueryDict):
            data = data.dict()
        super().__init__(instance, data, **kwargs)


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
        raise serializers.ValidationError(
            "Text may not contain NUL (U+0000) characters.", code="nul_character"
        )


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
