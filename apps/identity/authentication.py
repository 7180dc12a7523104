"""`Authorization: Bearer <token>` — an agent acting for a user under an AgentGrant,
with the grant's `gera_…` token or an OAuth access token issued under it (bearer.py).

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
from apps.identity.bearer import BearerRefused, agent_for_bearer
from apps.identity.models import AgentGrant, User


class AgentTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, AgentGrant] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send exactly one token: Bearer <token>.", "token_invalid")
        try:
            return agent_for_bearer(token=parts[1].decode("latin-1"))
        except BearerRefused as refused:
            raise AuthenticationFailed(refused.message, refused.code) from refused

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
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gera_<prefix>_<secret>, or an OAuth access token",
        }


class StaffAwareSessionScheme(SessionScheme):
    """The session cookie in the schema, as for DRF's own session authentication."""

    target_class = SessionAuthentication
