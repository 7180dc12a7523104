"""Dispatching refuses what the intent cannot honestly promise, before any money moves:
a city nobody serves, a window that has passed, a callback URL the order cannot store."""

import pytest

from apps.dispatch.models import DispatchOrder
from apps.payments.models import Payment, Quote

pytestmark = pytest.mark.django_db


def assert_nothing_happened():
    assert not Payment.objects.exists()
    assert not Quote.objects.exists()
    assert not DispatchOrder.objects.exists()


def test_a_city_nobody_serves_books_nothing_elsewhere(agent):
    response = agent.dispatch(text="book a plumber in Manchester under £50 tomorrow morning")

    assert response.status_code == 422
    assert response.json()["error"]["details"]["constraint"] == "location"
    assert_nothing_happened()


def test_a_structured_location_in_another_country_books_nothing(agent):
    intent = {
        "capability": "home.plumbing",
        "location": {"city": "London", "country": "CA"},
        "details": {"problem": "Leaking tap"},
    }

    response = agent.post("/api/v1/dispatches", {"intent": intent}, HTTP_IDEMPOTENCY_KEY="ca")

    assert response.status_code == 422
    assert response.json()["error"]["details"]["constraint"] == "location"
    assert_nothing_happened()


def test_a_window_in_the_past_books_nothing(agent):
    intent = {
        "capability": "home.plumbing",
        "location": {"city": "Lagos", "country": "NG"},
        "window": {"start": "2020-01-06T08:00:00Z", "end": "2020-01-06T12:00:00Z"},
        "details": {"problem": "Leaking tap"},
    }

    response = agent.post("/api/v1/dispatches", {"intent": intent}, HTTP_IDEMPOTENCY_KEY="2020")

    assert response.status_code == 422
    assert response.json()["error"]["details"]["constraint"] == "window"
    assert_nothing_happened()


def test_a_callback_url_longer_than_the_order_keeps_is_a_400(agent):
    long_url = "https://agent.example/" + "e" * 180

    response = agent.dispatch(callback_url=long_url)

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["callback_url"][0]["code"] == "max_length"
    assert_nothing_happened()


def test_a_callback_url_of_200_characters_is_kept(agent):
    url = "https://agent.example/" + "e" * 178

    response = agent.dispatch(callback_url=url)

    assert response.status_code == 202, response.content
    assert response.json()["callback_url"] == url
