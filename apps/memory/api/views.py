"""The memory API is for agents: each call names the product the agent acts for, needs
the grant scope `memory:read:<scope>` / `memory:write:<scope>`, and the user's consent."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.permissions import require_scope
from apps.core.errors import PermissionDeniedError
from apps.identity.models import AgentGrant
from apps.identity.permissions import acting_grant
from apps.memory import services
from apps.memory.api.serializers import (
    MemoryItemSerializer,
    MemoryQuerySerializer,
    MemoryReadSerializer,
    MemoryWriteSerializer,
    SummaryAppendSerializer,
)
from apps.memory.services import CONVERSATIONS_SCOPE


def require_agent(request: Request, scope: str) -> AgentGrant:
    grant = acting_grant(request)
    if grant is None:
        raise PermissionDeniedError(
            "The memory API is for agents; manage your own memory at /me/memory/.",
            code="agent_required",
        )
    require_scope(request, scope)
    return grant


class MemoryView(APIView):
    @extend_schema(
        parameters=[MemoryQuerySerializer],
        responses=MemoryReadSerializer,
        operation_id="memory_read",
    )
    def get(self, request: Request) -> Response:
        query = MemoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        product, scope = query.validated_data["product"], query.validated_data["scope"]
        grant = require_agent(request, f"memory:read:{scope.code}")
        items = services.memory_read(
            user=request.user,
            product=product,
            scope=scope,
            grant=grant,
            purpose=query.validated_data.get("purpose", ""),
        )
        body = {"product": product.code, "scope": scope.code, "items": items}
        return Response(MemoryReadSerializer(body).data)

    @extend_schema(
        request=MemoryWriteSerializer,
        responses={201: MemoryItemSerializer},
        operation_id="memory_write",
    )
    def post(self, request: Request) -> Response:
        body = MemoryWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        grant = require_agent(request, f"memory:write:{data['scope'].code}")
        item = services.memory_write(user=request.user, grant=grant, **data)
        return Response(MemoryItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ConversationSummaryView(APIView):
    @extend_schema(
        request=SummaryAppendSerializer,
        responses={201: MemoryItemSerializer},
        operation_id="memory_conversation_summary_append",
    )
    def post(self, request: Request) -> Response:
        body = SummaryAppendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = require_agent(request, f"memory:write:{CONVERSATIONS_SCOPE}")
        item = services.memory_append_summary(user=request.user, grant=grant, **body.validated_data)
        return Response(MemoryItemSerializer(item).data, status=status.HTTP_201_CREATED)
