"""DRF permissions over agent grants. A signed-in person (session) holds every scope;
an agent holds only the scopes of its grant."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.identity import services
from apps.identity.models import AgentGrant


def acting_grant(request: Request) -> AgentGrant | None:
    return request.auth if isinstance(request.auth, AgentGrant) else None


def HasScope(scope: str) -> type[BasePermission]:
    """`permission_classes = [HasScope("dispatch:read")]`; a missing scope is a 403
    `scope_required` naming it."""

    class ScopePermission(BasePermission):
        def has_permission(self, request: Request, view) -> bool:
            if not (request.user and request.user.is_authenticated):
                return False
            grant = acting_grant(request)
            if grant is not None:
                services.agent_grant_require_scope(grant=grant, scope=scope)
            return True

    ScopePermission.__name__ = f"HasScope[{scope}]"
    return ScopePermission
