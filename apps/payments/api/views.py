from django.http import Http404
from djmoney.money import Money
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import HasScope, acting_grant_id
from apps.core.api.throttling import MONEY_MOVING
from apps.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent, service_key
from apps.identity.permissions import acting_grant
from apps.payments import lifecycle, quotes, selectors
from apps.payments.api.serializers import (
    PaymentCreateSerializer,
    PaymentSerializer,
    QuoteRequestSerializer,
    QuoteSerializer,
)


class QuoteView(APIView):
    """A price for the calling user: rail, local amount, home-currency settlement, rate,
    fees and expiry, signed (the `jws`) so the two amounts are provably tied."""

    throttle_classes = MONEY_MOVING
    permission_classes = [HasScope("dispatch:create")]

    @extend_schema(
        request=QuoteRequestSerializer,
        responses={201: QuoteSerializer},
        operation_id="quote_create",
    )
    def post(self, request: Request) -> Response:
        body = QuoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        amount = Money(body.validated_data["amount"], body.validated_data["currency"])
        quote = quotes.quote_create(user=request.user, amount=amount)
        return Response(QuoteSerializer(quote).data, status=status.HTTP_201_CREATED)


class PaymentView(APIView):
    permission_classes = [HasScope("dispatch:read")]

    @extend_schema(responses=PaymentSerializer, operation_id="payment_retrieve")
    def get(self, request: Request, payment_id) -> Response:
        payment = selectors.payment_get_for_user(
            user=request.user, payment_id=payment_id, grant_id=acting_grant_id(request)
        )
        if payment is None:
            raise Http404
        return Response(PaymentSerializer(payment).data)


class PaymentCreateView(APIView):
    """Pay a quote: the payment is created at once and authorized by a worker."""

    throttle_classes = MONEY_MOVING
    permission_classes = [HasScope("dispatch:create")]

    @extend_schema(
        request=PaymentCreateSerializer,
        responses={202: PaymentSerializer},
        operation_id="payment_create",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = PaymentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        quote = selectors.quote_get_for_user(
            user=request.user, quote_id=body.validated_data["quote"]
        )
        if quote is None:
            raise Http404
        payment = lifecycle.payment_start(
            user=request.user,
            grant=acting_grant(request),
            quote=quote,
            reference=body.validated_data["reference"],
            payer_account=body.validated_data["payer_account"],
            idempotency_key=service_key(request),
        )
        return Response(PaymentSerializer(payment).data, status=status.HTTP_202_ACCEPTED)
