"""Memory values are AES-GCM sealed at rest; keys rotate without losing an item."""

from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps as installed_apps
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from apps.core import sealing
from apps.memory import crypto, selectors, services
from apps.memory.models import MemoryItem
from tests.helpers import stored_row

pytestmark = pytest.mark.django_db

SECRET = "Allergic to penicillin; prefers Dr Okafor"
BINDING_MIGRATION = "apps.memory.migrations.0005_bind_memory_items"
SEALED_COLUMNS = ("key_sealed", "key_hash", "value_encrypted")


def store(user, product, scope, key="note", value=None):
    return services.memory_write(
        user=user,
        product=product,
        scope=scope,
        kind="preference",
        key=key,
        value=value or {"note": SECRET},
    )


def raw_column(item_id: int, column: str = "value_encrypted") -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM memory_memoryitem WHERE id = %s",  # noqa: S608
            [item_id],
        )
        return cursor.fetchone()[0]


def test_database_holds_no_plaintext(user, gerahome, scope):
    item = store(user, gerahome, scope("home"))

    raw = raw_column(item.pk)

    assert SECRET not in raw
    assert "Allergic" not in raw
    assert raw.startswith("v1.test1.")
    assert selectors.memory_item_get(user=user, item_id=item.pk).value == {"note": SECRET}


def test_the_key_an_item_is_kept_under_is_sealed_too(user, gerahome, scope):
    item = store(user, gerahome, scope("home"), key="diagnosis_diabetes")

    row = stored_row(MemoryItem, item.pk)

    assert "diagnosis_diabetes" not in row
    assert "diabetes" not in row
    assert selectors.memory_item_get(user=user, item_id=item.pk).key == "diagnosis_diabetes"


def test_one_key_is_one_item_in_its_place_whatever_the_writes(user, gerahome, scope):
    store(user, gerahome, scope("home"), key="boiler", value={"make": "Vaillant"})
    store(user, gerahome, scope("home"), key="boiler", value={"make": "Worcester"})
    store(user, gerahome, scope("preferences"), key="boiler", value={"make": "Ideal"})

    items = selectors.memory_items_for_user(user=user)

    assert [(i.scope.code, i.key, i.value) for i in items] == [
        ("home", "boiler", {"make": "Worcester"}),
        ("preferences", "boiler", {"make": "Ideal"}),
    ]


def test_the_database_refuses_a_second_item_under_the_same_key(user, gerahome, scope):
    item = store(user, gerahome, scope("home"), key="boiler")
    copy = MemoryItem.objects.get(pk=item.pk)
    copy.pk = None

    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_a_value_moved_to_another_row_does_not_decrypt(user, gerahome, scope):
    first = store(user, gerahome, scope("home"), key="a")
    second = store(user, gerahome, scope("home"), key="b", value={"other": 1})
    MemoryItem.objects.filter(pk=second.pk).update(value_encrypted=raw_column(first.pk))

    with pytest.raises(sealing.UndecryptableValue):
        selectors.memory_item_get(user=user, item_id=second.pk)


def test_an_items_sealed_key_and_value_swapped_with_another_of_its_items_do_not_open(
    user, gerahome, scope
):
    gate = store(user, gerahome, scope("home"), key="gate_code", value={"code": "4417"})
    alarm = store(user, gerahome, scope("home"), key="alarm_code", value={"code": "0000"})
    sealed = {
        item.pk: {c: raw_column(item.pk, c) for c in SEALED_COLUMNS} for item in (gate, alarm)
    }

    MemoryItem.objects.filter(pk=gate.pk).update(key_hash="")  # its place, for a moment
    MemoryItem.objects.filter(pk=alarm.pk).update(**sealed[gate.pk])
    MemoryItem.objects.filter(pk=gate.pk).update(**sealed[alarm.pk])

    for item in (gate, alarm):
        with pytest.raises(sealing.UndecryptableValue):
            selectors.memory_item_get(user=user, item_id=item.pk)


def test_items_sealed_before_the_binding_migration_are_bound_by_it_and_unbound_undone(
    user, gerahome, scope
):
    item = store(user, gerahome, scope("home"), key="gate_code", value={"code": "4417"})
    migration = import_module(BINDING_MIGRATION)

    migration.unbind_items(installed_apps, None)
    with pytest.raises(sealing.UndecryptableValue):  # as the items were before it
        selectors.memory_item_get(user=user, item_id=item.pk)
    migration.bind_items(installed_apps, None)

    found = selectors.memory_item_get(user=user, item_id=item.pk)
    assert (found.key, found.value) == ("gate_code", {"code": "4417"})
    assert raw_column(item.pk, "key_hash") == item.key_hash


def test_rotation_reencrypts_every_item_and_keeps_it_readable(settings, user, gerahome, scope):
    items = [store(user, gerahome, scope("home"), key=f"k{n}", value={"n": n}) for n in range(3)]
    new_key = sealing.generate_key_entry("test2")
    settings.GERAOS_MEMORY_KEYS = f"{new_key},{settings.GERAOS_MEMORY_KEYS}"

    call_command("rotate_memory_key", stdout=StringIO())

    for item in items:
        assert raw_column(item.pk).startswith("v1.test2.")
    settings.GERAOS_MEMORY_KEYS = new_key  # the old key is gone
    assert [selectors.memory_item_get(user=user, item_id=i.pk).value for i in items] == [
        {"n": n} for n in range(3)
    ]


def test_rotation_moves_a_value_stored_before_the_size_cap(settings, user, gerahome, scope):
    item = store(user, gerahome, scope("home"))
    legacy = crypto.encrypt_value({"note": "x" * 20_000}, context=item.encryption_context)
    MemoryItem.objects.filter(pk=item.pk).update(value_encrypted=legacy)
    settings.GERAOS_MEMORY_KEYS = (
        f"{sealing.generate_key_entry('test2')},{settings.GERAOS_MEMORY_KEYS}"
    )

    call_command("rotate_memory_key", stdout=StringIO())

    assert raw_column(item.pk).startswith("v1.test2.")


def test_value_under_an_unknown_key_is_refused(settings, user, gerahome, scope):
    item = store(user, gerahome, scope("home"))
    settings.GERAOS_MEMORY_KEYS = sealing.generate_key_entry("other")

    with pytest.raises(sealing.UndecryptableValue):
        selectors.memory_item_get(user=user, item_id=item.pk)
