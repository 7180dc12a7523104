"""What makes a skill's input schema one that dispatch can check details against."""

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012


def input_schema_problem(schema) -> str | None:
    """Why `schema` is not a valid JSON Schema whose every reference resolves within it
    (or to a published metaschema), or None. Nothing is fetched: a reference to anywhere
    else would otherwise be fetched, or fail, each time details are checked."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return f"The input schema is invalid: {error.message}"
    reference = _first_unresolvable_reference(schema)
    if reference is not None:
        return f"The input schema is invalid: {reference} does not resolve within the schema."
    return None


def _first_unresolvable_reference(schema) -> str | None:
    root = DRAFT202012.create_resource(schema)
    base = root.id() or ""
    resolver = SPECIFICATIONS.with_resource(base, root).crawl().resolver(base)
    return _unresolvable_in(root, resolver)


def _unresolvable_in(resource: Resource, resolver) -> str | None:
    if isinstance(resource.contents, dict):
        for keyword in ("$ref", "$dynamicRef"):
            reference = resource.contents.get(keyword)
            if isinstance(reference, str) and not _resolves(reference, resolver):
                return reference
    for subresource in resource.subresources():
        found = _unresolvable_in(subresource, resolver.in_subresource(subresource))
        if found is not None:
            return found
    return None


def _resolves(reference: str, resolver) -> bool:
    try:
        resolver.lookup(reference)
    except Unresolvable:
        return False
    return True
