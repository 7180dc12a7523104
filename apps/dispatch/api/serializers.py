from rest_framework import serializers

from apps.catalog.models import Skill
from apps.core.api.serializers import MoneySerializer
from apps.dispatch.selectors import rails_for_skill
from apps.payments.api.serializers import QuoteSerializer


class SkillQuerySerializer(serializers.Serializer):
    capability = serializers.CharField(required=False, default="", max_length=80)
    country = serializers.CharField(required=False, default="", max_length=2)
    city = serializers.CharField(required=False, default="", max_length=80)


class SkillSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code")
    price_from = MoneySerializer()
    rails = serializers.SerializerMethodField(help_text="Country -> payment rail.")

    class Meta:
        model = Skill
        fields = [
            "id",
            "capability",
            "title",
            "description",
            "product",
            "price_from",
            "countries",
            "cities",
            "memory_scopes",
            "required_entitlement",
            "version",
            "examples",
            "input_schema",
            "rails",
        ]

    def get_rails(self, skill: Skill) -> dict[str, str]:
        return rails_for_skill(skill, decided=self.context.setdefault("routing", {}))


class ResolveRequestSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=500, help_text='e.g. "book a plumber in Lagos under £50 tomorrow morning"'
    )


class ResolutionSerializer(serializers.Serializer):
    intent = serializers.JSONField(help_text="How the text was read; correct it if wrong.")
    skill = SkillSerializer()
    provider = serializers.JSONField()
    quote = QuoteSerializer()
