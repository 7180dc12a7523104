"""Exports: staff holding a list's export permission download it as CSV, filtered and
searched as the list is, and every download is one audit event; nothing imports."""

import csv
import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.forms import BooleanField
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from import_export.formats.base_formats import CSV

from apps.catalog.demo import seed as seed_catalog
from apps.core import audit
from apps.core.models import AuditChain, AuditEvent
from apps.dispatch.models import DispatchOrder
from apps.payments import lifecycle as payment_lifecycle
from apps.payments import refunds
from apps.trust import services as trust_services
from tests.admin_rows import ROWS, rails_and_rates
from tests.dispatch.conftest import ANYTIME, Agent
from tests.factories import UserFactory, make_payment, make_quote, make_receipt
from tests.helpers import sign_in_with_mfa, staff_with

pytestmark = pytest.mark.django_db

DECIMAL_TEXT = re.compile(r"^\d+\.\d+$")  # what a float or an exponent would not be
CURRENCY = re.compile(r"^[A-Z]{3}$")


@pytest.fixture(autouse=True)
def _rails_and_rates(db):
    rails_and_rates()


# ---------------------------------------------------------------------------
# Two rows of each list: one the filter keeps, one it leaves out
# ---------------------------------------------------------------------------


def captured_payment(user=None):
    payment = make_payment(user or UserFactory())
    payment_lifecycle.payment_authorize(payment_id=payment.pk)
    return payment_lifecycle.payment_capture(payment_id=payment.pk)


def payments():
    make_payment(UserFactory())  # pending
    return captured_payment(), {"status__exact": "captured"}


def refunds_():
    refunds.refund_create(payment_id=captured_payment().pk, reason="asked by the payer")
    kept = refunds.refund_create(payment_id=captured_payment().pk, reason="asked by the payer")
    return kept, {"q": str(kept.payment_id)}


def dispatch_orders():
    seed_catalog()
    users = [UserFactory(), UserFactory()]
    for n, user in enumerate(users):
        assert Agent(user).dispatch(key=f"order-{n}", text=ANYTIME).status_code == 202
    return DispatchOrder.objects.get(user=users[1]), {"q": users[1].email}


def receipts():
    make_receipt(UserFactory(), resolution="failed")
    return make_receipt(UserFactory()), {"resolution__exact": "completed"}


def disputes():
    trust_services.dispute_open(
        receipt=make_receipt(UserFactory()), opened_by="buyer", reason="not_delivered"
    )
    kept = trust_services.dispute_open(
        receipt=make_receipt(UserFactory()), opened_by="buyer", reason="not_delivered"
    )
    return trust_services.dispute_start_review(dispute=kept), {"status__exact": "under_review"}


def audit_events():
    audit.record(action="catalog.skill_publish", obj=UserFactory())
    kept = audit.record(action="identity.user_update", obj=UserFactory())
    return kept, {"action__exact": "identity.user_update"}


@dataclass(frozen=True)
class Case:
    label: str  # "app.model"
    role: str  # a role that exports this list
    rows: Callable[[], tuple[Model, dict]]  # -> (the row the filter keeps, the filter)
    id_column: str
    money: Callable[[Model], dict[str, str]]  # the kept row's money columns, as exported


def amounts(**columns: str) -> Callable[[Model], dict[str, str]]:
    """Money columns read from the row: {column: "attribute path of its Money"}."""

    def expected(row: Model) -> dict[str, str]:
        values = {}
        for column, path in columns.items():
            money = row
            for attribute in path.split("."):
                money = getattr(money, attribute)
            values[column] = format(money.amount, "f")
            values[f"{column}_currency"] = str(money.currency)
        return values

    return expected


def signed_amounts(receipt_of: Callable[[Model], Model]) -> Callable[[Model], dict[str, str]]:
    """A receipt's amounts as it signed them."""

    def expected(row: Model) -> dict[str, str]:
        amount = receipt_of(row).payload["amount"]
        return {
            "local_amount": amount["local"]["amount"],
            "local_amount_currency": amount["local"]["currency"],
            "settled_amount": amount["settled"]["amount"],
            "settled_amount_currency": amount["settled"]["currency"],
        }

    return expected


