from django.http import Http404
from djmoney.money import Money
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import HasScope
from apps.payments import services
from apps.payments.api.serializers import (
    PaymentSerializer,
    QuoteRequestSerializer,
    QuoteSerializer,
)
from apps.payments.models import Payment


class QuoteView(APIView):
    """A price for the calling user: rail, local amount, home-currency settlement, rate,
    fees and expiry, signed (the `jws`) so the two amounts are provably tied."""

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
        quote = services.quote_create(user=request.user, amount=amount)
        return Response(QuoteSerializer(quote).data, status=status.HTTP_201_CREATED)


class PaymentView(APIView):
    permission_classes = [HasScope("dispatch:read")]

    @extend_schema(responses=PaymentSerializer, operation_id="payment_retrieve")
    def get(self, request: Request, payment_id) -> Response:
        payment = (
            Payment.objects.select_related("rail")
            .prefetch_related("refunds")
            .filter(user=request.user, pk=payment_id)
            .first()
        )
        if payment is None:
            raise Http404
        return Response(PaymentSerializer(payment).data)
