"""Who calls /mcp: a bearer token, checked as the API checks it, before the MCP SDK sees
the request. /mcp is an OAuth protected resource (RFC 9728): its metadata names GeraOS
as the authorization server, and a refusal is a 401 whose WWW-Authenticate points there.
"""

import io
import json
from dataclasses import dataclass

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from apps.identity.authentication import AgentTokenAuthentication
from apps.identity.models import AgentGrant, User
from apps.identity.scopes import FIXED_SCOPES
from apps.mcp_server.errors import error_body

RESOURCE_PATH = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource" + RESOURCE_PATH
SCOPE_KEY = "geraos.caller"


@dataclass(frozen=True)
class Caller:
    """Who calls a tool, shaped as the API's helpers read a request (`user`, `auth`), so
    scope checks, throttles and idempotency keys see the same caller as over the API."""

    user: User
    auth: AgentGrant
    method: str = "POST"


def identify(request: HttpRequest) -> tuple[User, AgentGrant] | None:
    """The one place a request's bearer token becomes the user and the grant it acts
    under: the API's own bearer check, a `gera_` token or an OAuth access token alike
    (`identity.bearer.agent_for_bearer`: same refusals, same last-used stamp).
    None without a bearer token; AuthenticationFailed (token_invalid, token_revoked,
    token_expired)."""
    return AgentTokenAuthentication().authenticate(request)


def django_request(scope) -> HttpRequest:
    """The request as Django sees it (headers, host, scheme), without its body."""
    return ASGIRequest(scope, io.BytesIO())


def site_url(scope, path: str = "") -> str:
    """An absolute URL on this site as Django builds it for the request (its host checked
    against ALLOWED_HOSTS, https behind the TLS proxy): the issuer allauth publishes is
    built the same way."""
    return django_request(scope).build_absolute_uri(path or "/").rstrip("/")


def metadata_url(scope) -> str:
    return site_url(scope, METADATA_PATH)


def protected_resource_metadata(scope) -> dict:
    """RFC 9728 metadata of /mcp. The memory scopes (`memory:read:<scope>`,
    `memory:write:<scope>`) are per memory scope and not listed."""
    return {
        "resource": site_url(scope, RESOURCE_PATH),
        "authorization_servers": [site_url(scope)],
        "scopes_supported": list(FIXED_SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "GeraOS",
    }


class BearerGate:
    """Runs `app` for a request whose bearer token identifies an agent, with `Caller`
    in the ASGI scope under SCOPE_KEY; answers anything else 401.

    Each request is one of Django's request cycles: its own thread for the ORM (the
    ThreadSensitiveContext, as Django's ASGI handler makes one per request) and the
    request_started / request_finished signals around it, which close the database
    connections Django would close."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async with ThreadSensitiveContext():
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            try:
                await self._gate(scope, receive, send)
            finally:
                await signals.request_finished.asend(sender=self.__class__)

    async def _gate(self, scope, receive, send) -> None:
        try:
            found = await sync_to_async(identify, thread_sensitive=True)(django_request(scope))
            if found is None:
                raise NotAuthenticated()
        except (AuthenticationFailed, NotAuthenticated) as refusal:
            await _refuse(scope, send, refusal)
            return
        except Exception as exc:  # noqa: BLE001 - a database error: the API's 500, not a crash
            await send_json(send, *error_body(exc))
            return
        user, grant = found
        await self.app({**scope, SCOPE_KEY: Caller(user=user, auth=grant)}, receive, send)


async def _refuse(scope, send, refusal) -> None:
    """401 with the API's error body and RFC 6750/9728's challenge: where to get a token,
    and, when a bearer token was sent and refused (AuthenticationFailed), why. Without
    one (none sent, or credentials of another scheme) the challenge names no error code
    (RFC 6750 3.1)."""
    status, body = error_body(refusal)
    challenge = f'Bearer resource_metadata="{metadata_url(scope)}"'
    if isinstance(refusal, AuthenticationFailed):
        message = body["error"]["message"].replace('"', "'")
        challenge += f', error="invalid_token", error_description="{message}"'
    await send_json(send, status, body, headers=[(b"www-authenticate", challenge.encode())])


async def send_json(send, status: int, body: dict, *, headers=()) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
