"""The memory API for agents: grant scope AND user consent, every call logged."""

import pytest
from django.test import Client

from apps.memory import services
from apps.memory.models import AccessLogEntry, MemoryItem
from tests.factories import make_grant

pytestmark = pytest.mark.django_db


def agent(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def read(client, product="gerahome", scope="home"):
    return client.get("/api/v1/memory", {"product": product, "scope": scope, "purpose": "booking"})


def test_agent_writes_then_reads_its_own_items(memory_agent, gerahome):
    _, token = memory_agent
    client = agent(token)

    created = client.post(
        "/api/v1/memory",
        {
            "product": "gerahome",
            "scope": "home",
            "kind": "preference",
            "key": "boiler",
            "value": {"make": "Vaillant"},
        },
        content_type="application/json",
    )
    body = read(client).json()

    assert created.status_code == 201
    assert body["items"][0]["value"] == {"make": "Vaillant"}
    assert body["items"][0]["written_by"] == "gerahome"


def test_refused_read_names_product_and_scope_and_is_logged(memory_agent, geraclinic):
    _, token = memory_agent

    response = read(agent(token), product="geraclinic", scope="health")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "consent_required"
    assert error["details"] == {"product": "geraclinic", "scope": "health", "action": "read"}
    entry = AccessLogEntry.objects.get()
    assert (entry.allowed, entry.agent_grant_id) == (False, memory_agent[0].pk)


def test_revoked_consent_denies_the_very_next_read(user, memory_agent, geraclinic, scope):
    _, token = memory_agent
    client = agent(token)
    services.consent_set(user=user, product=geraclinic, scope=scope("health"), allow=True)
    assert read(client, "geraclinic", "health").status_code == 200

    services.consent_set(user=user, product=geraclinic, scope=scope("health"), allow=False)

    assert read(client, "geraclinic", "health").status_code == 403


def test_missing_grant_scope_is_refused_even_with_consent(user, gerahome, scope):
    _, token = make_grant(user, scopes=["memory:read:preferences"])
    services.consent_set(user=user, product=gerahome, scope=scope("home"), allow=True)

    response = read(agent(token))

    assert response.status_code == 403
    assert response.json()["error"]["details"] == {"scope": "memory:read:home"}


def test_conversation_summaries_are_appended(memory_agent, gerahome):
    _, token = memory_agent
    client = agent(token)

    for text in ("Booked a plumber for Tuesday.", "Asked about boiler servicing."):
        response = client.post(
            "/api/v1/memory/conversations",
            {"product": "gerahome", "summary": text},
            content_type="application/json",
        )
        assert response.status_code == 201

    body = read(client, scope="conversations").json()
    assert sorted(i["value"]["summary"] for i in body["items"]) == [
        "Asked about boiler servicing.",
        "Booked a plumber for Tuesday.",
    ]


def test_unknown_product_or_scope_is_a_validation_error(memory_agent):
    _, token = memory_agent

    response = read(agent(token), product="nope", scope="nope")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"product", "scope"}


def test_people_use_the_pages_not_the_memory_api(user_client, gerahome):
    response = read(user_client)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "agent_required"


def test_agent_of_one_user_never_reads_another_users_memory(
    memory_agent, other_user, gerahome, scope
):
    services.memory_write(
        user=other_user,
        product=gerahome,
        scope=scope("home"),
        kind="preference",
        key="theirs",
        value={"x": 1},
    )
    _, token = memory_agent

    body = read(agent(token)).json()

    assert body["items"] == []
    assert MemoryItem.objects.count() == 1


@pytest.mark.parametrize("field", ["product", "scope"])
def test_a_nul_byte_in_a_code_is_a_400_not_a_database_error(memory_agent, gerahome, field):
    body = {"product": "gerahome", "scope": "home", "kind": "preference", "key": "k", "value": 1}

    response = agent(memory_agent[1]).post(
        "/api/v1/memory", {**body, field: "home\x00"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_value_larger_than_memory_keeps_is_a_400(memory_agent, gerahome):
    _, token = memory_agent

    response = agent(token).post(
        "/api/v1/memory",
        {
            "product": "gerahome",
            "scope": "home",
            "kind": "preference",
            "key": "big",
            "value": "x" * 20_000,
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "value_too_large"
    assert not MemoryItem.objects.exists()
