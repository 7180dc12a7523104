"""The catalog admin: publish and suspend act on each selected skill through the services
and say what became of each; a provider's signing secret is shown once, when made."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.catalog import services
from apps.catalog.models import Provider, Skill
from tests.catalog.conftest import HOME_DETAILS, make_provider, make_published, make_skill
from tests.helpers import audit_trail, staff_with

pytestmark = pytest.mark.django_db

SKILLS = reverse("admin:catalog_skill_changelist")
PROVIDERS = reverse("admin:catalog_provider_changelist")


@pytest.fixture
def skill_editor():
    return staff_with("catalog.view_skill", "catalog.change_skill")


@pytest.fixture
def secret_keeper():
    return staff_with(
        "catalog.view_provider", "catalog.change_provider", "catalog.rotate_provider_secret"
    )


def run_action(client, changelist: str, action: str, *objects):
    chosen = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects]}
    return client.post(changelist, chosen, follow=True)


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def status_of(skill: Skill) -> str:
    return Skill.objects.get(pk=skill.pk).status


def test_publishing_several_skills_says_which_were_published_and_why_others_were_not(
    skill_editor,
):
    valid = make_skill("home.plumbing")
    broken = make_skill("home.cleaning", input_schema={"type": "objekt"})

    response = run_action(skill_editor, SKILLS, "publish", valid, broken)

    said = {text.split(":")[0]: (level, text) for level, text in messages_of(response)}
    assert said[str(valid)] == ("success", f"{valid}: published.")
    level, text = said[str(broken)]
    assert level == "error"
    assert text.startswith(f"{broken}: The input schema is invalid: ")
    assert (status_of(valid), status_of(broken)) == ("published", "draft")


def test_suspending_a_draft_in_the_admin_says_it_is_not_live(skill_editor):
    draft, live = make_skill("home.cleaning"), make_published("home.plumbing")

    response = run_action(skill_editor, SKILLS, "suspend", draft, live)

    assert sorted(messages_of(response)) == [
        ("error", f"{draft}: A draft skill is not live; there is nothing to suspend."),
        ("success", f"{live}: suspended."),
    ]
    assert (status_of(draft), status_of(live)) == ("draft", "suspended")


def test_publishing_and_suspending_in_the_admin_is_one_audit_event_per_skill_changed(
    operator_client, operator
):
    skill, broken = make_skill("home.plumbing"), make_skill("home.cleaning", input_schema=[])
    services.skill_publish(skill=make_skill("home.electrician"))  # not an operator's action

    run_action(operator_client, SKILLS, "publish", skill, broken)
    run_action(operator_client, SKILLS, "suspend", skill)

    assert audit_trail() == [
        (
            "catalog.skill_publish",
            f"catalog.skill:{skill.pk}",
            {"status": ["draft", "published"]},
            "",
            operator,
        ),
        (
            "catalog.skill_suspend",
            f"catalog.skill:{skill.pk}",
            {"status": ["published", "suspended"]},
            "",
            operator,
        ),
    ]


def test_the_change_form_shows_the_schema_but_cannot_set_the_status(skill_editor):
    skill = make_skill("home.plumbing", input_schema={"title": "Plumbing details"})
    url = reverse("admin:catalog_skill_change", args=[skill.pk])

    page = skill_editor.get(url)
    saved = skill_editor.post(url, change_form(skill, title="Plumber visit, renamed"))

    assert "status" not in page.context["adminform"].form.fields
    assert "Plumbing details" in page.content.decode()  # the schema preview
    assert saved.status_code == 302
    assert (Skill.objects.get(pk=skill.pk).title, status_of(skill)) == (
        "Plumber visit, renamed",
        "draft",
    )


@pytest.mark.parametrize(
    "schema",
    [{"type": "objekt"}, {"$ref": "#/$defs/details"}],
    ids=["invalid", "unresolvable-reference"],
)
def test_a_live_skill_keeps_its_schema_when_an_edit_would_break_it(skill_editor, schema):
    skill = make_published("home.plumbing")
    url = reverse("admin:catalog_skill_change", args=[skill.pk])

    response = skill_editor.post(url, change_form(skill, input_schema=json.dumps(schema)))

    assert response.status_code == 200  # the form again, with the error
    (error,) = response.context["adminform"].form.errors["input_schema"]
    assert error.startswith("The input schema is invalid: ")
    assert Skill.objects.get(pk=skill.pk).input_schema == HOME_DETAILS


def change_form(skill: Skill, **changes) -> dict:
    """The skill's change form as posted, with `changes` and a forged status."""
    return {
        "product": skill.product_id,
        "capability": skill.capability,
        "title": skill.title,
        "description": skill.description,
        "synonyms": "[]",
        "examples": "[]",
        "input_schema": json.dumps(skill.input_schema),
        "price_from_0": str(skill.price_from.amount),
        "price_from_1": str(skill.price_from.currency),
        "countries": json.dumps(skill.countries),
        "cities": json.dumps(skill.cities),
        "memory_scopes": "[]",
        "required_entitlement": "",
        "version": skill.version,
        "status": Skill.Status.PUBLISHED,
        **changes,
    }


