"""Who a request acts through. Scope checks: apps.core.api.permissions.HasScope."""

from rest_framework.request import Request

from apps.identity.models import AgentGrant


def acting_grant(request: Request) -> AgentGrant | None:
    return request.auth if isinstance(request.auth, AgentGrant) else None
