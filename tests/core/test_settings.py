"""Production settings are strict: no dev secret, and `check --deploy` is clean."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.keys import ec_private_key, encrypted_oidc_key, new_oidc_key, production_keys

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_KEYS = production_keys()


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
    result = deploy_check(tmp_path, "--fail-level", "WARNING")

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


def production_check(**keys: str) -> subprocess.CompletedProcess:
    return run_manage(
        "check",
        DEBUG="false",
        ALLOWED_HOSTS="geraos.example",
        SECRET_KEY=secrets.token_urlsafe(50),
        **{**PRODUCTION_KEYS, **keys},
    )


def test_a_key_ring_that_does_not_parse_stops_the_process_at_start_naming_it():
    result = production_check(GERAOS_SEALING_KEYS="prod1:" + secrets.token_urlsafe(32)[:-2])

    assert result.returncode != 0
    assert "GERAOS_SEALING_KEYS key prod1 is not base64" in result.stderr


@pytest.mark.parametrize(
    ("setting", "development_key"),
    [
        ("GERAOS_SEALING_KEYS", "dev:ZGV2ZWxvcG1lbnQtb25seS1zZWFsaW5nLWtleS0zMmI"),
        ("GERAOS_LOOKUP_KEYS", "prod0:ZGV2ZWxvcG1lbnQtb25seS1sb29rdXAta2V5LTMyYnk"),
    ],
)
def test_production_refuses_the_development_keys_published_in_the_source(setting, development_key):
    result = production_check(**{setting: development_key})

    assert result.returncode != 0
    assert f"{setting} seals with a development key" in result.stderr


def test_production_refuses_the_development_trust_key():
    result = production_check(GERAOS_TRUST_KEY_SECRET="ZGV2ZWxvcG1lbnQtb25seS10cnVzdC1rZXktMzJieXQ")

    assert result.returncode != 0
    assert "GERAOS_TRUST_KEY_SECRET is a development key" in result.stderr


def test_production_refuses_one_key_in_two_settings():
    shared = PRODUCTION_KEYS["GERAOS_SEALING_KEYS"].partition(":")[2]

    result = production_check(GERAOS_LOOKUP_KEYS=f"l1:{shared}")

    assert result.returncode != 0
    assert "GERAOS_SEALING_KEYS and GERAOS_LOOKUP_KEYS hold the same key" in result.stderr


DEVELOPMENT_SEALING_KEY = "ZGV2ZWxvcG1lbnQtb25seS1zZWFsaW5nLWtleS0zMmI"


def test_production_refuses_a_development_key_first_in_a_ring_whatever_follows_it():
    result = production_check(
        GERAOS_SEALING_KEYS=f"dev:{DEVELOPMENT_SEALING_KEY},{PRODUCTION_KEYS['GERAOS_SEALING_KEYS']}"
    )

    assert result.returncode != 0
    assert "GERAOS_SEALING_KEYS seals with a development key" in result.stderr


def test_production_starts_with_an_old_development_key_kept_to_be_rotated_off_and_warns():
    result = production_check(
        GERAOS_SEALING_KEYS=f"{PRODUCTION_KEYS['GERAOS_SEALING_KEYS']},dev:{DEVELOPMENT_SEALING_KEY}"
    )

    assert result.returncode == 0, result.stderr
    assert "GERAOS_SEALING_KEYS key dev is a development key" in result.stderr


@pytest.mark.parametrize("command", ["rotate_sealing_key", "rotate_memory_key"])
def test_a_new_key_is_printed_where_a_development_key_still_seals(command):
    result = run_manage(
        command,
        "--generate",
        "prod2",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        **{
            **PRODUCTION_KEYS,
            "GERAOS_SEALING_KEYS": f"dev:{DEVELOPMENT_SEALING_KEY}",
            "GERAOS_MEMORY_KEYS": "dev:ZGV2ZWxvcG1lbnQtb25seS1tZW1vcnkta2V5LTMyYnk",
        },
    )

    assert result.returncode == 0, result.stderr
    kid, _, key = result.stdout.strip().partition(":")
    assert kid == "prod2"
    assert len(base64.urlsafe_b64decode(key + "=")) == 32


def test_production_refuses_to_serve_with_an_id_token_key_that_is_no_key(tmp_path):
    result = deploy_check(tmp_path, GERAOS_OIDC_PRIVATE_KEY=_not_a_key())

    assert result.returncode != 0
    assert "identity.E001" in result.stderr


def _not_a_key() -> str:
    return "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"


def deploy_check(tmp_path, *options: str, **keys: str) -> subprocess.CompletedProcess:
    return run_manage(
        "check",
        "--deploy",
        *options,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        **{**PRODUCTION_KEYS, **keys},
        ALLOWED_HOSTS="geraos.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
    )


SIGNING, PUBLISHED = "GERAOS_OIDC_PRIVATE_KEY", "GERAOS_OIDC_PUBLISHED_KEYS"


@pytest.mark.parametrize(
    ("signing", "published", "named"),
    [
        pytest.param(encrypted_oidc_key(), new_oidc_key(), SIGNING, id="encrypted"),
        pytest.param(ec_private_key(), new_oidc_key(), SIGNING, id="ec"),
        pytest.param(new_oidc_key(), encrypted_oidc_key(), PUBLISHED, id="published"),
    ],
)
def test_an_id_token_key_that_cannot_sign_stops_the_deployment_naming_its_variable(
    tmp_path, signing, published, named
):
    """Such a key had been skipped, and a published key, there to verify only, signed."""
    result = deploy_check(
        tmp_path, GERAOS_OIDC_PRIVATE_KEY=signing, GERAOS_OIDC_PUBLISHED_KEYS=published
    )

    assert result.returncode != 0
    assert f"(identity.E001) A key in {named} is not an unencrypted RSA private key" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("signing", "refusal"),
    [
        pytest.param(
            new_oidc_key() + new_oidc_key(),
            "GERAOS_OIDC_PRIVATE_KEY must hold exactly one PEM private key",
            id="two-keys",
        ),
        pytest.param(
            new_oidc_key()[:-30],
            "GERAOS_OIDC_PRIVATE_KEY holds text that is not a PEM block",
            id="cut-short",
        ),
    ],
)
def test_production_refuses_to_start_unless_the_signing_key_variable_holds_one_key(
    signing, refusal
):
    """Else the first key pasted signed, or a published key did, while the check passed."""
    result = production_check(
        GERAOS_OIDC_PRIVATE_KEY=signing, GERAOS_OIDC_PUBLISHED_KEYS=new_oidc_key()
    )

    assert result.returncode != 0
    assert refusal in result.stderr
