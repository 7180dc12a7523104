"""Routing, FX and signed quotes."""

from decimal import Decimal

import pytest
from django.test import Client
from djmoney.money import Money

from apps.core.money import round_to_minor_units
from apps.payments import quotes, routing
from apps.payments.errors import AmountOutOfRange, NoRailAvailable
from apps.payments.models import Rail, RoutingRule
from apps.trust import jose
from apps.trust import selectors as trust_selectors
from tests.factories import UserFactory, make_grant

pytestmark = pytest.mark.django_db


def gbp(amount: str) -> Money:
    return Money(amount, "GBP")


@pytest.mark.parametrize(
    ("country", "rail", "currency"),
    [
        ("AM", "idram", "AMD"),
        ("KE", "mpesa", "KES"),
        ("IN", "upi", "INR"),
        ("BR", "pix", "BRL"),
        ("NL", "ideal", "EUR"),
        ("NG", "stripe", "NGN"),
        ("JP", "stripe", "JPY"),
        ("GB", "stripe", "GBP"),
    ],
)
def test_default_routes_and_local_currency(country, rail, currency):
    quote = quotes.quote_create(
        user=UserFactory(country=country, preferred_currency=""), amount=gbp("50.00")
    )

    assert quote.rail.code == rail
    assert str(quote.local_amount.currency) == currency
    assert str(quote.settlement_amount.currency) == "GBP"


def test_disabled_rail_falls_back_at_once():
    Rail.objects.filter(code="mpesa").update(enabled=False)

    decision = routing.choose_rail(country="KE", amount=gbp("50.00"))

    assert decision.rail.code == "stripe"
    assert "M-Pesa is disabled" in decision.reason


def test_no_enabled_rail_is_a_clear_refusal():
    Rail.objects.update(enabled=False)

    with pytest.raises(NoRailAvailable):
        routing.choose_rail(country="KE", amount=gbp("50.00"))


def test_amounts_outside_rail_limits_are_refused_with_a_code():
    user = UserFactory(country="KE")

    with pytest.raises(AmountOutOfRange) as above:
        quotes.quote_create(user=user, amount=gbp("900.01"))
    with pytest.raises(AmountOutOfRange) as below:
        quotes.quote_create(user=UserFactory(country="GB"), amount=gbp("0.10"))

    assert above.value.code == "amount_above_maximum"
    assert below.value.code == "amount_below_minimum"


@pytest.mark.parametrize(("amount", "currency"), [("0.10", "EUR"), ("0.25", "GBP")])
def test_an_amount_the_fees_would_swallow_is_refused(amount, currency):
    # iDEAL's fixed fee is 0.25 GBP: 0.10 EUR (0.09 GBP) would settle -0.16 GBP.
    with pytest.raises(AmountOutOfRange) as refused:
        quotes.quote_create(user=UserFactory(country="NL"), amount=Money(amount, currency))

    assert (refused.value.code, refused.value.status) == ("amount_below_minimum", 422)


def test_a_rule_for_one_currency_routes_only_requests_in_that_currency():
    RoutingRule.objects.create(
        country="GB", currency="BRL", rail=Rail.objects.get(code="pix"), priority=1
    )
    user = UserFactory(country="GB")

    in_pounds = quotes.quote_create(user=user, amount=gbp("50.00"))
    in_reais = quotes.quote_create(user=user, amount=Money("100.00", "BRL"))

    assert (in_pounds.rail.code, in_reais.rail.code) == ("stripe", "pix")


def test_rounding_follows_each_currencys_minor_units():
    assert round_to_minor_units(Decimal("9565.4"), "JPY") == Decimal("9565")
    assert round_to_minor_units(Decimal("8210.005"), "KES") == Decimal("8210.01")
    assert round_to_minor_units(Decimal("1.0005"), "BHD") == Decimal("1.001")


