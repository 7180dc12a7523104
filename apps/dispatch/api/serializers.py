from django.core.validators import RegexValidator
from django.urls import reverse
from djmoney.money import Money
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.catalog.models import Provider, Skill
from apps.core.api.fields import AmountField
from apps.core.api.serializers import (
    BodySerializer,
    MoneySerializer,
    QuerySerializer,
    without_nul_characters,
)
from apps.core.money import ISO_CURRENCY_CHOICES
from apps.dispatch.models import DispatchOrder
from apps.dispatch.outbound import URL_RULE, is_allowed_url
from apps.dispatch.parser import ParsedIntent
from apps.dispatch.selectors import rails_for_skill
from apps.payments.api.serializers import QuoteSerializer


class SkillQuerySerializer(QuerySerializer):
    capability = serializers.CharField(required=False, max_length=80)
    country = serializers.CharField(required=False, max_length=2)
    city = serializers.CharField(required=False, max_length=80)


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


class ResolvedSkillSerializer(SkillSerializer):
    """The skill without the per-country rails: the quote already names the rail."""

    class Meta(SkillSerializer.Meta):
        fields = [f for f in SkillSerializer.Meta.fields if f != "rails"]


class ProviderSummarySerializer(serializers.ModelSerializer):
    price = MoneySerializer()

    class Meta:
        model = Provider
        fields = ["name", "city", "rating", "price"]


class ResolutionSerializer(serializers.Serializer):
    intent = serializers.SerializerMethodField(
        help_text="How the text was read; correct it if wrong and send it back as `intent`."
    )
    skill = ResolvedSkillSerializer()
    provider = ProviderSummarySerializer()
    quote = QuoteSerializer()

    def get_intent(self, resolution) -> dict:
        return resolution.intent.as_dict()


class PlaceSerializer(BodySerializer):
    city = serializers.CharField(max_length=80)
    country = serializers.CharField(max_length=2, required=False, default="", allow_blank=True)


class WindowSerializer(BodySerializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError(
                "The window must end after it starts.", code="window_ends_before_start"
            )
        return attrs


class PriceSerializer(BodySerializer):
    amount = AmountField()
    currency = serializers.ChoiceField(choices=ISO_CURRENCY_CHOICES)


class IntentSerializer(BodySerializer):
    """The structured intent: what the resolver returned as `intent`, corrected if needed."""

    capability = serializers.CharField(max_length=80)
    location = PlaceSerializer()
    window = WindowSerializer(required=False, allow_null=True, default=None)
    max_price = PriceSerializer(required=False, allow_null=True, default=None)
    details = serializers.DictField(
        required=False,
        validators=[without_nul_characters],
        help_text="What the skill's input_schema asks for (or send `details` beside the intent).",
    )


def intent_from(data: dict) -> ParsedIntent:
    window, price = data["window"], data["max_price"]
    return ParsedIntent(
        text="",
        capability=data["capability"],
        city=data["location"]["city"],
        country=data["location"]["country"].upper(),
        max_price=Money(price["amount"], price["currency"]) if price else None,
        window_start=window["start"] if window else None,
        window_end=window["end"] if window else None,
    )


class IntentOrTextSerializer(BodySerializer):
    text = serializers.CharField(
        max_length=500,
        required=False,
        help_text='e.g. "book a plumber in Lagos under £50 tomorrow morning"',
    )
    intent = IntentSerializer(required=False)

    def validate(self, attrs):
        if ("text" in attrs) == ("intent" in attrs):
            raise serializers.ValidationError(
                "Send either `text` or a structured `intent`.", code="text_or_intent"
            )
        return attrs

    def resolve_kwargs(self) -> dict:
        if "intent" in self.validated_data:
            return {"intent": intent_from(self.validated_data["intent"])}
        return {"text": self.validated_data["text"]}


# The URLs a callback may go to, as the OpenAPI document states them: http(s), a host
# name with a top-level domain, localhost or an IPv4 address, a port below 65000, and a
# path of visible ASCII. (Django's URLValidator alone takes more, e.g. Unicode names.)
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_HOST = (
    r"(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
    rf"|localhost|{_OCTET}(?:\.{_OCTET}){{3}})"
)
CALLBACK_URL_PATTERN = (
    rf"^(?:https?://{_HOST}(?::(?:[1-5]?[0-9]{{1,4}}|6[0-4][0-9]{{3}}))?(?:/[!-~]*)?)?$"
)


@extend_schema_field({"type": "string", "maxLength": 200, "pattern": CALLBACK_URL_PATTERN})
class CallbackURLField(serializers.URLField):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(CALLBACK_URL_PATTERN))


