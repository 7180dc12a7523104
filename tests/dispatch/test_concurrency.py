"""Retries racing each other on PostgreSQL: one order, one payment, one spend."""

import pytest
from django.db import connection
from djmoney.money import Money

from apps.dispatch.models import DispatchOrder
from apps.identity.models import AgentSpend
from apps.payments.models import Payment
from tests.dispatch.conftest import ANYTIME, LEAK, Agent
from tests.factories import UserFactory
from tests.helpers import run_concurrently

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def test_twenty_concurrent_retries_make_one_order_and_one_payment(catalog):
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"))

    responses = run_concurrently(lambda: agent.dispatch(key="same", text=ANYTIME, details=LEAK), 20)

    accepted = [r for r in responses if r.status_code == 202]
    assert {r.json()["id"] for r in accepted} == {str(DispatchOrder.objects.get().pk)}
    assert {r.status_code for r in responses} <= {202, 409}  # 409: the first still running
    assert Payment.objects.count() == 1
    assert AgentSpend.objects.count() == 1


def test_concurrent_dispatches_never_overspend_the_daily_limit(catalog):
    # Lagos Plumber A costs £42: a £100 daily limit fits two, never three.
    limit = Money("100.00", "GBP")
    agent = Agent(UserFactory(country="GB", preferred_currency="GBP"), daily_limit=limit)
    keys = [(f"k{n}",) for n in range(6)]

    responses = run_concurrently(
        lambda key: agent.dispatch(key=key, text=ANYTIME, details=LEAK), keys
    )

    assert sorted(r.status_code for r in responses) == [202, 202, 403, 403, 403, 403]
    assert DispatchOrder.objects.count() == 2
