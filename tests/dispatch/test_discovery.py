"""Discovery: published skills with their schema, price, places and rails; the A2A card."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from apps.catalog.demo import seed as seed_catalog
from apps.catalog.models import Skill
from apps.payments import fx
from apps.payments.models import Rail, RoutingRule
from apps.payments.rails import ensure_default_rails
from tests.factories import make_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalog(db):
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    seed_catalog()


@pytest.fixture
def agent(user) -> Client:
    _, token = make_grant(user, scopes=["dispatch:create"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_agent_finds_plumbing_in_lagos_with_schema_price_and_rails(agent):
    (skill,) = agent.get("/api/v1/skills", {"capability": "home.plumbing", "city": "lagos"}).json()

    assert skill["product"] == "gerahome"
    assert skill["price_from"] == {"amount": "35.00", "currency": "GBP"}
    assert skill["input_schema"]["required"] == ["problem"]
    assert skill["rails"]["KE"] == "mpesa"
    assert skill["rails"]["NG"] == "stripe"
    assert agent.get(f"/api/v1/skills/{skill['id']}").json()["capability"] == "home.plumbing"


def test_filters_narrow_and_suspended_skills_disappear(agent):
    assert len(agent.get("/api/v1/skills", {"capability": "home."}).json()) == 3
    assert agent.get("/api/v1/skills", {"country": "FR"}).json() == []
    plumbing = Skill.objects.get(capability="home.plumbing")
    Skill.objects.filter(pk=plumbing.pk).update(status=Skill.Status.SUSPENDED)

    assert agent.get(f"/api/v1/skills/{plumbing.pk}").status_code == 404
    assert len(agent.get("/api/v1/skills").json()) == 3


def test_agent_card_lists_published_skills_for_a2a_clients(client):
    card = client.get("/.well-known/agent-card.json").json()

    ids = {skill["id"] for skill in card["skills"]}
    assert ids == {
        "home.plumbing",
        "home.electrician",
        "home.cleaning",
        "health.telehealth_consult",
    }
    assert card["securitySchemes"]["agentToken"]["scheme"] == "bearer"
    plumbing = next(s for s in card["skills"] if s["id"] == "home.plumbing")
    assert "plumber" in plumbing["tags"]
    assert plumbing["examples"]


def test_operator_publishes_only_valid_schemas_and_suspends(operator_client):
    skill = Skill.objects.get(capability="home.cleaning")
    Skill.objects.filter(pk=skill.pk).update(status=Skill.Status.DRAFT, input_schema={"type": 7})
    changelist = reverse("admin:catalog_skill_changelist")

    refused = operator_client.post(
        changelist, {"action": "publish", ACTION_CHECKBOX_NAME: [skill.pk]}, follow=True
    )
    assert "input schema is invalid" in refused.content.decode()
    Skill.objects.filter(pk=skill.pk).update(input_schema={"type": "object"})
    operator_client.post(changelist, {"action": "publish", ACTION_CHECKBOX_NAME: [skill.pk]})
    assert Skill.objects.get(pk=skill.pk).status == Skill.Status.PUBLISHED

    operator_client.post(changelist, {"action": "suspend", ACTION_CHECKBOX_NAME: [skill.pk]})
    assert Skill.objects.get(pk=skill.pk).status == Skill.Status.SUSPENDED
    listed = operator_client.get(changelist).content.decode()
    assert '<span class="badge badge-danger">Suspended</span>' in listed
    page = operator_client.get(
        reverse("admin:catalog_skill_change", args=[skill.pk])
    ).content.decode()
    assert "Input schema, as agents see it" in page
    assert operator_client.get(reverse("admin:catalog_provider_changelist")).status_code == 200


def test_a_new_provider_gets_a_signing_secret_shown_once_and_stored_sealed(operator_client):
    from apps.catalog import services as catalog_services
    from apps.catalog.models import Provider

    response = operator_client.post(
        reverse("admin:catalog_provider_add"),
        {
            "name": "Ikoyi Pipes",
            "country": "NG",
            "city": "Lagos",
            "rating": "4.5",
            "price_0": "30.00",
            "price_1": "GBP",
            "availability": '[{"days": [0, 1], "start": "08:00", "end": "12:00"}]',
            "sandbox_behaviour": "accept",
            "skills": [Skill.objects.get(capability="home.plumbing").pk],
            "active": "on",
        },
        follow=True,
    )

    provider = Provider.objects.get(name="Ikoyi Pipes")
    shown = catalog_services.provider_secret(provider=provider).decode()
    assert shown in response.content.decode()  # the operator sees it this once
    assert shown not in provider.shared_secret_sealed
