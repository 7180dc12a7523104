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


class AutoSchema(SpectacularAutoSchema):
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
