"""The resolver: intent -> provider -> rail -> quote, or a 422 naming what failed."""

import datetime as dt

import pytest
from django.test import Client

from apps.catalog.demo import seed as seed_catalog
from apps.payments import fx
from apps.payments.models import Rail, RoutingRule
from apps.payments.rails import ensure_default_rails
from tests.factories import UserFactory, make_grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalog(db):
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    seed_catalog()


@pytest.fixture(autouse=True)
def wednesday_morning(monkeypatch):
    frozen = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr("apps.dispatch.resolver.timezone.now", lambda: frozen)


def resolve(text: str, country: str = "NG"):
    user = UserFactory(country=country, preferred_currency="")
    _, token = make_grant(user, scopes=["dispatch:create"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        "/api/v1/intents/resolve", {"text": text}, content_type="application/json"
    )


def test_the_plumber_in_lagos_example():
    body = resolve("book a plumber in Lagos under £50 tomorrow morning").json()

    assert body["intent"]["capability"] == "home.plumbing"
    assert body["intent"]["window"]["start"].startswith("2026-11-26T08:00:00+01:00")  # Lagos
    assert body["provider"]["name"] == "Lagos Plumber A"  # mornings, cheaper, better rated
    assert body["quote"]["rail"] == "stripe"
    assert body["quote"]["local_amount"]["currency"] == "NGN"


def test_afternoon_picks_the_provider_working_afternoons():
    body = resolve("plumber in Lagos under £70 tomorrow afternoon").json()

    assert body["provider"]["name"] == "Lagos Plumber B"


def test_too_low_a_budget_names_the_cheapest_option():
    response = resolve("plumber in Lagos under £20 tomorrow morning")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "no_match"
    assert error["details"]["constraint"] == "max_price"
    assert error["message"] == "The cheapest plumber visit in Lagos in that window is £42.00."


def test_nobody_available_on_sunday_morning():
    response = resolve("plumber in Nairobi sunday morning")

    assert response.status_code == 422
    assert response.json()["error"]["details"]["constraint"] == "window"


def test_kenyan_user_is_quoted_in_shillings_on_mpesa():
    body = resolve("plumber in Nairobi tomorrow morning", country="KE").json()

    assert body["quote"]["rail"] == "mpesa"
    assert body["quote"]["local_amount"]["currency"] == "KES"


def test_unknown_capability_is_a_422():
    response = resolve("walk my dog in London tomorrow")

    assert response.json()["error"]["details"]["constraint"] == "capability"
