"""The MCP server over real HTTP, with the official MCP client, against a live server:
the plumber booked end to end, and what it refuses."""

import json
import subprocess
import sys

import httpx2
import pytest
from django.core.management import call_command
from djmoney.money import Money

from apps.dispatch.models import DispatchOrder
from apps.identity import services as identity_services
from tests.dispatch.conftest import ANYTIME, LEAK
from tests.factories import UserFactory, make_grant
from tests.mcp_server.conftest import ROOT, mcp_session, requires_postgresql, run
from tests.test_demo import load_demo_agent

pytestmark = [pytest.mark.django_db(transaction=True), requires_postgresql]

TOOLS = {
    "find_skills",
    "resolve_intent",
    "dispatch",
    "get_dispatch",
    "get_receipt",
    "verify_receipt",
    "read_memory",
    "write_memory",
    "open_dispute",
}
FINISHED = {"completed", "failed", "voided", "rejected"}


@pytest.fixture
def agent_token(catalog) -> str:
    user = UserFactory(country="GB", preferred_currency="GBP")
    _, token = make_grant(
        user, scopes=["dispatch:create", "dispatch:read", "receipts:read", "memory:read:home"]
    )
    return token


async def plumber_scenario(base_url: str, token: str, mode: str) -> dict:
    seen: dict = {}
    async with mcp_session(base_url, token, mode) as client:
        seen["tools"] = {tool.name: tool for tool in (await client.list_tools()).tools}
        found = await client.call_tool("find_skills", {"capability": "home.plumbing"})
        seen["skills"] = found.structured_content["skills"]
        resolved = await client.call_tool("resolve_intent", {"text": ANYTIME})
        seen["resolved"] = resolved.structured_content
        booking = {"intent": seen["resolved"]["intent"], "details": LEAK, "idempotency_key": "k-1"}
        first = await client.call_tool("dispatch", booking)
        retried = await client.call_tool("dispatch", booking)
        seen["dispatched"] = [first.structured_content, retried.structured_content]
        order_id = first.structured_content["id"]
        for _ in range(120):
            order = await client.call_tool("get_dispatch", {"dispatch_id": order_id})
            if (
                order.structured_content["status"] in FINISHED
                and order.structured_content["receipt"]
            ):
                break
        seen["order"] = order.structured_content
        receipt_id = seen["order"]["receipt"]["id"]
        seen["receipt"] = (
            await client.call_tool("get_receipt", {"receipt_id": receipt_id})
        ).structured_content
        verified = await client.call_tool("verify_receipt", {"jws": seen["receipt"]["jws"]})
        seen["verified"] = verified.structured_content
    return seen


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # the 2026-07-28 wire, and the handshake
def test_an_agent_books_the_plumber_over_mcp_and_verifies_the_receipt(
    live_site, agent_token, mode, tmp_path
):
    seen = run(plumber_scenario(live_site, agent_token, mode))

    assert set(seen["tools"]) == TOOLS
    assert seen["tools"]["dispatch"].input_schema["required"] == ["idempotency_key"]
    assert seen["skills"][0]["input_schema"]["required"] == ["problem"]
    assert seen["resolved"]["provider"]["name"] == "Lagos Plumber A"
    assert seen["resolved"]["intent"]["capability"] == "home.plumbing"
    first, retried = seen["dispatched"]
    assert first["id"] == retried["id"]
    assert DispatchOrder.objects.count() == 1
    assert seen["order"]["status"] == "completed"
    assert seen["verified"]["valid"] is True
    jwks = httpx2.get(f"{live_site}/.well-known/jwks.json").json()  # Django, beside MCP
    assert verified_offline(tmp_path, seen["receipt"]["bundle"], jwks).returncode == 0


def verified_offline(folder, bundle: dict, jwks: dict) -> subprocess.CompletedProcess:
    (folder / "receipt.json").write_text(json.dumps(bundle))
    (folder / "jwks.json").write_text(json.dumps(jwks))
    return subprocess.run(  # noqa: S603 - our verifier, our files
        [sys.executable, "-m", "apps.trust.verify", str(folder / "receipt.json"),
         "--jwks", str(folder / "jwks.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_without_a_token_mcp_answers_401_naming_its_protected_resource_metadata(live_site):
    refused = httpx2.post(f"{live_site}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})

    metadata_url = f"{live_site}/.well-known/oauth-protected-resource/mcp"
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata_url}"'
    assert refused.json()["error"]["code"] == "not_authenticated"
    metadata = httpx2.get(metadata_url).json()
    assert metadata["resource"] == f"{live_site}/mcp"
    assert metadata["authorization_servers"] == [live_site]
    assert "dispatch:create" in metadata["scopes_supported"]


def test_the_metadata_is_served_only_at_the_url_that_names_its_resource(live_site):
    """RFC 9728 3.3: the resource a metadata document names is the one its URL names."""
    named = httpx2.get(f"{live_site}/.well-known/oauth-protected-resource/mcp")
    unnamed = httpx2.get(f"{live_site}/.well-known/oauth-protected-resource")

    assert named.json()["resource"] == f"{live_site}/mcp"
    assert unnamed.status_code == 404


def test_a_revoked_grants_token_is_refused_with_the_apis_code(live_site, catalog):
    user = UserFactory()
    grant, token = make_grant(user)
    identity_services.agent_grant_revoke(grant=grant)

    refused = httpx2.post(
        f"{live_site}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert refused.json()["error"]["code"] == "token_revoked"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_only_post_is_served_as_a_stateless_server_keeps_no_stream_nor_session(
    live_site, agent_token, method
):
    answered = httpx2.request(
        method,
        f"{live_site}/mcp",
        headers={"Authorization": f"Bearer {agent_token}", "Accept": "text/event-stream"},
        timeout=5,
    )

    assert answered.status_code == 405
    assert answered.headers["Allow"] == "POST"
    assert answered.json()["error"]["code"] == "method_not_allowed"


async def call_one(base_url: str, token: str, tool: str, arguments: dict):
    async with mcp_session(base_url, token) as client:
        return await client.call_tool(tool, arguments)


def test_a_dispatch_over_the_spend_limit_is_a_tool_error_with_the_apis_code(live_site, catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    _, token = make_grant(user, per_action_limit=Money("5.00", "GBP"))

    result = run(
        call_one(
            live_site, token, "dispatch", {"text": ANYTIME, "details": LEAK, "idempotency_key": "k"}
        )
    )

    assert result.is_error
    assert result.structured_content["error"]["code"] == "spend_limit_exceeded"
    assert not DispatchOrder.objects.exists()


def test_reading_memory_outside_the_grants_scopes_is_refused(live_site, agent_token):
    result = run(
        call_one(
            live_site, agent_token, "read_memory", {"product": "gerahome", "scope": "preferences"}
        )
    )

    assert result.is_error
    error = result.structured_content["error"]
    assert (error["code"], error["details"]) == (
        "scope_required",
        {"scope": "memory:read:preferences"},
    )


def test_the_demo_books_the_plumber_over_mcp(live_site, capsys):
    call_command("seed_demo")
    demo_agent = load_demo_agent()

    outcome = run(demo_agent.mcp_story(live_site))

    printed = capsys.readouterr().out
    assert outcome == 0, printed
    assert "not a second booking" in printed
    assert "get_dispatch: completed" in printed
    assert "verify_receipt: valid True" in printed
    assert "valid: receipt" in printed
