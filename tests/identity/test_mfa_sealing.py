"""Two-factor secrets are sealed at rest: a database dump gives no one's codes away, and
allauth still signs people in with them."""

import copy
import json
import pickle
from importlib import import_module

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps as installed_apps
from django.db import connection

from apps.core.sealing import UndecryptableValue
from tests.helpers import TOTP_SECRET, give_totp, totp_code

pytestmark = pytest.mark.django_db

SEALING_MIGRATION = "apps.identity.migrations.0010_seal_mfa_secrets"
BINDING_MIGRATION = "apps.identity.migrations.0011_bind_mfa_secrets"
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


def copy_secret(source: Authenticator, name: str, target: Authenticator, onto: str) -> None:
    """Copy a sealed secret from one row to another, as someone writing to the database
    directly would."""
    data = {**raw_data(target), onto: raw_data(source)[name]}
    Authenticator.objects.filter(pk=target.pk).update(data=data)


def test_a_totp_secret_copied_onto_another_users_authenticator_does_not_open(user, other_user):
    victims = give_totp(user)
    own = TOTP.activate(other_user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").instance

    copy_secret(victims, "secret", own, onto="secret")

    copied = TOTP(Authenticator.objects.get(pk=own.pk))
    with pytest.raises(UndecryptableValue):
        copied.validate_code(totp_code())


def test_a_recovery_code_seed_copied_onto_the_users_totp_secret_does_not_open(user):
    totp, recovery = give_totp(user), RecoveryCodes.activate(user).instance

    copy_secret(recovery, "seed", totp, onto="secret")

    with pytest.raises(UndecryptableValue):
        TOTP(Authenticator.objects.get(pk=totp.pk)).validate_code(totp_code())


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


@pytest.mark.parametrize(
    "duplicate",
    [copy.deepcopy, lambda obj: pickle.loads(pickle.dumps(obj))],  # noqa: S301 - our own bytes
    ids=["deep copy", "pickle"],
)
def test_an_authenticator_copied_or_pickled_still_checks_codes(user, duplicate):
    authenticator = give_totp(user)

    duplicated = duplicate(Authenticator.objects.get(pk=authenticator.pk))

    assert duplicated.data["secret"].context == authenticator.data["secret"].context
    assert TOTP(duplicated).validate_code(totp_code())


def test_the_migrations_seal_secrets_stored_in_plain_and_they_still_work(user):
    totp, recovery = plain_authenticators(user)

    import_module(SEALING_MIGRATION).seal_secrets(installed_apps, None)
    import_module(BINDING_MIGRATION).bind_secrets(installed_apps, None)

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


def test_secrets_sealed_before_the_binding_migration_are_bound_to_their_authenticator(
    user, other_user
):
    totp, _ = plain_authenticators(user)
    import_module(SEALING_MIGRATION).seal_secrets(installed_apps, None)

    import_module(BINDING_MIGRATION).bind_secrets(installed_apps, None)

    assert TOTP(Authenticator.objects.get(pk=totp.pk)).validate_code(totp_code())
    own = Authenticator.objects.create(user=other_user, type=Authenticator.Type.TOTP, data={})
    copy_secret(totp, "secret", own, onto="secret")
    with pytest.raises(UndecryptableValue):
        TOTP(Authenticator.objects.get(pk=own.pk)).validate_code(totp_code())


def test_the_binding_migration_reversed_leaves_them_as_the_sealing_migration_made_them(user):
    totp, recovery = plain_authenticators(user)
    sealing_migration, binding_migration = map(
        import_module, (SEALING_MIGRATION, BINDING_MIGRATION)
    )
    sealing_migration.seal_secrets(installed_apps, None)
    binding_migration.bind_secrets(installed_apps, None)

    binding_migration.unbind_secrets(installed_apps, None)
    sealing_migration.open_secrets(installed_apps, None)

    assert raw_data(totp) == {"secret": TOTP_SECRET}
    assert raw_data(recovery) == {"seed": SEED, "used_mask": 1, "migrated_codes": ["12345678"]}
