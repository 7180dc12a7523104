from django.http import HttpResponse
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.payments import notices
from apps.payments.adapters import ADAPTERS


class RailWebhookView(APIView):
    """Rails' notifications; each adapter verifies its rail's signature or secret."""

    authentication_classes = []
    throttle_classes = []  # rails and Stripe send from a few addresses; signatures gate them
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, FormParser]
    schema = None

    def post(self, request: Request, rail: str) -> HttpResponse:
        outcome = notices.webhook_receive(
            rail_code=rail, body=request.body, headers=dict(request.headers)
        )
        acknowledgement = getattr(ADAPTERS.get(rail), "acknowledgement", None)
        if acknowledgement:  # rails that expect a plain-text answer (Idram: "OK")
            return HttpResponse(acknowledgement, content_type="text/plain")
        return Response({"received": True, "outcome": outcome})
