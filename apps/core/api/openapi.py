"""OpenAPI generation: every operation documents the shared error body as `default`."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class ErrorFieldSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(
        child=ErrorFieldSerializer(many=True), help_text="Per-field errors of a 400."
    )
    details = serializers.DictField(required=False, help_text="Structured context.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


# What DRF's CharField accepts, as patterns (read by Python's `re`, whose \s is the
# whitespace str.strip() trims): never NUL (PostgreSQL cannot store it), and, unless the
# field allows blank, something besides whitespace.
TEXT_PATTERN = r"^[^\x00]*$"
NOT_BLANK_TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False) -> dict:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and type(field) is serializers.CharField:
            blank_is_text = field.allow_blank or not field.trim_whitespace
            schema["pattern"] = TEXT_PATTERN if blank_is_text else NOT_BLANK_TEXT_PATTERN
        return schema

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        error_schema = self.resolve_serializer(ErrorSerializer, direction).ref
        responses.setdefault(
            "default",
            {
                "description": "Error (any 4xx/5xx), in the shared error format.",
                "content": {"application/json": {"schema": error_schema}},
            },
        )
        return responses
