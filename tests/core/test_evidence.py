"""Records that are evidence are never deleted: the admin offers no Delete for them,
superusers included, deleting what they name is refused cleanly, and PostgreSQL refuses
their DELETE whatever the code does."""

import pytest
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from apps.identity.models import User
from apps.memory import services as memory_services
from apps.memory.models import AccessLogEntry, ConsentGrant, MemoryScope
from tests.admin_rows import ROWS, rails_and_rates
from tests.factories import UserFactory, product

pytestmark = pytest.mark.django_db

EVIDENCE = [
    "core.auditevent",
    "payments.payment",
    "payments.refund",
    "payments.providerevent",
    "trust.receipt",
    "trust.dispute",
    "memory.consentgrant",
    "memory.accesslogentry",
]
# A payment's history is shown only inside its payment, and kept with it.
EVIDENCE_TABLES = [*EVIDENCE, "payments.paymentevent"]
# What PostgreSQL answers (receipts and the audit log refused DELETE first).
REFUSALS = "never deleted|receipts are immutable|the audit log is append-only"


@pytest.fixture(autouse=True)
def _rails_and_rates(db):
    rails_and_rates()


def admin_url(label: str, view: str, *args) -> str:
    return reverse(f"admin:{label.replace('.', '_')}_{view}", args=args)


def offered_actions(client: Client, label: str) -> set[str]:
    action_form = client.get(admin_url(label, "changelist")).context["action_form"]
    return {name for name, _ in action_form.fields["action"].choices} if action_form else set()


@pytest.mark.parametrize("label", EVIDENCE)
def test_the_admin_offers_no_delete_of_evidence_even_to_a_superuser(label, operator_client):
    ROWS[label](0)
    record = apps.get_model(label).objects.get()
    delete = admin_url(label, "delete", record.pk)

    change_page = operator_client.get(admin_url(label, "change", record.pk))
    bulk = operator_client.post(
        admin_url(label, "changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [record.pk], "post": "yes"},
    )

    assert change_page.status_code == 200
    assert delete not in change_page.content.decode()
    assert "delete_selected" not in offered_actions(operator_client, label)
    assert operator_client.get(delete).status_code == 403
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    assert bulk.status_code in (200, 302)
    assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite cannot refuse DELETE")
@pytest.mark.parametrize("label", EVIDENCE_TABLES)
def test_postgresql_refuses_to_delete_evidence(label):
    ROWS.get(label, ROWS["payments.payment"])(0)
    table = apps.get_model(label)._meta.db_table

    with pytest.raises(DatabaseError, match=REFUSALS), transaction.atomic():
        connection.cursor().execute(f"DELETE FROM {table}")  # noqa: S608

    assert apps.get_model(label).objects.exists()


def a_user_whose_memory_was_read() -> User:
    user = UserFactory()
    memory_services.consent_set(
        user=user,
        product=product("geraclinic"),
        scope=MemoryScope.objects.get(code="health"),
        allow=True,
    )
    memory_services.memory_read(
        user=user, product=product("geraclinic"), scope=MemoryScope.objects.get(code="health")
    )
    return user


NAMED_BY_EVIDENCE = pytest.mark.parametrize(
    ("label", "subject"),
    [
        ("identity.user", lambda user: user),
        ("catalog.product", lambda user: product("geraclinic")),
        ("memory.memoryscope", lambda user: MemoryScope.objects.get(code="health")),
    ],
    ids=["user", "product", "scope"],
)


@NAMED_BY_EVIDENCE
def test_deleting_what_evidence_names_is_refused_before_the_database(label, subject):
    record = subject(a_user_whose_memory_was_read())

    with pytest.raises(ProtectedError):
        record.delete()


@NAMED_BY_EVIDENCE
def test_the_admin_refuses_to_delete_what_evidence_names(label, subject, operator_client):
    record = subject(a_user_whose_memory_was_read())
    delete = admin_url(label, "delete", record.pk)

    asked = operator_client.get(delete)
    posted = operator_client.post(delete, {"post": "yes"})

    for page in (asked, posted):
        assert page.status_code == 200
        assert "Cannot delete" in page.content.decode()
    assert type(record).objects.filter(pk=record.pk).exists()
    assert ConsentGrant.objects.exists()
    assert AccessLogEntry.objects.exists()