def test_quote_amounts_rate_and_fees_add_up():
    quote = quotes.quote_create(user=UserFactory(country="KE"), amount=gbp("50.00"))

    assert quote.rate == Decimal("164.20")
    assert quote.local_amount == Money("8210.00", "KES")
    assert quote.fees == gbp("0.50")
    assert quote.settlement_amount == gbp("49.50")
    assert (quote.expires_at - quote.created_at).total_seconds() == pytest.approx(900, abs=5)


def test_an_amount_asked_in_the_charged_currency_is_charged_as_asked():
    user = UserFactory(country="NG", preferred_currency="NGN")

    quote = quotes.quote_create(user=user, amount=Money("45000.00", "NGN"))

    assert quote.local_amount == Money("45000.00", "NGN")  # not 44994.95 via 22.33 GBP


def test_a_whole_unit_rail_rounds_an_amount_in_its_currency_up():
    quote = quotes.quote_create(user=UserFactory(country="KE"), amount=Money("1000.50", "KES"))

    assert quote.local_amount == Money("1001", "KES")  # not 1000 via 6.09 GBP


def test_another_currency_is_converted_at_the_rate_between_the_two():
    quote = quotes.quote_create(user=UserFactory(country="IN"), amount=Money("20.00", "EUR"))

    # 20 x 107.35 / 1.1650, not 20 EUR -> 17.17 GBP -> 1843.20 INR.
    assert quote.local_amount == Money("1842.92", "INR")


@pytest.mark.parametrize(("country", "currency"), [("NG", "NGN"), ("GB", "GBP")])
def test_a_preferred_currency_without_a_rate_is_passed_over(country, currency):
    user = UserFactory(country=country, preferred_currency="CHF")

    quote = quotes.quote_create(user=user, amount=gbp("50.00"))

    assert str(quote.local_amount.currency) == currency


def test_quote_signature_ties_local_and_settled_amounts():
    quote = quotes.quote_create(user=UserFactory(country="KE"), amount=gbp("50.00"))

    document = jose.jws_verify(quote.jws, jwks=trust_selectors.jwks(), typ=jose.QUOTE_TYPE)

    assert document["quote_id"] == str(quote.id)
    assert document["local"] == {"amount": "8210.00", "currency": "KES"}
    assert document["settlement"] == {"amount": "49.50", "currency": "GBP"}
    assert jose.jws_header(quote.jws)["typ"] == "geraos-quote+jws"


def test_agent_asks_for_a_quote_in_any_currency():
    user = UserFactory(country="IN")
    _, token = make_grant(user, scopes=["dispatch:create"])

    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        "/api/v1/quotes", {"amount": "20.00", "currency": "EUR"}, content_type="application/json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["rail"] == "upi"
    assert body["local_amount"]["currency"] == "INR"
    assert body["requested"] == {"amount": "20.00", "currency": "EUR"}


def test_quote_over_the_limit_is_a_422_with_its_code(user_client, user):
    user.country = "KE"
    user.save()

    response = user_client.post(
        "/api/v1/quotes", {"amount": "5000", "currency": "GBP"}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "amount_above_maximum"


def test_quote_in_a_currency_without_rates_is_a_422(user_client):
    response = user_client.post(
        "/api/v1/quotes", {"amount": "10", "currency": "ZMW"}, content_type="application/json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsupported_currency"


def test_an_amount_finer_than_its_currencys_smallest_unit_is_a_400(user_client):
    response = user_client.post(
        "/api/v1/quotes", {"amount": "1000.50", "currency": "JPY"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "amount_too_precise"
    assert "amount" in response.json()["error"]["fields"]


def test_whole_yen_written_with_decimals_are_quoted(user_client):
    response = user_client.post(
        "/api/v1/quotes", {"amount": "1000.00", "currency": "JPY"}, content_type="application/json"
    )

    assert response.status_code == 201
    assert response.json()["requested"] == {"amount": "1000", "currency": "JPY"}
