"""The load test's agents and yardstick, in-process; `make loadtest` runs the whole harness."""

import pytest
from django.test import Client, override_settings

from loadtest.agents import agents_create
from loadtest.plan import BARE, DISPATCH, MEMORY, PLUMBER
from tests.factories import make_grant

pytestmark = pytest.mark.django_db


def calling_as(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_each_agent_books_the_plumber_and_reads_its_memory_as_a_person_of_its_own(catalog):
    people = set()

    for token in agents_create(count=2):
        agent = calling_as(token)
        booked = agent.post(
            DISPATCH, PLUMBER, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
        )
        memory = agent.get(MEMORY, {"product": "gerahome", "scope": "home"})

        assert booked.status_code == 202, booked.content
        assert memory.status_code == 200, memory.content
        assert {item["key"] for item in memory.json()["items"]} == {"boiler", "last_plumber"}
        me = agent.get("/api/v1/me").json()
        assert me["plan"]["code"] == "studio"
        people.add(me["user"]["email"])
    assert len(people) == 2


@override_settings(ROOT_URLCONF="loadtest.urls")
def test_the_yardstick_checks_the_token_and_the_dispatch_scope_like_dispatching(user):
    _, dispatcher = make_grant(user)
    _, reader = make_grant(user, scopes=["dispatch:read"])

    answered = calling_as(dispatcher).post(BARE, {}, content_type="application/json")
    refused = calling_as(reader).post(BARE, {}, content_type="application/json")
    anonymous = Client().post(BARE, {}, content_type="application/json")

    assert answered.json() == {"ok": True}
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "scope_required"
    assert anonymous.status_code == 401
