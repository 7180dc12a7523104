"""The operator admin for dispatch orders: read-only list and history, and a retry action
that goes through `dispatch.services.order_resume`."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.catalog.models import Provider
from apps.dispatch.models import DispatchOrder, DispatchTransition
from tests.dispatch.conftest import Agent
from tests.factories import UserFactory
from tests.helpers import audit_trail, dashboard_cards, staff_with

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:dispatch_dispatchorder_changelist"


def changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    return len(queries)


def inline_column(page: str, label: str) -> list[str]:
    """The text of each cell of an inline's column, by the column's label."""
    cell = rf'data-label="{label}">\s*(?:<[^>]*>\s*)*([^<]*?)\s*<'
    return re.findall(cell, page)


def dispatch_as_new_user(on_commit) -> DispatchOrder:
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"), on_commit=on_commit)
    response = agent.dispatch()
    assert response.status_code == 202, response.content
    return DispatchOrder.objects.get(pk=response.json()["id"])


def test_changelist_renders_without_a_query_per_order(operator_client, agent):
    first = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])
    with_one = changelist_queries(operator_client)

    more = [dispatch_as_new_user(agent.on_commit) for _ in range(2)]
    with_three = changelist_queries(operator_client)

    assert first.status == "completed"
    assert all(order.status == "completed" for order in more)
    assert with_three == with_one
    page = operator_client.get(reverse(CHANGELIST)).content.decode()
    for order in [first, *more]:
        assert order.user.email in page
        assert str(order.pk) in page


def test_changelist_and_change_page_show_the_status_as_its_badge(operator_client, agent):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    changelist = operator_client.get(reverse(CHANGELIST)).content.decode()
    change = operator_client.get(
        reverse("admin:dispatch_dispatchorder_change", args=[order.pk])
    ).content.decode()

    badge = '<span class="badge badge-success">Completed</span>'
    assert badge in changelist
    assert badge in change


def test_callback_deliveries_show_the_event_and_the_delivery_in_words(operator_client, agent):
    response = agent.dispatch(callback_url="http://127.0.0.1:9/events")  # nobody listens

    page = operator_client.get(
        reverse("admin:dispatch_dispatchorder_change", args=[response.json()["id"]])
    ).content.decode()

    assert inline_column(page, "Event status")[:3] == [
        "Pending",
        "Authorizing payment",
        "Payment authorized",
    ]
    assert set(inline_column(page, "Delivery")) == {"Gave up"}
    assert '<span class="badge badge-danger">Gave up</span>' in page


def test_changelist_searches_and_filters(operator_client, agent):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])
    url = reverse(CHANGELIST)

    searched = operator_client.get(url, {"q": order.user.email})
    filtered = operator_client.get(url, {"status__exact": "completed", "provider__city": "Lagos"})

    assert searched.status_code == 200
    assert str(order.pk) in searched.content.decode()
    assert filtered.status_code == 200
    assert str(order.pk) in filtered.content.decode()


def test_change_view_shows_the_history_and_links(operator_client, agent):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    response = operator_client.get(reverse("admin:dispatch_dispatchorder_change", args=[order.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "With the provider" in page  # the state history, in words
    assert "Completed" in page
    assert "worker" in page
    assert order.confirmation["reference"] in page  # the confirmation, as pretty JSON
    assert reverse("admin:payments_payment_change", args=[order.payment_id]) in page
    assert reverse("admin:trust_receipt_change", args=[order.receipt_id]) in page
    assert 'name="_save"' not in page  # read-only


def test_orders_cannot_be_added_or_deleted(operator_client, agent):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])

    add = operator_client.get(reverse("admin:dispatch_dispatchorder_add"))
    delete = operator_client.get(reverse("admin:dispatch_dispatchorder_delete", args=[order.pk]))

    assert add.status_code == 403
    assert delete.status_code == 403


def test_retry_runs_the_step_a_pending_order_is_waiting_on_in_one_audit_event(
    operator_client, operator, agent, django_capture_on_commit_callbacks
):
    stalled = Agent(agent.user)  # no on_commit: the pipeline is never started
    order = DispatchOrder.objects.get(pk=stalled.dispatch().json()["id"])
    assert order.status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            reverse(CHANGELIST),
            {"action": "retry_step", "_selected_action": [order.pk]},
            follow=True,
        )

    order.refresh_from_db()
    assert order.status == "completed"
    assert order.receipt_id is not None
    resumed = DispatchTransition.objects.get(order=order, actor=f"operator:{operator.email}")
    assert resumed.reason.startswith("resumed:")
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [f"{order.pk}: queued dispatch.authorize_payment."]
    assert audit_trail() == [
        (
            "dispatch.order_retry",
            f"dispatch.dispatchorder:{order.pk}",
            {"step": [None, "dispatch.authorize_payment"]},
            "",
            operator,
        )
    ]


@pytest.mark.parametrize(
    ("codenames", "status"),
    [
        (["dispatch.view_dispatchorder"], "pending"),
        (["dispatch.view_dispatchorder", "dispatch.retry_dispatchorder"], "completed"),
    ],
)
def test_retry_needs_its_permission(agent, django_capture_on_commit_callbacks, codenames, status):
    stalled = Agent(agent.user)  # no on_commit: the pipeline is never started
    order = DispatchOrder.objects.get(pk=stalled.dispatch().json()["id"])

    with django_capture_on_commit_callbacks(execute=True):
        staff_with(*codenames).post(
            reverse(CHANGELIST), {"action": "retry_step", "_selected_action": [order.pk]}
        )

    order.refresh_from_db()
    assert order.status == status


def test_retry_refuses_a_disputed_order_and_changes_nothing(
    operator_client, agent, django_capture_on_commit_callbacks
):
    order = DispatchOrder.objects.get(pk=agent.dispatch().json()["id"])
    DispatchOrder.objects.filter(pk=order.pk).update(status="disputed")
    transitions = order.transitions.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = operator_client.post(
            reverse(CHANGELIST),
            {"action": "retry_step", "_selected_action": [order.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert "A disputed order is in the operators&#x27; hands." in response.content.decode()
    order.refresh_from_db()
    assert order.status == "disputed"
    assert order.transitions.count() == transitions
    assert callbacks == []
    assert audit_trail() == []


def test_the_dashboard_counts_last_weeks_dispatches_and_stuck_orders(agent, operator_client):
    Provider.objects.filter(name="Lagos Plumber A").update(sandbox_behaviour="decline")
    agent.dispatch()
    agent.dispatch(key="k2")
    DispatchOrder.objects.update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    stuck = DispatchOrder.objects.filter(receipt__isnull=False).first()
    DispatchOrder.objects.filter(pk=stuck.pk).update(status="capturing")

    kpis = dashboard_cards(operator_client)
    stuck_list = operator_client.get(kpis["Stuck now"]["link"]).content.decode()

    assert kpis["Dispatched, last 7 days"]["value"] == 2
    assert (kpis["Completed"]["value"], kpis["Completed"]["trend"]) == ("0%", "0 of 1 finished")
    assert kpis["Intent to receipt (median)"]["value"].endswith(" s")
    assert kpis["Stuck now"]["value"] == 1
    assert str(stuck.pk)[:8] in stuck_list


def test_an_order_shows_operators_only_the_end_of_the_payers_phone(
    operator_client, catalog, wednesday_morning
):
    kenyan = Agent(UserFactory(country="KE", preferred_currency=""))
    order_id = kenyan.dispatch(
        text="plumber in Nairobi tomorrow morning", payer_account="254711223344"
    ).json()["id"]

    page = operator_client.get(
        reverse("admin:dispatch_dispatchorder_change", args=[order_id])
    ).content.decode()

    assert "254711223344" not in page
    assert "••••••••3344" in page
