"""Production settings are strict: no dev secret, and `check --deploy` is clean."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.keys import new_oidc_key

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_KEYS = {
    "GERAOS_MEMORY_KEYS": "prod1:" + secrets.token_urlsafe(32),
    "GERAOS_SEALING_KEYS": "prod1:" + secrets.token_urlsafe(32),
    "GERAOS_LOOKUP_KEYS": "prod1:" + secrets.token_urlsafe(32),
    "GERAOS_TRUST_KEY_SECRET": secrets.token_urlsafe(32),
    "GERAOS_OIDC_PRIVATE_KEY": new_oidc_key(),
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # A production-like process: only what a deployment would set, nothing from the suite.
    base = {"PATH": os.environ["PATH"]}
    return subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "geraos.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_is_clean_with_production_environment(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        **PRODUCTION_KEYS,
        ALLOWED_HOSTS="geraos.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "GERAOS_MEMORY_KEYS",
        "GERAOS_SEALING_KEYS",
        "GERAOS_LOOKUP_KEYS",
        "GERAOS_OIDC_PRIVATE_KEY",
    ],
)
def test_production_refuses_to_start_without_each_key(missing):
    keys = {name: value for name, value in PRODUCTION_KEYS.items() if name != missing}

    result = run_manage(
        "check",
        DEBUG="false",
        ALLOWED_HOSTS="geraos.example",
        SECRET_KEY=secrets.token_urlsafe(50),
        **keys,
    )

    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="geraos.example")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_home_currency_geraos_keeps_no_money_in_refuses_to_start():
    result = run_manage("check", DEBUG="true", GERAOS_HOME_CURRENCY="CHF")

    assert result.returncode != 0
    assert "GERAOS_HOME_CURRENCY must be one of AMD, BRL, GBP, EUR" in result.stderr


def test_production_refuses_to_serve_with_an_id_token_key_that_is_no_key(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        **{**PRODUCTION_KEYS, "GERAOS_OIDC_PRIVATE_KEY": _not_a_key()},
        ALLOWED_HOSTS="geraos.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
    )

    assert result.returncode != 0
    assert "identity.E001" in result.stderr


def _not_a_key() -> str:
    return "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
