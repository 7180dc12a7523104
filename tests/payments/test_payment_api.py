"""POST /api/v1/payments: pay a quote, idempotently, even under a burst of retries."""

import uuid

import pytest
from django.db import connection
from django.test import Client
from djmoney.money import Money

from apps.identity.models import AgentSpend
from apps.payments import lifecycle, quotes
from apps.payments.models import Payment, PaymentEvent, Quote, Rail
from tests.factories import UserFactory, make_grant
from tests.helpers import run_concurrently

pytestmark = pytest.mark.django_db


def agent_for(user) -> Client:
    _, token = make_grant(user, scopes=["dispatch:create", "dispatch:read"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def pay(client, quote, key):
    return client.post(
        "/api/v1/payments",
        {"quote": str(quote.pk), "reference": "plumber"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_paying_a_quote_authorizes_it_after_commit(user, django_capture_on_commit_callbacks):
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))

    with django_capture_on_commit_callbacks(execute=True):
        response = pay(agent_for(user), quote, "pay-1")

    assert response.status_code == 202
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED


def test_two_agents_of_one_user_may_choose_the_same_key(user):
    first = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))
    second = quotes.quote_create(user=user, amount=Money("40.00", "GBP"))

    paid_first = pay(agent_for(user), first, "pay-1")
    paid_second = pay(agent_for(user), second, "pay-1")

    assert (paid_first.status_code, paid_second.status_code) == (202, 202)
    assert paid_first.json()["id"] != paid_second.json()["id"]
    assert Payment.objects.count() == 2


def test_a_key_as_long_as_allowed_fits_with_its_namespace(user):
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))

    assert pay(agent_for(user), quote, "k" * 255).status_code == 202


def test_an_agent_cannot_pay_beyond_its_grants_limits(user, django_capture_on_commit_callbacks):
    quote = quotes.quote_create(user=user, amount=Money("5000.00", "GBP"))  # limit: £50

    with django_capture_on_commit_callbacks(execute=True):
        response = pay(agent_for(user), quote, "pay-big")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "spend_limit_exceeded"
    assert not Payment.objects.exists()
    assert not AgentSpend.objects.exists()


def test_an_agents_payment_counts_against_its_grant_once(user, django_capture_on_commit_callbacks):
    grant, token = make_grant(user, scopes=["dispatch:create"])
    agent = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))

    with django_capture_on_commit_callbacks(execute=True):
        paid = pay(agent, quote, "pay-1")
        pay(agent, quote, "pay-1")

    spend = AgentSpend.objects.get()
    assert (spend.grant, spend.amount) == (grant, quote.settlement_amount + quote.fees)
    assert Payment.objects.get(pk=paid.json()["id"]).grant == grant


def test_a_declined_agent_payment_gives_the_spend_back(user, django_capture_on_commit_callbacks):
    limit = Money("100.00", "GBP")
    _, token = make_grant(user, per_action_limit=limit, daily_limit=limit)
    quote = quotes.quote_create(user=user, amount=Money("50.51", "GBP"))  # sandbox declines

    with django_capture_on_commit_callbacks(execute=True):
        pay(Client(HTTP_AUTHORIZATION=f"Bearer {token}"), quote, "pay-declined")

    payment = Payment.objects.get()
    assert (payment.status, payment.holds_agent_spend) == (Payment.Status.FAILED, True)
    assert AgentSpend.objects.get().released_at is not None


def test_a_quote_on_a_rail_switched_off_since_is_not_paid(user):
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))
    Rail.objects.filter(pk=quote.rail_id).update(enabled=False)

    response = pay(agent_for(user), quote, "pay-off")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rail_disabled"
    assert not Payment.objects.exists()


def test_someone_elses_quote_is_404(user, other_user):
    quote = quotes.quote_create(user=other_user, amount=Money("30.00", "GBP"))

    assert pay(agent_for(user), quote, "pay-x").status_code == 404
    assert not Payment.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_fifty_concurrent_retries_make_one_payment_and_one_charge():
    user = UserFactory()
    _, token = make_grant(user, scopes=["dispatch:create"])
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))
    key = str(uuid.uuid4())
    clients = [(Client(HTTP_AUTHORIZATION=f"Bearer {token}"),) for _ in range(50)]

    responses = run_concurrently(lambda client: pay(client, quote, key), clients)

    assert [r.status_code for r in responses] == [202] * 50
    assert len({r.json()["id"] for r in responses}) == 1
    assert Payment.objects.count() == 1
    assert PaymentEvent.objects.filter(to_status="authorized").count() == 1


def test_an_mpesa_payment_without_the_payers_phone_is_a_400(catalog):
    kenyan = UserFactory(country="KE", preferred_currency="")
    quote = quotes.quote_create(user=kenyan, amount=Money("30.00", "GBP"))

    response = pay(agent_for(kenyan), quote, "pay-ke")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "payer_account_required"
    assert not Payment.objects.exists()


def test_an_agent_reads_the_payments_it_made_and_no_other_agents(user):
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))
    payer, other = agent_for(user), agent_for(user)
    payment_id = pay(payer, quote, "pay-mine").json()["id"]

    assert payer.get(f"/api/v1/payments/{payment_id}").status_code == 200
    assert other.get(f"/api/v1/payments/{payment_id}").status_code == 404


def test_paying_an_expired_quote_says_it_expired_even_if_it_was_paid(user):
    quote = quotes.quote_create(user=user, amount=Money("30.00", "GBP"))
    lifecycle.payment_create(user=user, quote=quote, reference="order", idempotency_key="first")
    Quote.objects.filter(pk=quote.pk).update(expires_at=quote.created_at)

    response = pay(agent_for(user), quote, "second")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "quote_expired"