CASES = [
    Case(
        "payments.payment",
        "Finance",
        payments,
        "id",
        amounts(
            local_amount="local_amount",
            settled_amount="settled_amount",
            captured_amount="captured_amount",
            refunded_amount="refunded_amount",
        ),
    ),
    Case("payments.refund", "Finance", refunds_, "id", amounts(amount="amount")),
    Case(
        "dispatch.dispatchorder",
        "Compliance",
        dispatch_orders,
        "id",
        amounts(local_amount="quote.local_amount"),
    ),
    Case("trust.receipt", "Trust & Safety", receipts, "id", signed_amounts(lambda r: r)),
    Case("trust.dispute", "Trust & Safety", disputes, "id", signed_amounts(lambda d: d.receipt)),
    Case("core.auditevent", "Compliance", audit_events, "sequence", lambda _: {}),
]


# ---------------------------------------------------------------------------
# Downloading as an operator would
# ---------------------------------------------------------------------------


def export_url(label: str, query: dict | None = None) -> str:
    url = reverse(f"admin:{label.replace('.', '_')}_export")
    return f"{url}?{urlencode(query)}" if query else url


def as_submitted(form) -> dict:
    """What a browser posts for the export form as shown: every column ticked, the one
    format, the one resource."""
    data = {}
    for name, field in form.fields.items():
        initial = form.get_initial_for_field(field, name)
        if isinstance(field, BooleanField):
            if initial:
                data[name] = "on"
        elif initial is not None:  # the selected rows' ids, from a list action, are none
            data[name] = initial
    return data


def download(client: Client, label: str, query: dict | None = None):
    """Open the export page from the list (its filters in the URL), then submit it."""
    url = export_url(label, query)
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, as_submitted(page.context["form"]))


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def staff_in(role: str) -> Client:
    member = UserFactory(is_staff=True)
    member.groups.add(Group.objects.get(name=role))
    return sign_in_with_mfa(Client(raise_request_exception=False), member)


def export_events(label: str):
    return AuditEvent.objects.filter(action=f"{label}.export")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_a_role_that_exports_a_list_downloads_its_filtered_rows_as_csv(case):
    kept, query = case.rows()
    client = staff_in(case.role)

    response = download(client, case.label, query)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = csv_rows(response)
    assert [row[case.id_column] for row in rows] == [str(getattr(kept, case.id_column))]
    money = case.money(kept)
    assert {column: rows[0][column] for column in money} == money
    for column, value in money.items():
        assert CURRENCY.match(value) if column.endswith("_currency") else DECIMAL_TEXT.match(value)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_each_download_is_one_audit_event_with_its_rows_columns_and_filters(case):
    _, query = case.rows()
    client = staff_in(case.role)

    shown = client.get(export_url(case.label, query))
    assert not export_events(case.label).exists()  # showing the form is no export
    response = client.post(export_url(case.label, query), as_submitted(shown.context["form"]))

    event = export_events(case.label).get()
    header = response.content.decode().splitlines()[0]
    assert (event.object_type, event.object_id) == (case.label, "")
    assert event.actor_email == response.wsgi_request.user.email
    assert event.changes == {
        "rows": [None, 1],
        "columns": [None, header.replace(",", ", ")],
        "filters": [None, urlencode(query)],
    }


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_staff_without_the_export_permission_are_refused_and_nothing_is_recorded(case):
    case.rows()
    support = staff_in("Support")  # views payments, orders and disputes; exports nothing
    view, export = case.label.replace(".", ".view_"), case.label.replace(".", ".export_")
    url = export_url(case.label)

    refused = [
        support.get(url),
        support.post(url, {"resource": "0", "format": "0"}),
        staff_with(view).post(url, {"resource": "0", "format": "0"}),
        staff_with(export).post(url, {"resource": "0", "format": "0"}),  # cannot see the list
    ]

    assert [response.status_code for response in refused] == [403, 403, 403, 403]
    assert not export_events(case.label).exists()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_the_list_offers_the_export_only_to_who_may_export(case):
    case.rows()
    changelist = reverse(f"admin:{case.label.replace('.', '_')}_changelist")

    exporter = staff_in(case.role).get(changelist).content.decode()
    viewer = staff_with(case.label.replace(".", ".view_")).get(changelist).content.decode()

    assert export_url(case.label) in exporter
    assert export_url(case.label) not in viewer


