"""Request fields whose OpenAPI schema states exactly what the server accepts."""

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# A positive amount with at most two decimals, as a string: "30", "30.5", "30.00". No
# sign, exponent, spaces or JSON number: what a client reads in the schema is the rule.
AMOUNT_PATTERN = r"^(?=.*[1-9])[0-9]{1,10}(?:\.[0-9]{1,2})?$"


@extend_schema_field({"type": "string", "format": "decimal", "pattern": AMOUNT_PATTERN})
class AmountField(serializers.DecimalField):
    def __init__(self, **kwargs) -> None:
        super().__init__(max_digits=12, decimal_places=2, **kwargs)

    def to_internal_value(self, data):
        # re.search, as JSON Schema validators in Python read a pattern.
        if not isinstance(data, str) or not re.search(AMOUNT_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "object", "additionalProperties": {}},
            {"type": "array", "items": {}},
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
        ]
    }
)
class JSONValueField(serializers.JSONField):
    """Any JSON value but null (the schema of a bare JSONField lets null through)."""
