"""The MCP endpoint over HTTP, in process: who may call it, and the allowance every
JSON-RPC request counts against."""

import pytest

from apps.core.api.throttling import CallerRateThrottle
from tests.factories import UserFactory, make_grant

pytestmark = pytest.mark.django_db(transaction=True)

INITIALIZE = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "a test", "version": "1"},
}


def rpc(site, method: str, *, params=None, authorization: str) -> dict:
    answer = site.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}},
        headers={
            "Authorization": authorization,
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def bearer() -> str:
    _, token = make_grant(UserFactory())
    return f"Bearer {token}"


def test_every_json_rpc_request_counts_against_the_grants_api_allowance(site, monkeypatch):
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "3/min", "money": "2/min"})
    authorization = bearer()

    admitted = [
        rpc(site, "initialize", params=INITIALIZE, authorization=authorization),
        rpc(site, "tools/list", authorization=authorization),
        rpc(site, "ping", authorization=authorization),
    ]
    refused = rpc(site, "ping", authorization=authorization)

    assert all("result" in answer for answer in admitted)
    assert refused["error"]["data"]["error"]["code"] == "throttled"
    assert "throttled" in refused["error"]["message"]


def test_a_tool_call_and_the_other_requests_share_one_allowance(site, monkeypatch):
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "2/min", "money": "2/min"})
    authorization = bearer()
    rpc(site, "tools/list", authorization=authorization)
    rpc(site, "ping", authorization=authorization)

    refused = rpc(
        site, "tools/call", params={"name": "find_skills", "arguments": {}},
        authorization=authorization,
    )  # fmt: skip

    assert refused["result"]["isError"] is True
    assert refused["result"]["structuredContent"]["error"]["code"] == "throttled"
