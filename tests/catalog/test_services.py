"""Catalog writes: a skill is published only with a valid input schema, suspended only
once live; a provider's signing secret is shown once and stored only sealed."""

import pytest
from cryptography.exceptions import InvalidTag

from apps.catalog import services
from apps.catalog.models import Provider, Skill
from apps.core.errors import ApplicationError, ConflictError
from tests.catalog.conftest import make_provider, make_published, make_skill

pytestmark = pytest.mark.django_db


def stored(skill: Skill) -> Skill:
    return Skill.objects.get(pk=skill.pk)


# --- publishing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        {},
        {"type": "object"},
        {
            "type": "object",
            "properties": {"problem": {"type": "string", "maxLength": 500}},
            "required": ["problem"],
            "additionalProperties": False,
        },
    ],
    ids=["anything", "any-object", "with-required-fields"],
)
def test_a_draft_with_a_valid_schema_is_published(schema):
    skill = make_skill(input_schema=schema)

    published = services.skill_publish(skill=skill)

    assert published.status == Skill.Status.PUBLISHED
    assert (stored(skill).status, stored(skill).version) == (Skill.Status.PUBLISHED, 1)


@pytest.mark.parametrize(
    ("schema", "complaint"),
    [
        ({"type": "objekt"}, "'objekt' is not valid"),
        ({"type": "object", "required": "problem"}, "'problem' is not of type 'array'"),
        ({"properties": ["problem"]}, "is not of type 'object'"),
        ({"type": "object", "properties": {"n": {"minimum": "one"}}}, "is not of type 'number'"),
        (["problem"], "is not of type 'object', 'boolean'"),
    ],
    ids=["unknown-type", "required-not-a-list", "properties-not-a-map", "bad-keyword", "a-list"],
)
def test_a_draft_with_an_invalid_schema_is_refused_and_stays_a_draft(schema, complaint):
    skill = make_skill(input_schema=schema)

    with pytest.raises(ApplicationError) as refused:
        services.skill_publish(skill=skill)

    assert (refused.value.code, refused.value.status) == ("invalid_schema", 400)
    assert refused.value.message.startswith("The input schema is invalid: ")
    assert complaint in refused.value.message
    assert stored(skill).status == Skill.Status.DRAFT


@pytest.mark.parametrize(
    ("schema", "reference"),
    [
        ({"$ref": "#/$defs/details"}, "#/$defs/details"),
        ({"properties": {"problem": {"$ref": "#/$defs/text"}}}, "#/$defs/text"),
        ({"not": {"$anchor": "a", "$ref": "#b"}}, "#b"),
        ({"$ref": "https://schemas.example/details.json"}, "https://schemas.example/details.json"),
    ],
    ids=["missing-definition", "missing-nested-definition", "missing-anchor", "remote"],
)
def test_a_schema_referring_outside_itself_is_refused(schema, reference):
    """Checking details against it would fail (a 500 on every dispatch), or fetch the
    URL from the server on every dispatch."""
    skill = make_skill(input_schema=schema)

    with pytest.raises(ApplicationError) as refused:
        services.skill_publish(skill=skill)

    assert refused.value.code == "invalid_schema"
    assert f"{reference} does not resolve within the schema" in refused.value.message
    assert stored(skill).status == Skill.Status.DRAFT


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"text": {"type": "string"}}, "properties": {"p": {"$ref": "#/$defs/text"}}},
        {"$defs": {"text": {"$anchor": "text", "type": "string"}}, "items": {"$ref": "#text"}},
        {"$id": "https://geraos.example/s", "$defs": {"t": {"$id": "t"}}, "not": {"$ref": "t"}},
        {"properties": {"parts": {"type": "array", "items": {"$ref": "#"}}}},
        {"$ref": "https://json-schema.org/draft/2020-12/schema"},
    ],
    ids=["definition", "anchor", "embedded-id", "recursive", "the-metaschema"],
)
def test_a_schema_whose_references_resolve_within_it_is_published(schema):
    skill = make_skill(input_schema=schema)

    assert services.skill_publish(skill=skill).status == Skill.Status.PUBLISHED


def test_publishing_checks_the_schema_as_stored_not_the_callers_copy():
    skill = make_skill(input_schema={"type": "object"})
    skill.input_schema = {"type": "objekt"}  # an unsaved edit

    published = services.skill_publish(skill=skill)

    assert published.status == Skill.Status.PUBLISHED
    assert published.input_schema == {"type": "object"}


