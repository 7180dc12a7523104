"""Authorization and device codes: the grant each was approved with, and codes used once.

allauth keeps a code in the cache until it is redeemed and refuses it afterwards. A code
presented a second time by the client it was issued to means it leaked (RFC 6749,
4.1.2): the tokens issued from it are revoked (an agent's grant with them). Only that
client counts, proven as the token endpoint proves it (its secret, or for a public client
the PKCE verifier matching the code's challenge): anyone else who saw the code is sent to
allauth, which refuses them, and marks nothing, so they can neither revoke the person's
grant nor spoil the client's own redemption. Two redemptions by the client may run at
once, so each writes before it reads: the second marks the code replayed and then looks
for what the first issued; the first records what it issued and then looks for the mark.
One of the two sees the other.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

from allauth.idp.oidc import app_settings
from allauth.idp.oidc.internal.oauthlib import authorization_codes
from allauth.idp.oidc.models import Client
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

from apps.identity import oauth_tokens, services
from apps.identity.models import AgentGrant
from apps.identity.oidc.clients import authenticated_client

# How long a redeemed code is remembered, to recognise it presented again.
REPLAY_MEMORY_SECONDS = 3600
REPLAY_REASON = "its authorization code was presented twice"

Issue = Callable[[HttpRequest, AgentGrant | None], HttpResponse]


def _key(kind: str, code: str) -> str:
    return f"geraos.oidc.{kind}[{hashlib.sha256(code.encode()).hexdigest()}]"


def remember_grant(*, code: str, grant: AgentGrant) -> None:
    """The grant the person approved with this authorization code."""
    timeout = app_settings.AUTHORIZATION_CODE_EXPIRES_IN
    cache.set(_key("code-grant", code), str(grant.pk), timeout=timeout)


def remember_device_grant(*, device_code: str, grant: AgentGrant) -> None:
    timeout = app_settings.DEVICE_CODE_EXPIRES_IN
    cache.set(_key("device-grant", device_code), str(grant.pk), timeout=timeout)


def device_grant(device_code: str) -> AgentGrant | None:
    return _grant(cache.get(_key("device-grant", device_code)))


def redeem(request: HttpRequest, issue: Issue) -> HttpResponse:
    """Issue tokens for the code in `request` (through `issue`), once."""
    code = request.POST.get("code", "")
    claim = _claim(request, code) if code else None
    if claim is None:
        return issue(request, None)  # allauth refuses it: no code, or not its client's
    if not cache.add(_key("claimed", code), claim, timeout=REPLAY_MEMORY_SECONDS):
        cache.set(_key("replayed", code), True, timeout=REPLAY_MEMORY_SECONDS)
        _revoke(cache.get(_key("issued", code)))
        return _used_twice()
    response = issue(request, _grant(cache.get(_key("code-grant", code))))
    if response.status_code != 200:
        cache.delete(_key("claimed", code))  # refused: the code stands as allauth left it
        return response
    issued = _issued_by(response)
    cache.set(_key("issued", code), issued, timeout=REPLAY_MEMORY_SECONDS)
    if cache.get(_key("replayed", code)):
        _revoke(issued)
        return _used_twice()
    return response


def _claim(request: HttpRequest, code: str) -> dict | None:
    """What is known of the code, if the request is proven to come from the client it was
    issued to; None for anyone else."""
    client = authenticated_client(request)
    known = _known(client.id, code) if client else None
    if known is None:
        return None
    if client.type == Client.Type.PUBLIC:
        verifier = request.POST.get("code_verifier", "")
        return known if _verifies(verifier, known["challenge"]) else None
    return known  # a confidential client proved itself with its secret


def _known(client_id: str, code: str) -> dict | None:
    """The code as issued to this client: allauth's record until it is redeemed, the claim
    recorded then after."""
    issued = authorization_codes.lookup(client_id, code)
    if issued is not None:
        return {"client": client_id, "challenge": (issued.get("pkce") or {}).get("code_challenge")}
    claimed = cache.get(_key("claimed", code))
    return claimed if isinstance(claimed, dict) and claimed["client"] == client_id else None


def _verifies(verifier: str, challenge: str | None) -> bool:
    """PKCE's S256 (the only method the authorization endpoint takes)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return bool(challenge) and hmac.compare_digest(computed, challenge)


def _grant(grant_id: str | None) -> AgentGrant | None:
    return AgentGrant.objects.filter(pk=grant_id).first() if grant_id else None


def _issued_by(response: HttpResponse) -> dict:
    token = oauth_tokens.access_token_get(value=_json(response)["access_token"])
    return {
        "user": token.user_id,
        "client": token.client_id,
        "grant": oauth_tokens.token_grant_id(token),
    }


def _revoke(issued: dict | None) -> None:
    if not issued:
        return  # the first redemption has not issued yet; it will see the mark
    grant = _grant(issued["grant"])
    if grant is not None:
        services.agent_grant_revoke(grant=grant, reason=REPLAY_REASON)
    else:
        oauth_tokens.tokens_end_for_client(user_id=issued["user"], client_id=issued["client"])


def _used_twice() -> HttpResponse:
    return oauth_error("invalid_grant", "This authorization code was already used.")


def _json(response: HttpResponse) -> dict:
    return json.loads(response.content)


def oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    """An error as the token endpoint answers one (RFC 6749, 5.2)."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response
