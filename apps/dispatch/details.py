"""An order's details checked against its skill's input schema. What is wrong is said by
the field's path and the rule it breaks, never by the value sent: details hold personal
data (an address, a problem), and a refusal's text reaches API answers and logs, where
jsonschema's own messages would repeat the value."""

import json
import re

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema_specifications import REGISTRY as METASCHEMAS
from referencing.exceptions import Unresolvable

from apps.catalog.models import Skill
from apps.core.errors import ApplicationError

# Each rule's words, the schema's value for it put in the braces.
RULES = {
    "type": "must be of type {}",
    "enum": "must be one of {}",
    "const": "must be {}",
    "minLength": "must be at least {} characters long",
    "maxLength": "must be at most {} characters long",
    "pattern": "must match the pattern {}",
    "format": "must be a valid {}",
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
    "exclusiveMinimum": "must be greater than {}",
    "exclusiveMaximum": "must be less than {}",
    "multipleOf": "must be a multiple of {}",
    "minItems": "must hold at least {} items",
    "maxItems": "must hold at most {} items",
    "uniqueItems": "must not repeat an item",
}


class InvalidDetails(ApplicationError):
    code = "invalid_details"


def details_check(*, skill: Skill, details: dict) -> None:
    """Refuse details that do not fit the skill's input schema."""
    # Only the published metaschemas are known: a reference elsewhere is never fetched.
    validator = Draft202012Validator(skill.input_schema, registry=METASCHEMAS)
    try:
        errors = sorted(validator.iter_errors(details), key=lambda e: e.path)
    except Unresolvable as broken:
        raise ApplicationError(
            f"{skill.title} cannot take bookings now: its input schema is broken ({broken}).",
            code="skill_misconfigured",
            status=503,
        ) from broken
    if errors:
        fields = _problems_by_field(errors)
        path, problems = next(iter(fields.items()))
        raise InvalidDetails(
            f"The details do not fit the skill's input schema: {path}: {problems[0]}.",
            fields=fields,
        )


def _problems_by_field(errors: list[ValidationError]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        for path, problem in _problems(error):
            if problem not in fields.setdefault(path, []):
                fields[path].append(problem)
    return fields


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, problem) pairs for one error, in words taken from the schema alone."""
    path = ".".join(["details", *map(str, error.path)])
    keyword, rule = error.validator, error.validator_value
    if keyword == "required":
        return [(path, f"{name!r} is a required property") for name in _missing(error)]
    if keyword == "additionalProperties":
        return [(f"{path}.{name}", "is not allowed") for name in _unexpected(error)]
    if keyword in RULES:
        return [(path, RULES[keyword].format(rule if isinstance(rule, str) else json.dumps(rule)))]
    return [(path, f"does not satisfy the schema's {keyword!r} rule")]


def _missing(error: ValidationError) -> list[str]:
    return [name for name in error.validator_value if name not in error.instance]


def _unexpected(error: ValidationError) -> list[str]:
    named = error.schema.get("properties", {})
    patterns = error.schema.get("patternProperties", {})
    return [
        name
        for name in error.instance
        if name not in named and not any(re.search(pattern, name) for pattern in patterns)
    ]