def test_publishing_a_published_skill_changes_nothing():
    skill = make_published()
    before = stored(skill)

    again = services.skill_publish(skill=skill)

    assert again.status == Skill.Status.PUBLISHED
    assert (stored(skill).updated_at, stored(skill).version) == (before.updated_at, 1)


def test_a_published_skill_whose_schema_was_broken_is_refused_but_stays_live():
    skill = make_published()
    Skill.objects.filter(pk=skill.pk).update(input_schema={"type": "objekt"})

    with pytest.raises(ApplicationError) as refused:
        services.skill_publish(skill=skill)

    assert refused.value.code == "invalid_schema"
    assert stored(skill).status == Skill.Status.PUBLISHED


def test_a_suspended_skill_is_published_again():
    skill = services.skill_suspend(skill=make_published())

    published = services.skill_publish(skill=skill)

    assert published.status == Skill.Status.PUBLISHED
    assert stored(skill).status == Skill.Status.PUBLISHED


def test_a_suspended_skill_with_a_broken_schema_stays_suspended():
    skill = services.skill_suspend(skill=make_published())
    Skill.objects.filter(pk=skill.pk).update(input_schema={"required": "problem"})

    with pytest.raises(ApplicationError) as refused:
        services.skill_publish(skill=skill)

    assert refused.value.code == "invalid_schema"
    assert stored(skill).status == Skill.Status.SUSPENDED


# --- suspending -------------------------------------------------------------------------


def test_a_published_skill_is_suspended():
    skill = make_published()

    suspended = services.skill_suspend(skill=skill)

    assert suspended.status == Skill.Status.SUSPENDED
    assert (stored(skill).status, stored(skill).version) == (Skill.Status.SUSPENDED, 1)


def test_a_draft_cannot_be_suspended():
    skill = make_skill()

    with pytest.raises(ConflictError) as refused:
        services.skill_suspend(skill=skill)

    assert (refused.value.code, refused.value.status) == ("illegal_transition", 409)
    assert "nothing to suspend" in refused.value.message
    assert stored(skill).status == Skill.Status.DRAFT


def test_suspending_a_suspended_skill_keeps_it_suspended():
    skill = services.skill_suspend(skill=make_published())

    again = services.skill_suspend(skill=skill)

    assert again.status == Skill.Status.SUSPENDED
    assert stored(skill).status == Skill.Status.SUSPENDED


def test_suspending_reads_the_status_as_stored_not_the_callers_copy():
    skill = make_skill()
    services.skill_publish(skill=skill)  # `skill` still says draft

    suspended = services.skill_suspend(skill=skill)

    assert suspended.status == Skill.Status.SUSPENDED


# --- provider signing secrets -----------------------------------------------------------


def test_a_rotated_secret_is_returned_once_and_stored_only_sealed():
    provider = make_provider()

    secret = services.provider_rotate_secret(provider=provider)

    sealed = Provider.objects.get(pk=provider.pk).shared_secret_sealed
    assert secret.startswith("gps_")
    assert len(secret.removeprefix("gps_")) == 43  # 32 random bytes, url-safe base64
    assert sealed
    assert secret not in sealed
    assert services.provider_secret(provider=Provider.objects.get(pk=provider.pk)) == (
        secret.encode()
    )


def test_rotating_replaces_the_secret():
    provider = make_provider()
    first = services.provider_rotate_secret(provider=provider)

    second = services.provider_rotate_secret(provider=provider)

    assert second != first
    assert services.provider_secret(provider=Provider.objects.get(pk=provider.pk)) == (
        second.encode()
    )


def test_a_provider_without_a_secret_is_refused_by_name():
    provider = make_provider(name="Thames Pipes")

    with pytest.raises(ConflictError) as refused:
        services.provider_secret(provider=provider)

    assert (refused.value.code, refused.value.status) == ("provider_secret_missing", 409)
    assert "Thames Pipes (London)" in refused.value.message


def test_a_sealed_secret_copied_onto_another_provider_does_not_open_there():
    owner, other = make_provider(name="Owner"), make_provider(name="Other")
    services.provider_rotate_secret(provider=owner)
    other.shared_secret_sealed = Provider.objects.get(pk=owner.pk).shared_secret_sealed

    with pytest.raises(InvalidTag):
        services.provider_secret(provider=other)
