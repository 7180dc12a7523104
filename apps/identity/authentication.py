"""`Authorization: Bearer gera_…` — an agent acting for a user under an AgentGrant.

`request.user` is the user the agent acts for and `request.auth` is the grant. Every
refusal is a 401 with its own code: token_invalid, token_expired or token_revoked.
"""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication as drf_authentication
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.request import Request

from apps.core.audit import session_used_mfa
from apps.identity import selectors, services
from apps.identity.models import AgentGrant, User


class AgentTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, AgentGrant] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send exactly one token: Bearer <token>.", "token_invalid")
        grant = selectors.agent_grant_by_token(token=parts[1].decode("latin-1"))
        if grant is None or not grant.user.is_active:
            raise AuthenticationFailed("This token is not recognised.", "token_invalid")
        if grant.is_revoked:
            raise AuthenticationFailed("This agent grant was revoked.", "token_revoked")
        if grant.is_expired:
            raise AuthenticationFailed("This agent grant has expired.", "token_expired")
        services.agent_grant_touch(grant=grant)
        return grant.user, grant

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="geraos"'


class SessionAuthentication(drf_authentication.SessionAuthentication):
    """A person's browser session. Staff powers (reading others' receipts and disputes)
    need the second factor in the API as in the admin: a staff session without it is
    refused rather than served as staff."""

    def authenticate(self, request: Request):
        found = super().authenticate(request)
        if found is not None and found[0].is_staff and not session_used_mfa(request._request):
            raise PermissionDenied(
                "Staff use the API from a session signed in with a second factor.",
                code="mfa_required",
            )
        return found


class AgentTokenScheme(OpenApiAuthenticationExtension):
    target_class = AgentTokenAuthentication
    name = "agentToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "gera_<prefix>_<secret>"}


class StaffAwareSessionScheme(SessionScheme):
    """The session cookie in the schema, as for DRF's own session authentication."""

    target_class = SessionAuthentication
