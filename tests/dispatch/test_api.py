"""POST/GET /api/v1/dispatches: refusals come before money, replays change nothing,
and nobody sees another's orders."""

import pytest
from djmoney.money import Money

from apps.catalog.models import Skill
from apps.dispatch.models import DispatchOrder, DispatchTransition
from apps.identity.models import Feature, PlanEntitlement
from apps.memory import services as memory_services
from apps.memory.models import MemoryScope
from apps.payments.models import Payment, Quote
from tests.dispatch.conftest import Agent
from tests.factories import UserFactory, product
from tests.helpers import stored_row

pytestmark = pytest.mark.django_db


def generous(agent: Agent) -> Agent:
    limit = Money("200.00", "GBP")
    return Agent(agent.user, on_commit=agent.on_commit, per_action_limit=limit, daily_limit=limit)


def assert_nothing_happened():
    assert not Payment.objects.exists()
    assert not Quote.objects.exists()
    assert not DispatchOrder.objects.exists()


def test_without_the_dispatch_scope_the_agent_is_refused(agent):
    reader = Agent(agent.user, scopes=["dispatch:read"])

    response = reader.dispatch()

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_required"
    assert_nothing_happened()


def test_over_the_grants_per_action_limit_is_refused(agent):
    frugal = Agent(agent.user, per_action_limit=Money("10.00", "GBP"))

    response = frugal.dispatch()

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "spend_limit_exceeded"
    assert_nothing_happened()


def test_without_dispatches_left_on_the_plan_it_is_refused(agent):
    PlanEntitlement.objects.filter(plan__code="free", feature=Feature.DISPATCHES).update(quota=0)

    response = agent.dispatch()

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert_nothing_happened()


def test_without_consent_to_the_memory_the_skill_reads_it_is_refused(agent):
    memory_services.consent_set(
        user=agent.user,
        product=product("gerahome"),
        scope=MemoryScope.objects.get(code="home"),
        allow=False,
    )

    response = agent.dispatch()

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "consent_required"
    assert error["details"] == {"product": "gerahome", "scope": "home", "action": "read"}
    assert_nothing_happened()


