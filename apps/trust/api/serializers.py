from rest_framework import serializers

from apps.core.api.serializers import BodySerializer, QuerySerializer
from apps.trust.models import Dispute

LOG_STATUSES = ["sequenced", "integrated"]


class ProofSerializer(serializers.Serializer):
    log_index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    hashes = serializers.ListField(child=serializers.CharField(), help_text="base64 SHA-256")


class TreeHeadSerializer(serializers.Serializer):
    size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="base64")
    checkpoint = serializers.CharField(help_text="C2SP signed note")
    kid = serializers.CharField()


class ReceiptSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    receipt = serializers.JSONField(help_text="The signed payload.")
    jws = serializers.CharField(help_text="Compact JWS (EdDSA) over its RFC 8785 form.")
    log_status = serializers.ChoiceField(
        choices=LOG_STATUSES,
        help_text="integrated: in a signed checkpoint, with the proof below. sequenced: "
        "the receipt has its log index and is in a checkpoint by integrate_by; until then "
        "there is no proof (and its bundle answers 409 receipt_not_yet_provable).",
    )
    integrate_by = serializers.DateTimeField(allow_null=True, help_text="While sequenced.")
    inclusion_proof = ProofSerializer(allow_null=True)
    tree_head = TreeHeadSerializer(allow_null=True)


class VerifyRequestSerializer(BodySerializer):
    jws = serializers.CharField(help_text="A receipt's compact JWS.")


class VerifyResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    reason = serializers.CharField()
    receipt = serializers.JSONField(allow_null=True)


class ConsistencyQuerySerializer(QuerySerializer):
    first = serializers.IntegerField(min_value=1)
    second = serializers.IntegerField(min_value=1)


class InclusionQuerySerializer(QuerySerializer):
    index = serializers.IntegerField(min_value=0)
    size = serializers.IntegerField(min_value=1)


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    hashes = serializers.ListField(child=serializers.CharField())


class DisputeOpenSerializer(BodySerializer):
    reason = serializers.ChoiceField(choices=Dispute.Reason.choices)
    evidence = serializers.CharField(max_length=10000, allow_blank=True, default="")


class DisputeSerializer(serializers.ModelSerializer):
    receipt = serializers.UUIDField(source="receipt_id")
    resolution_receipt = serializers.UUIDField(source="resolution_receipt_id", allow_null=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "receipt",
            "opened_by",
            "reason",
            "evidence",
            "status",
            "respond_by",
            "resolution_receipt",
            "created_at",
        ]
