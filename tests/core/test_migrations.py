"""Migrations stay put: what an old migration does never changes with the app's code."""

import ast
from importlib import import_module
from pathlib import Path

from apps.core import sealing

ROOT = Path(__file__).resolve().parents[2]


def _is_app_module(module: str | None) -> bool:
    return module is not None and (module == "apps" or module.startswith("apps."))


def live_imports(path: Path) -> list[str]:
    """What a migration imports from the apps, beyond the `import apps.<app>.models` that
    makemigrations writes itself for fields' validators and managers."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        relative = isinstance(node, ast.ImportFrom) and node.level > 0
        if relative or (isinstance(node, ast.ImportFrom) and _is_app_module(node.module)):
            found.append(f"from {'.' * node.level}{node.module or ''} import …")
        elif isinstance(node, ast.Import):
            found += [
                f"import {alias.name}"
                for alias in node.names
                if _is_app_module(alias.name) and not alias.name.endswith(".models")
            ]
    return found


def test_no_migration_imports_live_app_code():
    offenders = {
        str(path.relative_to(ROOT)): imports
        for path in sorted(ROOT.glob("apps/*/migrations/0*.py"))
        if (imports := live_imports(path))
    }

    assert offenders == {}


def test_responses_sealed_by_the_idempotency_migration_open_with_the_live_code():
    migration = import_module("apps.core.migrations.0002_seal_idempotency_response_body")

    sealed = migration.seal(b'{"id": 1}', context="idempotency:[]")

    assert sealing.unseal(sealed, context="idempotency:[]") == b'{"id": 1}'
    assert migration.unseal(sealing.seal(b"{}", context="c"), context="c") == b"{}"


def test_a_relative_import_of_app_code_is_reported(tmp_path):
    migration = tmp_path / "0009_plans_again.py"
    migration.write_text("from ..plans import ensure_default_plans\n")

    assert live_imports(migration) == ["from ..plans import …"]
