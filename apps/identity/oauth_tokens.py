"""The OAuth tokens an agent grant acts through: allauth.idp.oidc's Token rows.

A token issued under a grant names it in its data, never lives past it, and ends when
the grant is revoked: it is expired rather than deleted, so every endpoint of the
provider refuses it as allauth refuses any expired token, and the API can still say
that its grant was revoked.
"""

from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Token
from django.utils import timezone

from apps.identity.models import AgentGrant

GRANT_KEY = "agent_grant"
GRANT_TOKEN_TYPES = (Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN)


def tokens_bind(*, grant: AgentGrant, values: list[str]) -> None:
    """Name `grant` in the tokens just issued with these values, and cut their lifetime
    to the grant's."""
    hashes = [get_adapter().hash_token(value) for value in values]
    for token in Token.objects.filter(hash__in=hashes, type__in=GRANT_TOKEN_TYPES):
        token.data = {**(token.data or {}), GRANT_KEY: str(grant.pk)}
        if token.expires_at is None or token.expires_at > grant.expires_at:
            token.expires_at = grant.expires_at
        token.save(update_fields=["data", "expires_at"])


def grant_lock_usable(*, grant_id) -> AgentGrant | None:
    """The grant, locked until the transaction ends, if it is neither revoked nor expired.
    Tokens issued and bound under the lock are seen by its revoke (which takes it too)."""
    grant = AgentGrant.objects.select_for_update(of=("self",)).filter(pk=grant_id).first()
    return grant if grant is not None and grant.is_usable else None


def tokens_end(*, grant: AgentGrant) -> int:
    """Expire every token still alive under `grant`; how many there were."""
    now = timezone.now()
    alive = Token.objects.filter(
        user=grant.user_id, client=grant.oauth_client_id, type__in=GRANT_TOKEN_TYPES
    ).filter(**{f"data__{GRANT_KEY}": str(grant.pk)})
    return alive.exclude(expires_at__lte=now).update(expires_at=now)


def tokens_end_for_client(*, user_id: int, client_id: str) -> int:
    """Expire every token a client holds for a person (a code it redeemed leaked)."""
    now = timezone.now()
    alive = Token.objects.filter(user=user_id, client=client_id, type__in=GRANT_TOKEN_TYPES)
    return alive.exclude(expires_at__lte=now).update(expires_at=now)


def issued_to_another(*, value: str, client_id: str) -> bool:
    """Whether the access or refresh token with this value is another client's."""
    found = Token.objects.by_value(value).filter(type__in=GRANT_TOKEN_TYPES)
    return found.exclude(client=client_id).exists()


def token_grant_id(token: Token) -> str | None:
    """The grant a token was issued under, if any."""
    return (token.data or {}).get(GRANT_KEY) if isinstance(token.data, dict) else None


def access_token_get(*, value: str) -> Token | None:
    """The access token with this value, expired or not (to say why it is refused)."""
    found = Token.objects.by_value(value).filter(type=Token.Type.ACCESS_TOKEN)
    return found.select_related("user").first()


def refresh_token_get(*, value: str) -> Token | None:
    return Token.objects.by_value(value).filter(type=Token.Type.REFRESH_TOKEN).first()
