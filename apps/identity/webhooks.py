from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.identity import billing


class StripeWebhookView(APIView):
    """Stripe's deliveries. Authenticated by the Stripe-Signature header alone."""

    authentication_classes = []
    throttle_classes = []  # Stripe sends from a few addresses; its signature gates this
    permission_classes = [AllowAny]
    schema = None  # for Stripe, not for agents

    def post(self, request: Request) -> Response:
        outcome = billing.webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        return Response({"received": True, "outcome": outcome})
