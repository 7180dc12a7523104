import base64

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import HasScope, acting_grant_id
from apps.core.api.throttling import MONEY_MOVING
from apps.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from apps.trust import selectors, services
from apps.trust.api.serializers import (
    ConsistencyProofSerializer,
    ConsistencyQuerySerializer,
    DisputeOpenSerializer,
    DisputeSerializer,
    InclusionQuerySerializer,
    ProofSerializer,
    ReceiptSerializer,
    TreeHeadSerializer,
    VerifyRequestSerializer,
    VerifyResultSerializer,
)
from apps.trust.models import Dispute, Receipt, TreeHead


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _head(head: TreeHead) -> dict:
    return {
        "size": head.size,
        "root_hash": base64.b64encode(bytes(head.root_hash)).decode(),
        "checkpoint": head.checkpoint,
        "kid": head.kid,
    }


def _visible_receipt(request: Request, receipt_id) -> Receipt:
    grant_id = acting_grant_id(request)
    receipt = selectors.receipt_get(
        user=request.user, receipt_id=receipt_id, agent_grant_id=grant_id
    )
    if receipt is None:
        raise Http404
    return receipt


def receipt_document(receipt: Receipt) -> dict:
    """A receipt as `GET /receipts/{id}` answers it (the MCP server's get_receipt too):
    with its proof once integrated, with when it will be while only sequenced."""
    body = {"id": receipt.pk, "receipt": receipt.payload, "jws": receipt.jws}
    proven = selectors.receipt_proof(receipt=receipt)
    if proven is None:
        body |= {
            "log_status": "sequenced",
            "integrate_by": selectors.receipt_integrate_by(receipt=receipt),
            "inclusion_proof": None,
            "tree_head": None,
        }
    else:
        head, proof = proven
        body |= {
            "log_status": "integrated",
            "integrate_by": None,
            "inclusion_proof": {
                "log_index": receipt.log_index,
                "tree_size": head.size,
                "hashes": _b64(proof),
            },
            "tree_head": _head(head),
        }
    return ReceiptSerializer(body).data


class ReceiptView(APIView):
    permission_classes = [HasScope("receipts:read")]

    @extend_schema(responses=ReceiptSerializer, operation_id="receipt_retrieve")
    def get(self, request: Request, receipt_id) -> Response:
        return Response(receipt_document(_visible_receipt(request, receipt_id)))


class ReceiptBundleView(APIView):
    """The offline-verifiable bundle; 409 receipt_not_yet_provable until the receipt is in
    a signed checkpoint (see the receipt's integrate_by)."""

    permission_classes = [HasScope("receipts:read")]

    @extend_schema(responses={200: dict}, operation_id="receipt_bundle")
    def get(self, request: Request, receipt_id) -> Response:
        receipt = _visible_receipt(request, receipt_id)
        bundle = selectors.receipt_bundle(receipt=receipt, origin=settings.GERAOS_LOG_ORIGIN)
        response = Response(bundle)
        response["Content-Disposition"] = f'attachment; filename="receipt-{receipt.pk}.json"'
        return response


class ReceiptVerifyView(APIView):
    """Anyone may verify a receipt: a signature by our keys and presence in our log."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=VerifyRequestSerializer,
        responses=VerifyResultSerializer,
        operation_id="receipt_verify",
    )
    def post(self, request: Request) -> Response:
        body = VerifyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        valid, reason, payload = selectors.receipt_verify_online(token=body.validated_data["jws"])
        return Response({"valid": valid, "reason": reason, "receipt": payload})


class LogHeadView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=TreeHeadSerializer, operation_id="log_head")
    def get(self, request: Request) -> Response:
        head = selectors.tree_head_latest()
        if head is None:
            raise Http404("The log is empty.")
        return Response(TreeHeadSerializer(_head(head)).data)


class InclusionProofView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[InclusionQuerySerializer],
        responses=ProofSerializer,
        operation_id="log_inclusion_proof",
    )
    def get(self, request: Request) -> Response:
        query = InclusionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        index, size = query.validated_data["index"], query.validated_data["size"]
        proof = selectors.inclusion_proof(index=index, size=size)
        return Response({"log_index": index, "tree_size": size, "hashes": _b64(proof)})


class ConsistencyProofView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[ConsistencyQuerySerializer],
        responses=ConsistencyProofSerializer,
        operation_id="log_consistency_proof",
    )
    def get(self, request: Request) -> Response:
        query = ConsistencyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, second = query.validated_data["first"], query.validated_data["second"]
        proof = selectors.consistency_proof(first=first, second=second)
        return Response({"first": first, "second": second, "hashes": _b64(proof)})


class ReceiptDisputesView(APIView):
    """The receipt's user (or their agent, with `disputes:create`) opens a dispute."""

    throttle_classes = MONEY_MOVING
    permission_classes = [HasScope("disputes:create")]

    @extend_schema(
        request=DisputeOpenSerializer,
        responses={201: DisputeSerializer},
        operation_id="receipt_dispute_open",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, receipt_id) -> Response:
        receipt = _visible_receipt(request, receipt_id)
        if receipt.user_id != request.user.pk:
            raise Http404  # counterparties read receipts; only the buyer disputes via the API
        body = DisputeOpenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dispute = services.dispute_open(
            receipt=receipt, opened_by=Dispute.Party.BUYER, user=request.user, **body.validated_data
        )
        return Response(DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeView(APIView):
    permission_classes = [HasScope("receipts:read")]

    @extend_schema(responses=DisputeSerializer, operation_id="dispute_retrieve")
    def get(self, request: Request, dispute_id) -> Response:
        grant_id = acting_grant_id(request)
        dispute = selectors.dispute_get(
            user=request.user, dispute_id=dispute_id, agent_grant_id=grant_id
        )
        if dispute is None:
            raise Http404
        return Response(DisputeSerializer(dispute).data)
