"""The MCP server: its tools, and how a call runs. A call is one of the API's requests:
the grant's scope is checked, then its rate limits (the API's own counters, so MCP and
REST share one allowance), then the tool runs; a refusal is a tool error (`isError`)
whose structured content is the API's error body, with the API's code.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import mcp_types as types
from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError
from rest_framework.exceptions import ParseError, Throttled

from apps.core import strict_json
from apps.core.api.permissions import require_scope
from apps.core.api.throttling import MONEY_MOVING, CallerRateThrottle
from apps.mcp_server import schemas, tools
from apps.mcp_server.auth import SCOPE_KEY, Caller
from apps.mcp_server.errors import error_body

logger = logging.getLogger(__name__)

# A JSON-RPC server error of GeraOS's (the range -32000 to -32099 is the implementation's):
# the grant's allowance is spent; its data is the API's `throttled` body.
THROTTLED = -32029

INSTRUCTIONS = (
    "GeraOS books, buys and pays for things for a user, each with a signed receipt. "
    "Find a skill (find_skills), resolve the user's request to a quote (resolve_intent), "
    "dispatch it with an idempotency key, poll get_dispatch until it is completed, failed, "
    "voided or rejected, then fetch and verify the receipt. Errors carry the GeraOS API's "
    "codes (e.g. consent_required, spend_limit_exceeded, quota_exceeded, scope_required)."
)


@dataclass(frozen=True)
class ToolSpec:
    tool: types.Tool
    run: Callable[[Caller, dict], tools.Result]
    scope: str | None = None  # the grant scope the API view requires
    moves_money: bool = False  # counted against the money-moving rate limit too


def _spec(name, title, description, schema, run, *, read_only, **rest) -> ToolSpec:
    annotations = types.ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=False,
        idempotent_hint=read_only or "idempotency_key" in schema["properties"],
    )
    tool = types.Tool(
        name=name, title=title, description=description, input_schema=schema,
        annotations=annotations,
    )  # fmt: skip
    return ToolSpec(tool=tool, run=run, **rest)


TOOLS = {
    spec.tool.name: spec
    for spec in [
        _spec(
            "find_skills",
            "Find skills",
            "List the skills GeraOS can dispatch (plumbing, a clinic visit, ...), filtered "
            "by capability and place. Each skill has the `input_schema` its `details` "
            "must match, its price from, and the payment rail per country.",
            schemas.FIND_SKILLS,
            tools.find_skills,
            read_only=True,
        ),
        _spec(
            "resolve_intent",
            "Resolve an intent to a quote",
            "A dry run: what dispatching would book, and for how much. Send the user's "
            "words as `text`, or a structured `intent`. Returns `intent` (how the request "
            "was read: correct it and send it back as `intent` if wrong), the `skill` "
            "(with its `input_schema`), the `provider` and a signed `quote` in local "
            "currency with the settlement amount. Nothing is booked.",
            schemas.RESOLVE_INTENT,
            tools.resolve_intent,
            read_only=True,
            scope="dispatch:create",
            moves_money=True,
        ),
        _spec(
            "dispatch",
            "Dispatch (book and pay)",
            "Book and pay for an intent: `text` or `intent` as for resolve_intent, plus "
            "`details` filled in by the skill's `input_schema`, and an `idempotency_key`. "
            "Spends the user's money within the grant's limits. Returns the order at once "
            "(status pending); poll get_dispatch for the outcome. Retrying with the same "
            "key never books twice.",
            schemas.DISPATCH,
            tools.dispatch,
            read_only=False,
            scope="dispatch:create",
            moves_money=True,
        ),
        _spec(
            "get_dispatch",
            "Get a dispatch",
            "Where a dispatch is: `status` (pending, authorizing, ..., completed; or "
            "failed, voided, rejected with a `failure`), its history, the provider's "
            "signed `confirmation`, the payment, and the `receipt` once issued.",
            schemas.GET_DISPATCH,
            tools.get_dispatch,
            read_only=True,
            scope="dispatch:read",
        ),
        _spec(
            "get_receipt",
            "Get a receipt",
            "A signed receipt: its payload, its compact JWS, its inclusion proof in the "
            "transparency log with the signed tree head, and `bundle`, which `python -m "
            "apps.trust.verify` checks offline against the keys at /.well-known/jwks.json. "
            "For a moment after issue its `log_status` is `sequenced`: no proof and no "
            "bundle yet, until `integrate_by` at the latest.",
            schemas.GET_RECEIPT,
            tools.get_receipt,
            read_only=True,
            scope="receipts:read",
        ),
        _spec(
            "verify_receipt",
            "Verify a receipt",
            "Check a receipt's JWS: signed by GeraOS's keys and present in its log. "
            "Returns `valid`, the `reason` and the payload.",
            schemas.VERIFY_RECEIPT,
            tools.verify_receipt,
            read_only=True,
        ),
        _spec(
            "read_memory",
            "Read memory",
            "Read what the user let the product you act for remember in a memory scope "
            "(needs the grant scope memory:read:<scope> and the user's consent). The user "
            "sees every read, with its purpose, in their access log.",
            schemas.READ_MEMORY,
            tools.read_memory,
            read_only=True,
        ),
        _spec(
            "write_memory",
            "Write memory",
            "Remember something for the user under a key in a memory scope, for the "
            "product you act for (needs memory:write:<scope> and the user's consent). "
            "Replaces what that product kept under the key.",
            schemas.WRITE_MEMORY,
            tools.write_memory,
            read_only=False,
        ),
        _spec(
            "open_dispute",
            "Open a dispute",
            "Dispute a charge on the user's behalf: the receipt, a `reason` and the "
            "user's account of it, with an `idempotency_key`. The provider must answer "
            "by `respond_by`.",
            schemas.OPEN_DISPUTE,
            tools.open_dispute,
            read_only=False,
            scope="disputes:create",
            moves_money=True,
        ),
    ]
}


def call(spec: ToolSpec, caller: Caller, arguments: dict) -> tools.Result:
    """One tool call, as a DRF view would run it: permission, throttles, the work."""
    caller = replace(caller, method="POST" if spec.moves_money else "GET")
    try:
        if spec.scope:
            require_scope(caller, spec.scope)
        _throttle(caller)
        status, body = spec.run(caller, _strict(arguments))
    except Exception as exc:  # noqa: BLE001 - rendered as the API renders it, never a crash
        status, body = error_body(exc)
    logger.info("mcp.tool %s grant=%s status=%s", spec.tool.name, caller.auth.pk, status)
    return status, json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def _throttle(caller: Caller, throttles=MONEY_MOVING) -> None:
    """The API view's throttles (per grant; money-moving tools count as POSTs)."""
    waits = [t.wait() for t in (cls() for cls in throttles) if not t.allow_request(caller, None)]
    if waits:
        raise Throttled(max(waits))


