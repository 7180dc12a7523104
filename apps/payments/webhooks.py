from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.payments import services


class RailWebhookView(APIView):
    """Rails' notifications; each adapter verifies its rail's signature or secret."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None

    def post(self, request: Request, rail: str) -> Response:
        outcome = services.webhook_receive(
            rail_code=rail, body=request.body, headers=dict(request.headers)
        )
        return Response({"received": True, "outcome": outcome})
