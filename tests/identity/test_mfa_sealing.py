"""Two-factor secrets are sealed at rest: a database dump gives no one's codes away, and
allauth still signs people in with them."""

import json
from importlib import import_module

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps as installed_apps
from django.db import connection

from tests.helpers import TOTP_SECRET, give_totp, totp_code

pytestmark = pytest.mark.django_db

SEALING_MIGRATION = "apps.identity.migrations.0010_seal_mfa_secrets"
SEED = "9f" * 40


def raw_data(authenticator: Authenticator) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [authenticator.pk])
        data = cursor.fetchone()[0]
    return json.loads(data) if isinstance(data, str) else data


def test_a_totp_secret_is_sealed_and_still_checks_codes(user):
    authenticator = give_totp(user)

    stored = raw_data(authenticator)["secret"]

    assert TOTP_SECRET not in stored
    assert stored.startswith("v1.test1.")
    assert TOTP(Authenticator.objects.get(pk=authenticator.pk)).validate_code(totp_code())


def test_a_recovery_code_seed_is_sealed_and_its_codes_still_work(user):
    codes = RecoveryCodes.activate(user)
    seed = codes.instance.data["seed"]

    stored = raw_data(codes.instance)

    assert stored["seed"].startswith("v1.test1.")
    assert not any(code in json.dumps(stored) for code in codes.generate_codes())
    fresh = RecoveryCodes(Authenticator.objects.get(pk=codes.instance.pk))
    assert fresh.instance.data["seed"] == seed
    assert fresh.validate_code(codes.generate_codes()[0])
    assert not fresh.validate_code(codes.generate_codes()[0])  # used once


def plain_authenticators(user) -> tuple[Authenticator, Authenticator]:
    """Two-factor rows as allauth stored them before they were sealed."""
    return (
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": TOTP_SECRET}
        ),
        Authenticator.objects.create(
            user=user,
            type=Authenticator.Type.RECOVERY_CODES,
            data={"seed": SEED, "used_mask": 1, "migrated_codes": ["12345678"]},
        ),
    )


def test_the_migration_seals_secrets_stored_in_plain_and_they_still_work(user):
    totp, recovery = plain_authenticators(user)

    import_module(SEALING_MIGRATION).seal_secrets(installed_apps, None)

    assert raw_data(totp)["secret"].startswith("v1.test1.")
    assert TOTP(Authenticator.objects.get(pk=totp.pk)).validate_code(totp_code())
    stored = raw_data(recovery)
    assert SEED not in json.dumps(stored)
    assert "12345678" not in json.dumps(stored)
    assert stored["used_mask"] == 1
    assert RecoveryCodes(Authenticator.objects.get(pk=recovery.pk)).validate_code("12345678")


def test_the_migration_reversed_opens_them_again(user):
    totp, recovery = plain_authenticators(user)
    migration = import_module(SEALING_MIGRATION)
    migration.seal_secrets(installed_apps, None)

    migration.open_secrets(installed_apps, None)

    assert raw_data(totp) == {"secret": TOTP_SECRET}
    assert raw_data(recovery) == {"seed": SEED, "used_mask": 1, "migrated_codes": ["12345678"]}
