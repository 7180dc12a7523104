"""Scope checks for any authentication whose `request.auth` carries `scopes` (agent
grants). A signed-in person (session, `request.auth` None) holds every scope."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.errors import PermissionDeniedError


def acting_grant_id(request: Request):
    """The id of the agent grant making the request, or None for a signed-in person.
    (identity.permissions.acting_grant gives the grant itself, to apps that may know it.)"""
    return getattr(request.auth, "pk", None)


def require_scope(request: Request, scope: str) -> None:
    """Refuse an agent whose grant lacks `scope` (403 `scope_required` naming it)."""
    granted = getattr(request.auth, "scopes", None)
    if granted is not None and scope not in granted:
        raise PermissionDeniedError(
            f"This agent grant does not include the scope {scope}.",
            code="scope_required",
            extra={"scope": scope},
        )


def HasScope(scope: str) -> type[BasePermission]:
    """`permission_classes = [HasScope("receipts:read")]`; a missing scope is a 403
    `scope_required` naming it."""

    class ScopePermission(BasePermission):
        def has_permission(self, request: Request, view) -> bool:
            if not (request.user and request.user.is_authenticated):
                return False
            require_scope(request, scope)
            return True

    ScopePermission.__name__ = f"HasScope[{scope}]"
    return ScopePermission
