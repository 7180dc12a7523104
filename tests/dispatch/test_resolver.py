"""The resolver: intent -> provider -> rail -> quote, or a 422 naming what failed."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from djmoney.money import Money

from apps.catalog.demo import seed as seed_catalog
from apps.catalog.models import Provider
from apps.dispatch import resolver
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


def resolve_intent(intent: dict, country: str = "GB"):
    user = UserFactory(country=country, preferred_currency="")
    _, token = make_grant(user, scopes=["dispatch:create"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        "/api/v1/intents/resolve", {"intent": intent}, content_type="application/json"
    )


def plumbing(city: str = "London", country: str = "", **fields) -> dict:
    return {"capability": "home.plumbing", "location": {"city": city, "country": country}, **fields}


def window(start: str, end: str) -> dict:
    return {"start": start, "end": end}


def refusal(response, status: int = 422) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


# Times of day -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "start", "provider"),
    [
        ("tomorrow at 9", "2026-11-26T09:00:00+00:00", "London Plumber A"),
        ("tomorrow afternoon at 2", "2026-11-26T14:00:00+00:00", "London Plumber B"),
    ],
)
def test_a_bare_hour_is_that_hour_of_the_day(when, start, provider):
    body = resolve(f"plumber in London under £70 {when}").json()

    assert body["intent"]["window"]["start"] == start
    assert body["provider"]["name"] == provider


def test_an_impossible_time_of_day_is_a_400():
    error = refusal(resolve("plumber in London tomorrow at 13pm"), status=400)

    assert error["code"] == "unreadable_time"
    assert error["fields"] == {"text": ['"at 13pm" is not a time of day.']}


def test_at_0_is_midnight_when_nobody_works():
    error = refusal(resolve("plumber in London tomorrow at 0"))

    assert error["details"]["constraint"] == "window"


# Places -------------------------------------------------------------------------------


def test_a_city_nobody_serves_is_refused_not_booked_elsewhere():
    error = refusal(resolve("book a plumber in Manchester under £50 tomorrow morning", "GB"))

    assert error["code"] == "no_match"
    assert error["details"]["constraint"] == "location"
    assert error["message"].startswith("No provider works in Manchester. Plumber visit is offered")
    assert "London" in error["details"]["cities"]


def test_without_a_city_nothing_is_searched_everywhere():
    error = refusal(resolve("plumber tomorrow morning", "GB"))

    assert error["details"]["constraint"] == "location"
    assert error["message"].startswith("Name the city.")


def test_the_country_of_a_structured_location_is_honoured():
    error = refusal(resolve_intent(plumbing("London", "CA")))

    assert error["details"]["constraint"] == "location"
    assert error["message"].startswith("No provider works in London, CA.")


def test_the_city_and_country_together_find_the_provider():
    body = resolve_intent(plumbing("london", "gb")).json()

    assert body["provider"]["name"] == "London Plumber A"


# Windows ------------------------------------------------------------------------------


@pytest.mark.parametrize("when", ["yesterday morning", "last monday"])
def test_a_day_that_has_passed_is_refused_not_read_as_another(when):
    error = refusal(resolve(f"plumber in London {when}", "GB"))

    assert error["details"]["constraint"] == "window"


def test_a_price_in_a_currency_without_a_rate_is_refused_not_dropped():
    response = resolve("plumber in London under 50 CHF tomorrow", "GB")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsupported_currency"


def test_a_window_that_has_passed_today_is_refused(monkeypatch):
    afternoon = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)
    monkeypatch.setattr("apps.dispatch.resolver.timezone.now", lambda: afternoon)

    error = refusal(resolve("plumber in London this morning", "GB"))

    assert error["details"]["constraint"] == "window"
    assert "has passed" in error["message"]


def test_a_window_under_way_starts_now():
    body = resolve("plumber in London this morning", "GB").json()

    assert body["intent"]["window"] == {
        "start": "2026-11-25T09:00:00+00:00",
        "end": "2026-11-25T12:00:00+00:00",
    }


@pytest.mark.parametrize(
    "past",
    [
        window("2020-01-06T08:00:00Z", "2020-01-06T12:00:00Z"),
        window("0001-01-01T00:00:00Z", "0001-01-01T02:00:00Z"),
    ],
)
def test_a_structured_window_in_the_past_is_refused(past):
    error = refusal(resolve_intent(plumbing(window=past)))

    assert error["details"]["constraint"] == "window"


def test_a_structured_window_from_long_ago_starts_now():
    body = resolve_intent(
        plumbing(window=window("0001-01-01T00:00:00Z", "2026-11-25T12:00:00Z"))
    ).json()

    assert body["intent"]["window"]["start"] == "2026-11-25T09:00:00+00:00"


@pytest.mark.parametrize(
    ("far", "limit"),
    [
        (window("9999-12-31T20:00:00Z", "9999-12-31T23:00:00Z"), "max_days_ahead"),
        (window("2027-03-01T08:00:00Z", "2027-03-01T12:00:00Z"), "max_days_ahead"),
        (window("2026-11-26T08:00:00Z", "2026-12-06T12:00:00Z"), "max_window_days"),
    ],
)
def test_a_window_too_far_ahead_or_too_long_is_a_400(far, limit):
    error = refusal(resolve_intent(plumbing(window=far)), status=400)

    assert error["code"] == "window_out_of_range"
    assert limit in error["details"]


def test_in_so_many_days_past_the_horizon_is_a_400():
    error = refusal(resolve("plumber in London in 200 days"), status=400)

    assert error["code"] == "window_out_of_range"


def test_in_two_hours_is_around_two_hours_from_now():
    body = resolve("plumber in London in 2 hours", "GB").json()

    assert body["intent"]["window"] == {
        "start": "2026-11-25T10:00:00+00:00",
        "end": "2026-11-25T12:00:00+00:00",
    }


# Money --------------------------------------------------------------------------------


def test_a_budget_written_after_the_number_is_kept():
    error = refusal(resolve("Plumber in Amsterdam under 30€ tomorrow morning", "NL"))

    assert error["details"]["constraint"] == "max_price"
    assert error["details"]["nearest"]["currency"] == "EUR"


def test_a_maximum_in_a_currency_without_a_rate_is_a_422():
    price = {"amount": "50.00", "currency": "CHF"}

    error = refusal(resolve_intent(plumbing(max_price=price)))

    assert error["code"] == "unsupported_currency"
    assert error["details"] == {"currency": "CHF"}


# Timezones ----------------------------------------------------------------------------


def test_sao_paulo_times_are_sao_paulo_times():
    body = resolve("plumber in São Paulo tomorrow morning", "BR").json()

    assert body["intent"]["window"]["start"] == "2026-11-26T08:00:00-03:00"


def test_a_providers_hours_are_kept_in_its_citys_zone():
    # 11:00-12:00 in São Paulo (morning provider); 12:00-13:00 by Noronha's clock (nobody).
    eleven = window("2026-11-26T14:00:00Z", "2026-11-26T15:00:00Z")

    body = resolve_intent(plumbing("São Paulo", window=eleven), "BR").json()

    assert body["provider"]["name"] == "São Paulo Plumber A"


def test_a_provider_without_a_zone_keeps_its_countrys():
    provider = Provider(city="Recife", country="BR")

    assert resolver.provider_timezone(provider) == "America/Noronha"
    assert resolver.provider_timezone(Provider.objects.get(name="São Paulo Plumber A")) == (
        "America/Sao_Paulo"
    )


def test_a_provider_zone_must_exist():
    provider = Provider.objects.get(name="Lagos Plumber A")
    provider.timezone = "Africa/Atlantis"

    with pytest.raises(ValidationError, match="timezone"):
        provider.full_clean()


def test_without_a_maximum_prices_in_other_currencies_are_compared_as_money():
    # 9,000 naira is about £4.50: cheaper than any plumber priced in pounds.
    Provider.objects.filter(name="Lagos Plumber B").update(
        price=Money("9000.00", "NGN"),
        availability=Provider.objects.get(name="Lagos Plumber A").availability,
    )

    body = resolve("book a plumber in Lagos tomorrow morning").json()

    assert body["provider"]["name"] == "Lagos Plumber B"
