"""allauth.idp.oidc's adapter: what Sign in with Gera says about a person, in which words
the consent page names scopes, and what the discovery document offers."""

from collections.abc import Iterable
from typing import Any

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.models import Client, PrivateKey, Token
from allauth.utils import build_absolute_uri

from apps.identity import oauth_tokens, selectors
from apps.identity.models import User
from apps.identity.scopes import FIXED_SCOPES, SIGN_IN_SCOPES, describe, is_agent_scope

# What a client may be registered for: the code flow (with PKCE for public clients), its
# refresh, and the device flow for agents without a browser. Never the implicit flow,
# passwords or client credentials (every token here acts for a person).
GRANT_TYPES = [
    Client.GrantType.AUTHORIZATION_CODE,
    Client.GrantType.REFRESH_TOKEN,
    Client.GrantType.DEVICE_CODE,
]
RESPONSE_TYPES = [Client.ResponseType.CODE]


class _ScopeWords(dict):
    """Every scope has words, memory scopes included (they are not a fixed list)."""

    def get(self, scope, default=None):
        return describe(scope)


class OIDCAdapter(DefaultOIDCAdapter):
    scope_display = _ScopeWords()

    def get_claims(
        self,
        purpose: str,
        user: User,
        client: Client,
        scopes: Iterable[str],
        email: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The standard claims, and with `plan` the plan in force and what it includes:
        the same rule the API enforces (selectors.plan_for_user), so a product can
        enforce it without calling back."""
        claims = super().get_claims(purpose, user, client, scopes, email=email, **kwargs)
        if "plan" in scopes:
            plan, features = selectors.plan_features(user=user)
            claims["gera_plan"] = plan.code
            claims["gera_entitlements"] = features
        return claims

    def get_issuer(self) -> str:
        """On the scheme of the endpoints the discovery document names (allauth's
        default protocol, https unless DEBUG), not the request's: behind the TLS proxy
        they agree; where they would not, a product comparing them would refuse."""
        return build_absolute_uri(self.request, "/").rstrip("/")

    def get_signing_key(self) -> PrivateKey:
        """GERAOS_OIDC_PRIVATE_KEY signs; the published keys are only published."""
        return self.list_private_keys()[0]

    def populate_server_metadata(self, data: dict) -> None:
        data["scopes_supported"] = [*SIGN_IN_SCOPES, *FIXED_SCOPES]
        data["grant_types_supported"] = sorted(GRANT_TYPES)
        data["response_types_supported"] = sorted(RESPONSE_TYPES)

    def is_introspection_allowed(self, token: Token, *, caller_client: Client) -> bool:
        """A token issued under an agent grant is active only while the grant is; one
        carrying agent scopes without a grant was never approved on the consent page."""
        grant_id = oauth_tokens.token_grant_id(token)
        if grant_id is None or token.user is None:
            return not any(is_agent_scope(scope) for scope in token.get_scopes())
        grant = selectors.agent_grant_of_oauth_token(user=token.user, grant_id=grant_id)
        return grant is not None and grant.is_usable
