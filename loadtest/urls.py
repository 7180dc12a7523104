"""The site's URLs and the yardstick the load test compares every endpoint with."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import HasScope
from geraos.urls import urlpatterns as site_urlpatterns

BARE_PATH = "api/v1/loadtest/bare"


class BareView(APIView):
    """A DRF view that does nothing but what every API view does: the agent's bearer token
    authenticated, the grant's scope checked (as for POST /dispatches), the caller's rate
    limit counted in Redis (the API's default throttle)."""

    permission_classes = [HasScope("dispatch:create")]

    @extend_schema(exclude=True)  # not part of the API
    def post(self, request: Request) -> Response:
        return Response({"ok": True})


# Before the site's own, whose last pattern answers every other /api/ path with a 404.
urlpatterns = [path(BARE_PATH, BareView.as_view(), name="loadtest-bare"), *site_urlpatterns]
