"""The user's dispatch pages speak the provider's local time (the browser tests cover
the flow; these pin what the page says)."""

import pytest
from django.test import Client

from apps.dispatch.models import DispatchOrder
from apps.trust import services as trust_services
from apps.trust.models import Dispute
from tests.dispatch.conftest import ANYTIME, Agent

pytestmark = pytest.mark.django_db


def _page(user, path: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def _detail_page(user, order_id) -> str:
    return _page(user, f"/me/dispatches/{order_id}/")


def test_the_user_sees_what_each_of_their_agents_dispatched(agent):
    agent.dispatch(text=ANYTIME)
    Agent(agent.user, on_commit=agent.on_commit, name="Home helper").dispatch(text=ANYTIME)

    page = _page(agent.user, "/me/dispatches/")

    assert "Trip planner" in page
    assert "Home helper" in page


def test_the_window_and_the_booking_are_shown_in_the_providers_city_time(agent):
    order_id = agent.dispatch().json()["id"]  # tomorrow morning in Lagos, 07:00-11:00 UTC

    page = _detail_page(agent.user, order_id)

    assert "Lagos, Thu 26 Nov 2026, 08:00 to 12:00 (Lagos time)" in page
    assert "for Thu 26 Nov 2026, 08:00 (Lagos time)" in page


def test_a_request_without_a_window_says_any_time(agent):
    order_id = agent.dispatch(text=ANYTIME).json()["id"]

    assert "Lagos, any time" in _detail_page(agent.user, order_id)


@pytest.mark.parametrize(
    "written",
    ["first thing Thursday", "9999-12-31T23:59:00-12:00"],  # words; past the calendar's end
)
def test_a_booked_time_the_page_cannot_convert_is_shown_as_written(agent, written):
    order_id = agent.dispatch().json()["id"]
    order = DispatchOrder.objects.get(pk=order_id)
    order.confirmation = {**order.confirmation, "scheduled_for": written}
    order.save()

    assert f"for {written}</dd>" in _detail_page(agent.user, order_id)


def test_a_status_reads_as_words_in_its_badge_colour(agent):
    order_id = agent.dispatch(text=ANYTIME).json()["id"]

    listed = _page(agent.user, "/me/dispatches/")
    detail = _detail_page(agent.user, order_id)

    assert '<span class="badge badge-success">Completed</span>' in listed
    assert '<span class="badge badge-success">Completed</span>' in detail
    assert "— Completed: payment captured</li>" in detail


def test_a_dispute_resolved_as_a_refund_reads_refunded(agent, django_capture_on_commit_callbacks):
    order = DispatchOrder.objects.get(pk=agent.dispatch(text=ANYTIME).json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        dispute = trust_services.dispute_open(
            receipt=order.receipt, opened_by="buyer", reason="not_delivered", user=order.user
        )
    with django_capture_on_commit_callbacks(execute=True):
        trust_services.dispute_resolve(dispute=dispute, outcome=Dispute.Status.RESOLVED_REFUNDED)

    detail = _detail_page(agent.user, order.pk)

    assert '<span class="badge badge-neutral">Refunded</span>' in detail
    assert "— Disputed: dispute" in detail
    assert "resolved_refunded" not in detail
