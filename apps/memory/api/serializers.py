"""The memory API's fields. Product and scope codes are looked up after the slug
validators have run (in run_validation, not to_internal_value), so nothing that is not a
slug, a NUL byte included, ever reaches the database."""

from rest_framework import serializers

from apps.catalog.selectors import product_get_active
from apps.core.api.fields import JSONValueField
from apps.core.api.serializers import BodySerializer, QuerySerializer
from apps.memory.models import MemoryItem
from apps.memory.selectors import memory_scope_get


class ProductField(serializers.SlugField):
    def run_validation(self, data=serializers.empty):
        product = product_get_active(code=super().run_validation(data))
        if product is None:
            raise serializers.ValidationError("No active product with this code.", "unknown")
        return product


class ScopeField(serializers.SlugField):
    def run_validation(self, data=serializers.empty):
        scope = memory_scope_get(code=super().run_validation(data))
        if scope is None:
            raise serializers.ValidationError("No memory scope with this code.", "unknown")
        return scope


class MemoryQuerySerializer(QuerySerializer):
    product = ProductField(help_text="The product the agent acts for, e.g. gerahome.")
    scope = ScopeField(help_text="A memory scope code, e.g. preferences.")
    purpose = serializers.CharField(max_length=200, required=False)


class MemoryWriteSerializer(BodySerializer):
    product = ProductField(help_text="The product the agent acts for, e.g. gerahome.")
    scope = ScopeField(help_text="A memory scope code, e.g. preferences.")
    purpose = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=MemoryItem.Kind.choices)
    key = serializers.CharField(max_length=120)
    value = JSONValueField()
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class SummaryAppendSerializer(BodySerializer):
    product = ProductField()
    summary = serializers.CharField(max_length=4000)
    purpose = serializers.CharField(max_length=200, required=False)


class MemoryItemSerializer(serializers.ModelSerializer):
    scope = serializers.CharField(source="scope.code")
    key = serializers.CharField(max_length=120)
    written_by = serializers.CharField(source="product.code")
    value = serializers.JSONField()

    class Meta:
        model = MemoryItem
        fields = [
            "id",
            "scope",
            "kind",
            "key",
            "value",
            "written_by",
            "created_at",
            "updated_at",
            "expires_at",
        ]


class MemoryReadSerializer(serializers.Serializer):
    product = serializers.CharField()
    scope = serializers.CharField()
    items = MemoryItemSerializer(many=True)