class DispatchCreateSerializer(IntentOrTextSerializer):
    details = serializers.DictField(
        required=False,
        default=dict,
        validators=[without_nul_characters],
        help_text="Filled in by the skill's `input_schema`.",
    )
    callback_url = CallbackURLField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="Receives HMAC-signed status events.",
    )
    payer_account = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        allow_blank=True,
        help_text="Phone (M-Pesa) or VPA (UPI), when the rail needs it.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        inner = attrs.get("intent", {}).pop("details", None)
        if inner is not None:
            if attrs["details"] and attrs["details"] != inner:
                raise serializers.ValidationError(
                    {"details": "Send the details once: in the intent or beside it."},
                    code="details_twice",
                )
            attrs["details"] = inner
        return attrs

    def validate_callback_url(self, value: str) -> str:
        if value and not is_allowed_url(value):
            raise serializers.ValidationError(URL_RULE, code="callback_url_not_allowed")
        return value


class DispatchListQuerySerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=DispatchOrder.Status.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)


class TransitionSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class DispatchOrderSerializer(serializers.ModelSerializer):
    details = serializers.JSONField(required=False, help_text="Checked by the skill schema.")
    skill = serializers.SerializerMethodField()
    provider = serializers.SerializerMethodField()
    quote = QuoteSerializer()
    payment = serializers.SerializerMethodField()
    failure = serializers.SerializerMethodField()
    receipt = serializers.SerializerMethodField()
    history = TransitionSerializer(source="transitions", many=True)

    class Meta:
        model = DispatchOrder
        fields = [
            "id",
            "status",
            "intent",
            "details",
            "skill",
            "provider",
            "quote",
            "payment",
            "confirmation",
            "failure",
            "receipt",
            "callback_url",
            "history",
            "created_at",
            "updated_at",
        ]

    def get_skill(self, order: DispatchOrder) -> dict:
        skill = order.skill
        return {
            "id": skill.pk,
            "capability": skill.capability,
            "title": skill.title,
            "product": skill.product.code,
            "version": order.skill_version,
        }

    def get_provider(self, order: DispatchOrder) -> dict:
        return {"name": order.provider.name, "city": order.provider.city}

    def get_payment(self, order: DispatchOrder) -> dict | None:
        payment = order.payment
        if payment is None:
            return None
        return {
            "id": str(payment.pk),
            "status": payment.status,
            "next_action": payment.next_action,
            "confirmation_id": payment.confirmation_id or None,
        }

    def get_failure(self, order: DispatchOrder) -> dict | None:
        if not order.failure_code:
            return None
        return {"code": order.failure_code, "message": order.failure_message}

    def get_receipt(self, order: DispatchOrder) -> dict | None:
        receipt = order.receipt
        if receipt is None:
            return None
        return {
            "id": str(receipt.pk),
            "resolution": receipt.resolution,
            "log_index": receipt.log_index,
            "jws": receipt.jws,
            "bundle": reverse("api:receipt-bundle", args=[receipt.pk]),
        }


class DispatchCreatedSerializer(DispatchOrderSerializer):
    callback_secret = serializers.CharField(
        allow_null=True,
        help_text="Verifies the callbacks' X-GeraOS-Signature; returned on creation only.",
    )

    class Meta(DispatchOrderSerializer.Meta):
        fields = [*DispatchOrderSerializer.Meta.fields, "callback_secret"]