def _throttle_request(caller: Caller) -> dict | None:
    """The API's refusal body when the grant's general allowance is spent, else None."""
    try:
        _throttle(caller, [CallerRateThrottle])
    except Throttled as exc:
        return error_body(exc)[1]
    return None


async def throttled(ctx, call_next):
    """Every JSON-RPC request (initialize, tools/list, ping...) counts against the grant's
    general allowance, as every API request does; a tool call counts in `call`, which
    refuses it as a tool error. A refusal is a JSON-RPC error carrying the API's body."""
    if ctx.request_id is not None and ctx.method != "tools/call":
        caller = ctx.request.scope[SCOPE_KEY]
        refusal = await sync_to_async(_throttle_request, thread_sensitive=True)(caller)
        if refusal is not None:
            raise MCPError(code=THROTTLED, message=refusal["error"]["message"], data=refusal)
    return await call_next(ctx)


def _strict(arguments: dict) -> dict:
    """The arguments, held to what the API's parser holds a body to: the SDK admits a
    lone surrogate, which, stored, no answer could carry again."""
    try:
        return strict_json.checked(arguments)
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from exc


async def list_tools(ctx, params) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[spec.tool for spec in TOOLS.values()])


async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    spec = TOOLS.get(params.name)
    if spec is None:
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {params.name}")
    caller = ctx.request.scope[SCOPE_KEY]
    status, body = await sync_to_async(call, thread_sensitive=True)(
        spec, caller, params.arguments or {}
    )
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(body))],
        structured_content=body,
        is_error=status >= 400,
    )


def mcp_server() -> Server:
    server = Server(
        "geraos",
        version="1.0.0",
        title="GeraOS",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        # Mcp-Param headers are checked against this; without it the SDK lists every tool
        # again on each call to find the schema.
        get_tool_input_schema=_input_schema,
    )
    server.middleware.append(throttled)
    return server


def _input_schema(name: str) -> dict | None:
    spec = TOOLS.get(name)
    return spec.tool.input_schema if spec else None
