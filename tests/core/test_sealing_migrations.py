"""The migrations that seal personal fields, run on rows written before them: undone, they
put every value back in plain; done again, they seal it, and the live code reads it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.dispatch.models import DispatchOrder
from apps.memory import selectors as memory_selectors
from apps.memory.models import MemoryItem
from apps.payments.models import Payment
from tests.dispatch.conftest import Agent
from tests.factories import UserFactory
from tests.helpers import stored_row

BEFORE_SEALING = [
    ("payments", "0016_refund_requested_for_and_running_total"),
    ("dispatch", "0006_export_permission"),
    ("memory", "0003_evidence_is_never_deleted"),
]
PHONE, OTHER_PHONE = "254711223344", "254799000111"
DETAILS = {"problem": "Burst pipe", "address_area": "14 Ngong Road, Kilimani"}


@pytest.fixture
def migrate(transactional_db):
    """Migrate to the targets and return their models; the latest schema comes back after."""
    executor = MigrationExecutor(connection)

    def to(targets):
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield to
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_payer_accounts_details_and_memory_keys_are_sealed_by_the_migrations(migrate, catalog):
    kenyan = Agent(
        UserFactory(country="KE", preferred_currency=""),
        scopes=["dispatch:create", "dispatch:read", "memory:write:home"],
    )
    order_id = kenyan.dispatch(
        text="book a plumber in Nairobi under £50", details=DETAILS, payer_account=PHONE
    ).json()["id"]
    kenyan.post(
        "/api/v1/memory",
        {"product": "gerahome", "scope": "home", "kind": "preference", "key": "gate_code",
         "value": {"code": "4417"}},
    )  # fmt: skip
    payment_id = DispatchOrder.objects.get(pk=order_id).payment_id

    old = migrate(BEFORE_SEALING)
    order = old.get_model("dispatch", "DispatchOrder").objects.get(pk=order_id)
    item = old.get_model("memory", "MemoryItem").objects.get()
    assert (order.payer_account, order.details, item.key) == (PHONE, DETAILS, "gate_code")
    old.get_model("payments", "Payment").objects.update(payer_account=OTHER_PHONE)
    migrate(latest())

    rows = stored_row(DispatchOrder, order_id) + stored_row(Payment, payment_id)
    assert [text for text in (PHONE, OTHER_PHONE, "Ngong Road") if text in rows] == []
    assert "gate_code" not in stored_row(MemoryItem, MemoryItem.objects.get().pk)
    order = DispatchOrder.objects.get(pk=order_id)
    assert (order.payer_account, order.details) == (PHONE, DETAILS)
    assert Payment.objects.get(pk=payment_id).payer_account == OTHER_PHONE
    (item,) = memory_selectors.memory_items_for_user(user=kenyan.user)
    assert (item.key, item.value) == ("gate_code", {"code": "4417"})
