"""Tool calls in process (`server.call`), as the live server runs them: the API's
refusals and codes, its rate limits and its idempotency rule."""

import pytest
from django.test import Client
from djmoney.money import Money
from jsonschema import Draft202012Validator

from apps.core.api.throttling import CallerRateThrottle
from apps.core.idempotency import KEY_MAX_LENGTH
from apps.dispatch.models import DispatchOrder
from apps.mcp_server.auth import Caller
from apps.mcp_server.server import TOOLS, call
from apps.memory.models import MemoryItem
from apps.trust import integration
from apps.trust.models import Dispute
from tests.dispatch.conftest import ANYTIME, LEAK
from tests.factories import UserFactory, make_grant, make_receipt

pytestmark = pytest.mark.django_db

EVERY_SCOPE = ["dispatch:create", "dispatch:read", "receipts:read", "disputes:create"]
GENEROUS = {"per_action_limit": Money("200.00", "GBP"), "daily_limit": Money("200.00", "GBP")}


def agent(user=None, **grant) -> Caller:
    user = user or UserFactory(country="GB", preferred_currency="GBP")
    grant.setdefault("scopes", EVERY_SCOPE)
    made, _ = make_grant(user, **GENEROUS, **grant)
    return Caller(user=user, auth=made)


def tool(caller: Caller, name: str, **arguments):
    return call(TOOLS[name], caller, arguments)


def error_code(result) -> str:
    status, body = result
    assert status >= 400, body
    return body["error"]["code"]


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_each_tools_input_schema_is_a_json_schema(name):
    Draft202012Validator.check_schema(TOOLS[name].tool.input_schema)


def test_one_key_with_other_arguments_is_refused_and_books_nothing_more(catalog):
    caller = agent()
    tool(caller, "dispatch", text=ANYTIME, details=LEAK, idempotency_key="k")

    refused = tool(caller, "dispatch", text=ANYTIME, details={"problem": "x"}, idempotency_key="k")

    assert error_code(refused) == "idempotency_key_reuse"
    assert DispatchOrder.objects.count() == 1


def test_a_dispatch_needs_an_idempotency_key(catalog):
    assert error_code(tool(agent(), "dispatch", text=ANYTIME, details=LEAK)) == (
        "idempotency_key_required"
    )
    assert not DispatchOrder.objects.exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ({}, "Send an idempotency key."),
        ({"idempotency_key": 7}, "An idempotency key is a string."),
        (
            {"idempotency_key": "two words"},
            f"An idempotency key is 1 to {KEY_MAX_LENGTH} visible ASCII characters, "
            "without spaces.",
        ),
    ],
    ids=["missing", "not-a-string", "with-a-space"],
)
def test_a_refused_idempotency_key_is_explained_in_words(catalog, key, message):
    status, body = tool(agent(), "dispatch", text=ANYTIME, details=LEAK, **key)

    assert status == 400
    assert body["error"]["message"] == message


def test_details_the_skills_schema_refuses_are_refused(catalog):
    refused = tool(agent(), "dispatch", text=ANYTIME, details={}, idempotency_key="k")

    assert error_code(refused) == "invalid_details"


def test_an_mcp_key_and_an_api_key_of_the_same_text_are_two_bookings(catalog):
    user = UserFactory(country="GB", preferred_currency="GBP")
    grant, token = make_grant(user, scopes=EVERY_SCOPE, **GENEROUS)
    caller, token_client = (
        Caller(user=user, auth=grant),
        Client(HTTP_AUTHORIZATION=f"Bearer {token}"),
    )

    tool(caller, "dispatch", text=ANYTIME, details=LEAK, idempotency_key="same")
    token_client.post(
        "/api/v1/dispatches",
        {"text": ANYTIME, "details": LEAK},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="same",
    )

    assert DispatchOrder.objects.count() == 2


def test_another_agents_dispatch_is_not_found(catalog):
    caller = agent()
    _, order = tool(caller, "dispatch", text=ANYTIME, details=LEAK, idempotency_key="k")

    other = agent(caller.user)

    assert error_code(tool(other, "get_dispatch", dispatch_id=order["id"])) == "not_found"
    assert error_code(tool(caller, "get_dispatch", dispatch_id="not-a-uuid")) == (
        "validation_error"
    )


