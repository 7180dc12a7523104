from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.identity import services
from apps.identity.api.serializers import ProfileUpdateSerializer, UserSerializer


class MeView(APIView):
    """The account the request acts for."""

    @extend_schema(responses=UserSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        request=ProfileUpdateSerializer, responses=UserSerializer, operation_id="me_update"
    )
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        changes = {
            "name": user.name,
            "country": user.country.code or "",
            "preferred_currency": user.preferred_currency,
            **serializer.validated_data,
        }
        user = services.user_update_profile(user=user, **changes)
        return Response(UserSerializer(user).data)