def test_details_that_do_not_fit_the_skill_schema_are_a_400(agent):
    response = agent.dispatch(details={"address_area": "Ikoyi"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_details"
    assert "'problem' is a required property" in error["fields"]["details"][0]
    assert_nothing_happened()


def test_details_refused_by_the_schema_are_not_echoed_in_the_error(agent):
    Skill.objects.filter(capability="home.plumbing").update(
        input_schema={
            "type": "object",
            "properties": {
                "problem": {"type": "string", "maxLength": 20},
                "address_area": {"type": "string"},
                "floor": {"enum": ["ground", "upper"]},
            },
            "required": ["problem", "when"],
            "additionalProperties": False,
        }
    )
    address = {"street": "14 Ngong Road, Kilimani"}
    problem = "Burst pipe under the sink of Wanjiru Kamau"

    details = {"problem": problem, "address_area": address, "floor": "4B", "phone": "254711223344"}

    response = agent.dispatch(details=details)

    assert response.status_code == 400
    body = response.content.decode()
    assert [text for text in ("Ngong Road", "Wanjiru", "4B", "2547") if text in body] == []
    assert response.json()["error"]["fields"] == {
        "details": ["'when' is a required property"],
        "details.phone": ["is not allowed"],
        "details.address_area": ["must be of type string"],
        "details.floor": ['must be one of ["ground", "upper"]'],
        "details.problem": ["must be at most 20 characters long"],
    }
    assert_nothing_happened()


def test_a_dispatch_needs_an_idempotency_key(agent):
    response = agent.client.post(
        "/api/v1/dispatches", {"text": "plumber"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_a_retried_dispatch_is_one_order_and_one_payment(agent):
    first = agent.dispatch(key="same")
    again = agent.dispatch(key="same")

    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert DispatchOrder.objects.count() == 1
    assert Payment.objects.count() == 1


def test_the_same_key_with_another_intent_is_refused(agent):
    agent.dispatch(key="same")

    response = agent.dispatch(key="same", text="book an electrician in Lagos tomorrow morning")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reuse"


def test_a_structured_intent_is_dispatched_as_sent(agent):
    agent = generous(agent)
    intent = agent.client.post(
        "/api/v1/intents/resolve",
        {"text": "plumber in Lagos under £70 tomorrow"},
        content_type="application/json",
    ).json()["intent"]
    intent["window"]["start"] = intent["window"]["start"].replace("T08:00", "T14:00")

    response = agent.post(
        "/api/v1/dispatches",
        {"intent": intent, "details": {"problem": "Boiler"}},
        HTTP_IDEMPOTENCY_KEY="structured",
    )

    assert response.status_code == 202, response.content
    assert response.json()["provider"]["name"] == "Lagos Plumber B"  # afternoons only


def test_text_and_intent_together_are_a_400(agent):
    response = agent.post(
        "/api/v1/dispatches",
        {"text": "plumber", "intent": {"capability": "home.plumbing", "location": {"city": "X"}}},
        HTTP_IDEMPOTENCY_KEY="both",
    )

    assert response.status_code == 400


def test_another_users_dispatch_is_a_404(agent):
    order_id = agent.dispatch().json()["id"]
    stranger = Agent(UserFactory())

    assert stranger.get(f"/api/v1/dispatches/{order_id}").status_code == 404
    assert stranger.get("/api/v1/dispatches").json() == []


def test_another_agent_of_the_same_user_does_not_see_the_dispatch(agent):
    order_id = agent.dispatch().json()["id"]
    other_agent = Agent(agent.user, on_commit=agent.on_commit)

    assert other_agent.get(f"/api/v1/dispatches/{order_id}").status_code == 404
    assert other_agent.get("/api/v1/dispatches").json() == []
    assert [o["id"] for o in agent.get("/api/v1/dispatches").json()] == [order_id]


def test_two_agents_of_one_user_may_choose_the_same_key(agent):
    first = agent.dispatch(key="same")
    second = Agent(agent.user, on_commit=agent.on_commit).dispatch(key="same")

    assert second.status_code == 202
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert Payment.objects.count() == 2


def test_the_list_shows_the_users_dispatches_filtered_by_status(agent):
    agent = generous(agent)
    agent.dispatch(key="a")
    agent.dispatch(key="b", text="book an electrician in Lagos tomorrow morning")

    listed = agent.get("/api/v1/dispatches").json()

    assert {o["skill"]["capability"] for o in listed} == {"home.electrician", "home.plumbing"}
    assert agent.get("/api/v1/dispatches?status=voided").json() == []


def test_every_move_is_recorded_with_who_and_why(agent):
    order_id = agent.dispatch().json()["id"]

    first = DispatchTransition.objects.filter(order_id=order_id).first()
    assert first.actor == f"agent:{agent.grant.pk}"
    assert first.reason == "dispatched"
    assert {t.actor for t in DispatchTransition.objects.filter(order_id=order_id)[1:]} == {"worker"}


def test_details_may_travel_inside_the_structured_intent(agent):
    intent = {
        "capability": "home.plumbing",
        "location": {"city": "Lagos", "country": "NG"},
        "details": {"problem": "Blocked drain"},
    }

    response = agent.post("/api/v1/dispatches", {"intent": intent}, HTTP_IDEMPOTENCY_KEY="inner")

    assert response.status_code == 202, response.content
    assert response.json()["details"] == {"problem": "Blocked drain"}


def test_a_callback_url_must_be_https(agent):
    response = agent.dispatch(callback_url="http://agent.example/events")

    assert response.status_code == 400
    assert "callback_url" in response.json()["error"]["fields"]
    assert_nothing_happened()


def test_a_capability_the_user_did_not_allow_the_agent_is_refused(agent):
    electrician_only = Agent(agent.user, allowed_capabilities=["home.electrician"])

    response = electrician_only.dispatch()

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "capability_not_granted"
    assert error["details"]["capability"] == "home.plumbing"
    assert_nothing_happened()


@pytest.mark.parametrize(
    ("payer_account", "code"),
    [("", "payer_account_required"), ("0712345678", "invalid_payer_account")],
)
def test_an_mpesa_dispatch_needs_the_payers_phone(catalog, wednesday_morning, payer_account, code):
    kenyan = Agent(UserFactory(country="KE", preferred_currency=""))

    response = kenyan.dispatch(
        text="plumber in Nairobi tomorrow morning", payer_account=payer_account
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert "Safaricom number" in error["fields"]["payer_account"][0]
    assert_nothing_happened()


@pytest.mark.parametrize("details", [{"problem": "leak\x00"}, {"problem\x00": "leak"}])
def test_a_nul_character_in_the_details_is_a_400(agent, details):
    response = agent.dispatch(details=details)

    assert response.status_code == 400
    assert "details" in response.json()["error"]["fields"]
    assert_nothing_happened()


def test_the_agent_reads_the_payment_of_its_dispatch(agent):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    assert agent.get(f"/api/v1/payments/{order.payment_id}").status_code == 200
    assert Agent(agent.user).get(f"/api/v1/payments/{order.payment_id}").status_code == 404


@pytest.mark.parametrize("reference", ["#/$defs/missing", "https://schemas.example/problem"])
def test_a_stored_schema_whose_reference_does_not_resolve_is_refused_not_a_crash(agent, reference):
    # Forms refuse such a schema since catalog 0007; one stored before, or by a script,
    # must not crash dispatches (nor make the server fetch the reference).
    Skill.objects.filter(capability="home.plumbing").update(
        input_schema={"type": "object", "properties": {"problem": {"$ref": reference}}}
    )
    agent.client.raise_request_exception = False  # a 5xx: the operator's to fix, logged

    response = agent.dispatch()

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "skill_misconfigured"
    assert_nothing_happened()


def test_the_payers_phone_is_sealed_in_the_order(catalog, wednesday_morning):
    kenyan = Agent(UserFactory(country="KE", preferred_currency=""))

    response = kenyan.dispatch(
        text="plumber in Nairobi tomorrow morning", payer_account="254711223344"
    )

    order = DispatchOrder.objects.get(pk=response.json()["id"])
    assert "254711223344" not in stored_row(DispatchOrder, order.pk)
    assert order.payer_account == "254711223344"


def test_the_details_are_sealed_in_the_order_and_the_agent_reads_them_back(agent):
    details = {"problem": "Burst pipe", "address_area": "14 Ngong Road, Kilimani"}

    response = agent.dispatch(details=details)

    order_id = response.json()["id"]
    assert "Ngong Road" not in stored_row(DispatchOrder, order_id)
    assert agent.get(f"/api/v1/dispatches/{order_id}").json()["details"] == details
