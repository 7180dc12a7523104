from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors as catalog_selectors
from apps.core.api.permissions import HasScope, acting_grant_id
from apps.core.api.throttling import MONEY_MOVING
from apps.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent, service_key
from apps.dispatch import resolver, selectors, services
from apps.dispatch.api.serializers import (
    DispatchCreatedSerializer,
    DispatchCreateSerializer,
    DispatchListQuerySerializer,
    DispatchOrderSerializer,
    IntentOrTextSerializer,
    ResolutionSerializer,
    SkillQuerySerializer,
    SkillSerializer,
)
from apps.identity.permissions import acting_grant


def _seen_by(request: Request) -> dict:
    """An agent sees the dispatches made under its own grant (another agent's bookings
    are not its business); the user, signed in, sees all of theirs."""
    grant_id = acting_grant_id(request)
    return {"grant_id": grant_id} if grant_id else {}


class SkillListView(APIView):
    """Published skills an agent can dispatch, filtered by capability and place."""

    @extend_schema(
        parameters=[SkillQuerySerializer],
        responses=SkillSerializer(many=True),
        operation_id="skills_list",
    )
    def get(self, request: Request) -> Response:
        query = SkillQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        skills = catalog_selectors.skill_list_published(**query.validated_data)
        return Response(SkillSerializer(skills, many=True, context={"routing": {}}).data)


class SkillDetailView(APIView):
    @extend_schema(responses=SkillSerializer, operation_id="skills_retrieve")
    def get(self, request: Request, skill_id: int) -> Response:
        skill = catalog_selectors.skill_get_published(skill_id=skill_id)
        if skill is None:
            raise Http404
        return Response(SkillSerializer(skill).data)


class ResolveView(APIView):
    """A dry run: what dispatching this intent would do, with a quote. Nothing is booked."""

    throttle_classes = MONEY_MOVING
    permission_classes = [HasScope("dispatch:create")]

    @extend_schema(
        request=IntentOrTextSerializer,
        responses=ResolutionSerializer,
        operation_id="intents_resolve",
    )
    def post(self, request: Request) -> Response:
        body = IntentOrTextSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = resolver.resolve_intent_or_text(user=request.user, **body.resolve_kwargs())
        return Response(ResolutionSerializer(found).data)


class DispatchListView(APIView):
    """Dispatch an intent (202: the pipeline runs in the background), or list yours."""

    throttle_classes = MONEY_MOVING

    def get_permissions(self):
        scope = "dispatch:create" if self.request.method == "POST" else "dispatch:read"
        return [HasScope(scope)()]

    @extend_schema(
        parameters=[DispatchListQuerySerializer],
        responses=DispatchOrderSerializer(many=True),
        operation_id="dispatches_list",
    )
    def get(self, request: Request) -> Response:
        query = DispatchListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = selectors.dispatch_list_for_user(
            user=request.user, **query.validated_data, **_seen_by(request)
        )
        return Response(DispatchOrderSerializer(orders, many=True).data)

    @extend_schema(
        request=DispatchCreateSerializer,
        responses={202: DispatchCreatedSerializer},
        operation_id="dispatches_create",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = DispatchCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        order, callback_secret = services.dispatch_create(
            user=request.user,
            grant=acting_grant(request),
            **body.resolve_kwargs(),
            details=data["details"],
            callback_url=data["callback_url"],
            payer_account=data["payer_account"],
            idempotency_key=service_key(request),
        )
        order = selectors.dispatch_get_for_user(
            user=request.user, order_id=order.pk, **_seen_by(request)
        )
        order.callback_secret = callback_secret or None
        return Response(DispatchCreatedSerializer(order).data, status=status.HTTP_202_ACCEPTED)


class DispatchDetailView(APIView):
    """Where a dispatch is: status and history, the provider's confirmation, the receipt."""

    permission_classes = [HasScope("dispatch:read")]

    @extend_schema(responses=DispatchOrderSerializer, operation_id="dispatches_retrieve")
    def get(self, request: Request, order_id) -> Response:
        order = selectors.dispatch_get_for_user(
            user=request.user, order_id=order_id, **_seen_by(request)
        )
        if order is None:
            raise Http404
        return Response(DispatchOrderSerializer(order).data)
