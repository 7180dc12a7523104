from django_countries import countries
from rest_framework import serializers

from apps.core.api.serializers import BodySerializer, MoneySerializer
from apps.core.money import ISO_CURRENCY_CHOICES
from apps.identity.models import AgentGrant, Plan, User


class UserSerializer(serializers.ModelSerializer):
    country = serializers.CharField(
        source="country.code", read_only=True, help_text="ISO 3166-1 alpha-2, or empty."
    )
    preferred_currency = serializers.CharField(
        read_only=True, help_text="ISO 4217 code, or empty for the country's currency."
    )

    class Meta:
        model = User
        fields = ["id", "email", "name", "country", "preferred_currency", "date_joined"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    price = MoneySerializer()

    class Meta:
        model = Plan
        fields = ["code", "name", "price"]


class EntitlementSerializer(serializers.Serializer):
    feature = serializers.CharField()
    label = serializers.CharField()
    included = serializers.BooleanField()
    quota = serializers.IntegerField(allow_null=True, help_text="Null: unlimited or on/off.")
    used = serializers.IntegerField(allow_null=True, help_text="This period; null if no quota.")
    remaining = serializers.IntegerField(allow_null=True)


class GrantSerializer(serializers.ModelSerializer):
    per_action_limit = MoneySerializer()
    daily_limit = MoneySerializer()

    class Meta:
        model = AgentGrant
        fields = [
            "id",
            "name",
            "client_id",
            "scopes",
            "allowed_capabilities",
            "per_action_limit",
            "daily_limit",
            "expires_at",
            "token_prefix",
        ]


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    plan = PlanSerializer()
    entitlements = EntitlementSerializer(many=True)
    grant = GrantSerializer(
        allow_null=True, help_text="The agent grant this request uses; null for a person."
    )


class ProfileUpdateSerializer(BodySerializer):
    name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    country = serializers.ChoiceField(choices=list(countries), allow_blank=True, required=False)
    preferred_currency = serializers.ChoiceField(
        choices=ISO_CURRENCY_CHOICES, allow_blank=True, required=False
    )
