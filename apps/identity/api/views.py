from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import PermissionDeniedError
from apps.identity import selectors, services
from apps.identity.api.serializers import MeSerializer, ProfileUpdateSerializer
from apps.identity.permissions import acting_grant


def me_payload(request: Request) -> dict:
    plan, entitlements = selectors.entitlement_summary(user=request.user)
    return MeSerializer(
        {
            "user": request.user,
            "plan": plan,
            "entitlements": entitlements,
            "grant": acting_grant(request),
        }
    ).data


class MeView(APIView):
    """The account the request acts for: profile, plan, entitlements and usage, and the
    agent grant in use."""

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(me_payload(request))

    @extend_schema(
        request=ProfileUpdateSerializer, responses=MeSerializer, operation_id="me_update"
    )
    def patch(self, request: Request) -> Response:
        if acting_grant(request) is not None:
            # The profile decides how the user pays; only the person may change it.
            raise PermissionDeniedError(
                "Only the account holder can change the profile.", code="person_required"
            )
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        changes = {
            "name": user.name,
            "country": user.country.code or "",
            "preferred_currency": user.preferred_currency,
            **serializer.validated_data,
        }
        services.user_update_profile(user=user, **changes)
        return Response(me_payload(request))
