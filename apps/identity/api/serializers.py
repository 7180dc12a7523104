from django_countries import countries
from djmoney.settings import CURRENCY_CHOICES
from rest_framework import serializers

from apps.identity.models import User


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


class ProfileUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    country = serializers.ChoiceField(choices=list(countries), allow_blank=True, required=False)
    preferred_currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES, allow_blank=True, required=False
    )