def test_text_that_would_be_a_formula_in_a_spreadsheet_is_exported_as_text():
    user = UserFactory()
    payment_lifecycle.payment_create(
        user=user, quote=make_quote(user), reference="=HYPERLINK(1)", idempotency_key="formula"
    )

    rows = csv_rows(download(staff_in("Finance"), "payments.payment"))

    assert [row["reference"] for row in rows] == ["'=HYPERLINK(1)"]


def test_an_export_holds_no_secret_or_private_columns():
    private = re.compile(r"key|secret|sealed|jws|payload|payer|evidence|intent|details|callback")

    exposed = {(case.label, column) for case in CASES for column in export_headers(case.label)}

    assert {(label, column) for label, column in exposed if private.search(column)} == set()


def export_headers(label: str) -> list[str]:
    model_admin = next(
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.label_lower == label
    )
    [resource] = model_admin.get_export_resource_classes(request=None)
    return resource().get_export_headers()


def test_no_list_can_be_imported():
    every_url = url_names(get_resolver().url_patterns)

    assert {name for name in every_url if "import" in name} == set()
    assert {"payments_payment_export", "core_auditevent_export"} <= every_url


def url_names(patterns) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= url_names(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


# ---------------------------------------------------------------------------
# A download costs as many queries for many rows as for one
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.label)
def test_a_download_issues_as_many_queries_for_many_rows_as_for_one(case, operator_client):
    build = ROWS[case.label]

    build(0)
    with_one = download_queries(operator_client, case.label)
    for n in range(1, 5):
        build(n)
    with_many = download_queries(operator_client, case.label)

    assert with_many == with_one


def download_queries(client: Client, label: str) -> int:
    page = client.get(export_url(label))
    submitted = as_submitted(page.context["form"])
    client.post(export_url(label), submitted)  # the first event makes the chain's head row
    with CaptureQueriesContext(connection) as captured:
        response = client.post(export_url(label), submitted)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("query", ["created_at__gte=not-a-date", "no_such_field=1"])
def test_a_filter_the_list_refuses_sends_the_export_back_to_the_list_as_the_list_does(query):
    captured_payment()
    finance = staff_in("Finance")
    url = f"{export_url('payments.payment')}?{query}"

    shown, posted = finance.get(url), finance.post(url, {"format": "0", "resource": "0"})

    for response in (shown, posted):
        assert (response.status_code, response["Location"]) == (302, "/admin/payments/payment/?e=1")
    assert not export_events("payments.payment").exists()


@pytest.mark.django_db(transaction=True)
def test_other_operators_act_while_an_export_is_being_written(monkeypatch):
    captured_payment()
    # By permissions, not the role: a transactional test's database has no migrated groups
    # once another such test has flushed it.
    finance = staff_with("payments.view_payment", "payments.export_payment")
    url = export_url("payments.payment")
    form = as_submitted(finance.get(url).context["form"])
    finance.post(url, form)  # the chain's head row exists from here
    write_file, seen = CSV.export_data, {}

    def write_while_another_operator_acts(self, dataset, **kwargs):
        acting = threading.Thread(target=another_operator_acts)
        acting.start()
        acting.join(10)
        return write_file(self, dataset, **kwargs)

    def another_operator_acts():
        try:
            with transaction.atomic():
                AuditChain.objects.select_for_update(nowait=True).get(pk=1)
            seen["chain"] = "free"
        except DatabaseError:
            seen["chain"] = "locked"
        finally:
            connection.close()

    monkeypatch.setattr(CSV, "export_data", write_while_another_operator_acts)
    finance.post(url, form)

    assert seen == {"chain": "free"}
    assert export_events("payments.payment").count() == 2
