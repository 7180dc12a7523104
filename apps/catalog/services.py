"""Catalog writes: publishing and suspending skills."""

from django.db import transaction
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from apps.catalog.models import Skill
from apps.core.errors import ApplicationError, ConflictError


@transaction.atomic
def skill_publish(*, skill: Skill) -> Skill:
    """Publish after checking the input schema is a valid JSON Schema."""
    skill = Skill.objects.select_for_update().get(pk=skill.pk)
    try:
        Draft202012Validator.check_schema(skill.input_schema)
    except SchemaError as exc:
        raise ApplicationError(
            f"The input schema is invalid: {exc.message}", code="invalid_schema"
        ) from exc
    if skill.status == Skill.Status.PUBLISHED:
        return skill
    skill.status = Skill.Status.PUBLISHED
    skill.save(update_fields=["status", "updated_at"])
    return skill


@transaction.atomic
def skill_suspend(*, skill: Skill) -> Skill:
    skill = Skill.objects.select_for_update().get(pk=skill.pk)
    if skill.status == Skill.Status.DRAFT:
        raise ConflictError(
            "A draft skill is not live; there is nothing to suspend.", code="illegal_transition"
        )
    skill.status = Skill.Status.SUSPENDED
    skill.save(update_fields=["status", "updated_at"])
    return skill