def test_without_the_scope_a_tool_is_refused_naming_it(catalog):
    reader = agent(scopes=["dispatch:read"])

    refused = tool(reader, "dispatch", text=ANYTIME, details=LEAK, idempotency_key="k")

    assert error_code(refused) == "scope_required"
    assert refused[1]["error"]["details"] == {"scope": "dispatch:create"}


def test_a_sensitive_memory_scope_needs_the_users_consent(catalog):
    caller = agent(scopes=["memory:read:health"])

    refused = tool(caller, "read_memory", product="geraclinic", scope="health")

    assert error_code(refused) == "consent_required"


def test_memory_written_is_read_back(catalog):
    caller = agent(scopes=["memory:read:preferences", "memory:write:preferences"])

    status, _ = tool(
        caller, "write_memory", product="gerahome", scope="preferences",
        kind="preference", key="plumber", value={"name": "Lagos Plumber A"},
    )  # fmt: skip
    _, read = tool(caller, "read_memory", product="gerahome", scope="preferences")

    assert status == 201
    assert [item["value"] for item in read["items"]] == [{"name": "Lagos Plumber A"}]


@pytest.mark.parametrize(
    "value",
    [{"name": "\ud800"}, {"\udfff": "Lagos Plumber A"}, {"rating": float("nan")}, 1e400],
    ids=["lone-surrogate", "lone-surrogate-in-a-name", "nan", "infinite"],
)
def test_arguments_no_one_could_read_back_are_refused_as_the_api_refuses_them(catalog, value):
    caller = agent(scopes=["memory:read:preferences", "memory:write:preferences"])

    refused = tool(
        caller, "write_memory", product="gerahome", scope="preferences",
        kind="preference", key="plumber", value=value,
    )  # fmt: skip

    assert refused[0] == 400
    assert error_code(refused) == "parse_error"
    assert not MemoryItem.objects.exists()


def test_a_dispute_opened_twice_with_one_key_is_one_dispute(
    catalog, django_capture_on_commit_callbacks
):
    caller = agent()
    with django_capture_on_commit_callbacks(execute=True):
        _, order = tool(caller, "dispatch", text=ANYTIME, details=LEAK, idempotency_key="k")
    _, order = tool(caller, "get_dispatch", dispatch_id=order["id"])
    opening = {"receipt_id": order["receipt"]["id"], "reason": "not_delivered"}

    first = tool(caller, "open_dispute", **opening, idempotency_key="d")
    again = tool(caller, "open_dispute", **opening, idempotency_key="d")

    assert first == again
    assert first[0] == 201
    assert Dispute.objects.count() == 1


def test_tool_calls_count_against_the_grants_api_allowance(catalog, monkeypatch):
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "3/min", "money": "2/min"})
    caller = agent()

    reads = [tool(caller, "find_skills")[0] for _ in range(3)]
    refused = tool(caller, "find_skills")

    assert reads == [200, 200, 200]
    assert error_code(refused) == "throttled"


def test_money_moving_tools_have_the_tighter_allowance(catalog, monkeypatch):
    monkeypatch.setattr(
        CallerRateThrottle, "THROTTLE_RATES", {"caller": "10/min", "money": "2/min"}
    )
    caller = agent()

    resolves = [tool(caller, "resolve_intent", text=ANYTIME)[0] for _ in range(2)]

    assert resolves == [200, 200]
    assert error_code(tool(caller, "resolve_intent", text=ANYTIME)) == "throttled"
    assert tool(caller, "find_skills")[0] == 200


def test_a_receipt_not_yet_in_a_checkpoint_comes_without_a_bundle_until_it_is():
    caller = agent()
    receipt = make_receipt(caller.user, integrated=False)

    status, sequenced = tool(caller, "get_receipt", receipt_id=str(receipt.pk))
    integration.integrate()
    _, integrated = tool(caller, "get_receipt", receipt_id=str(receipt.pk))

    assert status == 200
    assert (sequenced["log_status"], sequenced["bundle"]) == ("sequenced", None)
    assert sequenced["integrate_by"] is not None
    assert integrated["log_status"] == "integrated"
    assert integrated["bundle"]["inclusion_proof"]["log_index"] == receipt.log_index
