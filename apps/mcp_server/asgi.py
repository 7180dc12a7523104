"""/mcp beside Django in one ASGI application (geraos/asgi.py).

The MCP transport is Streamable HTTP, stateless, answering JSON: each POST is served
whole by the process that receives it, with no session kept in memory, so any number of
web processes behind any balancer serve it (a stateful session lives in one process, and
its next request reaching another would be refused). Statelessness costs server-to-client
requests and streams, which no tool needs: /mcp answers POST only.
"""

from django.core.exceptions import DisallowedHost
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from rest_framework.exceptions import MethodNotAllowed
from starlette.applications import Starlette
from starlette.routing import Route

from apps.mcp_server.auth import (
    METADATA_PATH,
    RESOURCE_PATH,
    BearerGate,
    django_request,
    protected_resource_metadata,
    send_json,
)
from apps.mcp_server.errors import error_body
from apps.mcp_server.server import mcp_server

UNKNOWN_HOST = {
    "error": {"code": "bad_request", "message": "This site does not serve that host.", "fields": {}}
}
MCP_PATHS = {RESOURCE_PATH, METADATA_PATH}


def with_mcp(django_application):
    """The site: MCP's paths to the MCP app, lifespan events to it too (Django has
    none), everything else to Django."""
    mcp_application = _mcp_application()

    async def site(scope, receive, send) -> None:
        if scope["type"] == "lifespan" or scope.get("path") in MCP_PATHS:
            await mcp_application(scope, receive, send)
        else:
            await django_application(scope, receive, send)

    return site


def _mcp_application() -> Starlette:
    sessions = StreamableHTTPSessionManager(
        app=mcp_server(),
        stateless=True,
        json_response=True,
        # The SDK's DNS-rebinding guard knows only its own list of hosts: Django's
        # ALLOWED_HOSTS rule applies instead (_HostChecked), as on every other path.
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return Starlette(
        routes=[
            Route(
                RESOURCE_PATH,
                _HostChecked(BearerGate(_PostOnly(StreamableHTTPASGIApp(sessions)))),
            ),
            # Only at the URL naming /mcp (RFC 9728 3.3: the resource must be the one the
            # document was asked for), not at the bare well-known URL.
            Route(METADATA_PATH, _HostChecked(_metadata), methods=["GET"]),
        ],
        lifespan=lambda _: sessions.run(),
    )


class _HostChecked:
    """Refuses a Host that Django would refuse (400), before anything else runs."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        try:
            django_request(scope).get_host()
        except DisallowedHost:
            await send_json(send, 400, UNKNOWN_HOST)
            return
        await self.app(scope, receive, send)


class _PostOnly:
    """405 but to a POST, after the caller is known (as an API view answers): stateless,
    the server has no stream to offer on GET (the SDK answered 200 and kept an empty one
    open) and no session to end on DELETE."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["method"] != "POST":
            status, body = error_body(MethodNotAllowed(scope["method"]))
            await send_json(send, status, body, headers=[(b"allow", b"POST")])
            return
        await self.app(scope, receive, send)


async def _metadata(scope, receive, send) -> None:
    await send_json(send, 200, protected_resource_metadata(scope))
