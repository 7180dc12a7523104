"""The operator dashboard shows money, not only counts: over a chosen period, against
the period before, each number a link to the list behind it."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money

from apps.core.dashboard import trend
from apps.payments import lifecycle, refunds
from apps.payments.models import Payment
from apps.trust import services as trust_services
from tests.factories import make_payment, make_receipt
from tests.helpers import dashboard_cards

pytestmark = pytest.mark.django_db


def captured(user, amount: str, *, days_ago: int = 0):
    payment = make_payment(user, amount=amount)
    lifecycle.payment_authorize(payment_id=payment.pk)
    payment = lifecycle.payment_capture(payment_id=payment.pk)
    if days_ago:
        Payment.objects.filter(pk=payment.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days_ago)
        )
    return payment


def test_money_captured_refunded_and_settled_this_week_against_the_week_before(
    operator_client, user, catalog
):
    this_week = captured(user, "50.00")
    captured(user, "20.00", days_ago=10)
    refunds.refund_create(payment_id=this_week.pk, amount=Decimal("10.00"))
    fees = this_week.quote.fees.amount

    cards = dashboard_cards(operator_client)

    assert cards["Captured, last 7 days"]["value"] == "£50.00"
    assert cards["Captured, last 7 days"]["trend"] == "+150% on the period before"
    assert cards["Refunded, last 7 days"]["value"] == "£10.00"
    assert cards["Refunded, last 7 days"]["trend"] == "new: none the period before"
    net = Money(Decimal("50.00") - fees - Decimal("10.00"), "GBP")
    assert cards["Net settled, last 7 days"]["value"] == str(net)


def test_the_captured_card_charts_each_day_of_the_period(operator_client, user, catalog):
    captured(user, "50.00")
    captured(user, "20.00", days_ago=3)

    chart = json.loads(dashboard_cards(operator_client)["Captured, last 7 days"]["chart"])

    assert len(chart["labels"]) == 8  # seven days back to today, both ends shown
    assert chart["datasets"][0]["data"][-1] == "50.00"
    assert chart["datasets"][0]["data"][-4] == "20.00"
    assert sum(Decimal(value) for value in chart["datasets"][0]["data"]) == Decimal("70.00")


@pytest.mark.parametrize(("period", "title"), [("today", "today"), ("30d", "last 30 days")])
def test_the_operator_chooses_the_period(operator_client, user, catalog, period, title):
    captured(user, "20.00", days_ago=10)

    cards = dashboard_cards(operator_client, period=period)

    expected = "£0.00" if period == "today" else "£20.00"
    assert cards[f"Captured, {title}"]["value"] == expected


def test_every_card_with_a_link_leads_to_a_list_that_opens(operator_client, user, catalog):
    captured(user, "50.00")
    trust_services.dispute_open(
        receipt=make_receipt(user), opened_by="buyer", reason="not_delivered", user=user
    )

    cards = dashboard_cards(operator_client)
    links = {title: card["link"] for title, card in cards.items() if card.get("link")}

    assert len(links) >= 10
    for title, link in links.items():
        assert operator_client.get(link).status_code == 200, (title, link)


def test_disputes_show_the_rate_against_receipts_and_how_many_are_overdue(operator_client, user):
    for _ in range(3):
        make_receipt(user)
    trust_services.dispute_open(
        receipt=make_receipt(user), opened_by="buyer", reason="not_delivered", user=user
    )

    cards = dashboard_cards(operator_client)

    assert (cards["Opened, last 7 days"]["value"], cards["Opened, last 7 days"]["trend"]) == (
        1,
        "25.0% of receipts issued",
    )
    assert (cards["Open now"]["value"], cards["Open now"]["trend"]) == (1, "0 overdue")


@pytest.mark.parametrize(("now", "before"), [(10, -10), (-5, -10)])
def test_a_rise_from_a_negative_period_reads_as_a_rise(now, before):
    assert trend(Decimal(now), Decimal(before)).startswith("+")


def test_what_a_money_card_counts_is_what_its_link_lists(operator_client, user, catalog):
    payment = captured(user, "50.00")
    refunds.refund_create(payment_id=payment.pk, amount=Decimal("10.00"))
    captured(user, "20.00", days_ago=10)  # made before the period, whenever it was captured

    cards = dashboard_cards(operator_client)

    assert cards["Captured, last 7 days"]["value"] == "£50.00"
    assert cards["Stripe card"]["value"] == "£50.00"
    for title in ("Captured, last 7 days", "Refunded, last 7 days", "Stripe card"):
        listed = operator_client.get(cards[title]["link"]).context["cl"].result_count
        assert listed == 1, title
