"""The MCP endpoint over HTTP, in process: who may call it, and the allowance every
JSON-RPC request counts against."""

import pytest
from django.db import OperationalError

from apps.core.api.throttling import CallerRateThrottle
from apps.mcp_server import auth
from tests.factories import UserFactory, make_grant

pytestmark = pytest.mark.django_db(transaction=True)

METADATA_URL = "http://testserver/.well-known/oauth-protected-resource/mcp"
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


def test_credentials_of_another_scheme_get_a_challenge_without_an_error_code(site):
    """RFC 6750 3.1: no error code when the request carried no bearer token."""
    refused = site.post("/mcp", json={}, headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{METADATA_URL}"'
    assert refused.json()["error"]["code"] == "not_authenticated"


def test_a_refused_bearer_token_gets_invalid_token(site):
    refused = site.post("/mcp", json={}, headers={"Authorization": "Bearer gera_not_a_token"})

    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_database_error_while_identifying_the_caller_is_the_apis_json_error(site, monkeypatch):
    def database_down(request):
        raise OperationalError("the database went away")

    monkeypatch.setattr(auth, "identify", database_down)

    failed = site.post("/mcp", json={}, headers={"Authorization": bearer()})

    assert failed.status_code == 500
    assert failed.headers["Content-Type"] == "application/json"
    assert failed.json()["error"]["code"] == "error"
    assert "database" not in failed.json()["error"]["message"]