# --- providers --------------------------------------------------------------------------


def secret_shown(response) -> str:
    (warning,) = [text for level, text in messages_of(response) if level == "warning"]
    return re.search(r"new signing secret (gps_\S+) ", warning).group(1)


def stored_secret(provider: Provider) -> bytes:
    return services.provider_secret(provider=Provider.objects.get(pk=provider.pk))


def test_rotating_shows_the_new_secret_once_and_the_old_one_stops_working(secret_keeper):
    provider = make_provider()
    old = services.provider_rotate_secret(provider=provider)

    response = run_action(secret_keeper, PROVIDERS, "rotate_secret", provider)

    new = secret_shown(response)
    assert new != old
    assert stored_secret(provider) == new.encode()
    assert new not in secret_keeper.get(PROVIDERS).content.decode()
    assert new not in Provider.objects.get(pk=provider.pk).shared_secret_sealed


def test_rotating_several_providers_gives_each_its_own_secret(secret_keeper):
    one, other = make_provider(name="One"), make_provider(name="Other")

    response = run_action(secret_keeper, PROVIDERS, "rotate_secret", one, other)

    shown = {text.split(":")[0]: text for _, text in messages_of(response)}
    assert stored_secret(one).decode() in shown[str(one)]
    assert stored_secret(other).decode() in shown[str(other)]
    assert stored_secret(one) != stored_secret(other)


def test_rotating_a_secret_is_one_audit_event_that_never_holds_the_secret(
    operator_client, operator
):
    provider = make_provider()

    response = run_action(operator_client, PROVIDERS, "rotate_secret", provider)

    assert audit_trail() == [
        (
            "catalog.provider_rotate_secret",
            f"catalog.provider:{provider.pk}",
            {"signing_secret": ["(hidden)", "(changed)"]},
            "",
            operator,
        )
    ]
    assert secret_shown(response) not in str(audit_trail())


def test_adding_a_provider_is_one_audit_event_though_it_makes_the_first_secret(
    operator_client, operator
):
    provider = make_provider(make_skill())
    form = provider_form(provider, name="Severn Pipes")

    operator_client.post(reverse("admin:catalog_provider_add"), form)

    added = Provider.objects.get(name="Severn Pipes")
    assert stored_secret(added)
    assert [(action, obj) for action, obj, *_ in audit_trail()] == [
        ("catalog.provider.add", f"catalog.provider:{added.pk}")
    ]


def test_who_adds_a_provider_without_the_secret_permission_is_not_shown_its_secret():
    provider = make_provider(make_skill())
    adder = staff_with("catalog.view_provider", "catalog.add_provider")

    added = adder.post(
        reverse("admin:catalog_provider_add"),
        provider_form(provider, name="Severn Pipes"),
        follow=True,
    )

    shown = " ".join(str(message) for message in added.context["messages"])
    assert "a signing secret was made" in shown
    assert stored_secret(Provider.objects.get(name="Severn Pipes")).decode() not in shown
    [(_, _, changes, _, _)] = audit_trail()
    assert changes["signing_secret"] == ["(hidden)", "(changed)"]


def test_editing_a_provider_keeps_its_secret(secret_keeper):
    provider = make_provider(make_skill())
    secret = services.provider_rotate_secret(provider=provider)
    url = reverse("admin:catalog_provider_change", args=[provider.pk])

    response = secret_keeper.post(url, provider_form(provider, rating="4.90"), follow=True)

    assert Provider.objects.get(pk=provider.pk).rating == Decimal("4.90")
    assert stored_secret(provider) == secret.encode()
    assert "gps_" not in response.content.decode()


def provider_form(provider: Provider, **changes) -> dict:
    return {
        "name": provider.name,
        "country": provider.country,
        "city": provider.city,
        "timezone": provider.timezone,
        "rating": str(provider.rating),
        "price_0": str(provider.price.amount),
        "price_1": str(provider.price.currency),
        "availability": json.dumps(provider.availability),
        "skills": [skill.pk for skill in provider.skills.all()],
        "sandbox_behaviour": provider.sandbox_behaviour,
        "active": "on",
        **changes,
    }


def test_a_provider_timezone_must_be_an_iana_zone(secret_keeper):
    provider = make_provider(make_skill())
    url = reverse("admin:catalog_provider_change", args=[provider.pk])

    response = secret_keeper.post(url, provider_form(provider, timezone="London/Time"))

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["timezone"] == [
        "London/Time is not an IANA timezone."
    ]
    assert Provider.objects.get(pk=provider.pk).timezone == "Europe/London"
