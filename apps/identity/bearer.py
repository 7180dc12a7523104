"""Who a bearer token acts for: the one rule the API and the MCP server apply.

A token is either a grant's own `gera_…` token or an access token the OpenID Connect
provider issued under a grant the user approved on the consent page. Both resolve to
the same (user, grant) pair, and both are refused with the same codes: token_invalid,
token_expired or token_revoked.
"""

from http import HTTPStatus

from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.identity import oauth_tokens, selectors, services
from apps.identity.models import AgentGrant, User
from apps.identity.tokens import TOKEN_SCHEME


class BearerRefused(ApplicationError):
    code = "token_invalid"
    status = HTTPStatus.UNAUTHORIZED


def agent_for_bearer(*, token: str) -> tuple[User, AgentGrant]:
    """The user and grant `token` acts under, or BearerRefused. Records the grant's use."""
    if token.startswith(f"{TOKEN_SCHEME}_"):
        grant, token_expired = selectors.agent_grant_by_token(token=token), False
    else:
        grant, token_expired = _grant_of_access_token(token)
    if grant is None or not grant.user.is_active:
        raise BearerRefused("This token is not recognised.")
    if grant.is_revoked:
        raise BearerRefused("This agent grant was revoked.", code="token_revoked")
    if grant.is_expired:
        raise BearerRefused("This agent grant has expired.", code="token_expired")
    if token_expired:
        raise BearerRefused(
            "This access token has expired; refresh it at the token endpoint.",
            code="token_expired",
        )
    services.agent_grant_touch(grant=grant)
    return grant.user, grant


def _grant_of_access_token(value: str) -> tuple[AgentGrant | None, bool]:
    """The grant an OAuth access token was issued under, and whether the token itself
    (an hour's life) has expired. A token issued only to sign in names no grant."""
    token = oauth_tokens.access_token_get(value=value)
    grant_id = oauth_tokens.token_grant_id(token) if token else None
    if token is None or grant_id is None or token.user is None:
        return None, False
    grant = selectors.agent_grant_of_oauth_token(user=token.user, grant_id=grant_id)
    return grant, token.expires_at is not None and token.expires_at <= timezone.now()
