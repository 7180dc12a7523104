"""Catalog writes: publishing and suspending skills, providers' signing secrets."""

import secrets

from django.db import transaction

from apps.catalog.models import Provider, Skill
from apps.catalog.schemas import input_schema_problem
from apps.core import audit
from apps.core.errors import ApplicationError, ConflictError
from apps.core.sealing import seal, unseal


@transaction.atomic
def skill_publish(*, skill: Skill, request=None) -> Skill:
    """Publish after checking the input schema is one details can be checked against."""
    skill = Skill.objects.select_for_update().get(pk=skill.pk)
    problem = input_schema_problem(skill.input_schema)
    if problem is not None:
        raise ApplicationError(problem, code="invalid_schema")
    if skill.status != Skill.Status.PUBLISHED:
        _skill_move(skill, Skill.Status.PUBLISHED, "catalog.skill_publish", request)
    return skill


@transaction.atomic
def skill_suspend(*, skill: Skill, request=None) -> Skill:
    skill = Skill.objects.select_for_update().get(pk=skill.pk)
    if skill.status == Skill.Status.DRAFT:
        raise ConflictError(
            "A draft skill is not live; there is nothing to suspend.", code="illegal_transition"
        )
    if skill.status != Skill.Status.SUSPENDED:
        _skill_move(skill, Skill.Status.SUSPENDED, "catalog.skill_suspend", request)
    return skill


def _skill_move(skill: Skill, to: Skill.Status, action: str, request) -> None:
    before, skill.status = skill.status, to
    skill.save(update_fields=["status", "updated_at"])
    audit.record_if_operator(
        request=request, action=action, obj=skill, changes={"status": (before, to)}
    )


def _secret_context(provider: Provider) -> str:
    return f"provider-secret:{provider.pk}"


@transaction.atomic
def provider_rotate_secret(*, provider: Provider, request=None) -> str:
    """A new signing secret for the provider; returned once, stored only sealed."""
    secret = f"gps_{secrets.token_urlsafe(32)}"
    provider.shared_secret_sealed = seal(secret.encode(), context=_secret_context(provider))
    provider.save(update_fields=["shared_secret_sealed", "updated_at"])
    audit.record_if_operator(
        request=request,
        action="catalog.provider_rotate_secret",
        obj=provider,
        changes={"signing_secret": audit.SECRET_CHANGE},
    )
    return secret


def provider_secret(*, provider: Provider) -> bytes:
    if not provider.shared_secret_sealed:
        raise ConflictError(
            f"{provider} has no signing secret yet; rotate one in the admin.",
            code="provider_secret_missing",
        )
    return unseal(provider.shared_secret_sealed, context=_secret_context(provider))
