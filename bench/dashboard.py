"""The operator dashboard with 10^4 payments, as a ratio to an empty one.

python -m bench.dashboard        (make bench runs it)
"""

import datetime as dt
import uuid

from bench.common import median_seconds, test_database

PAYMENTS = 10_000
REPEAT = 20


def render_time(client) -> float:
    return median_seconds(lambda: client.get("/admin/?period=30d"), REPEAT)


def add_captured_payments(count: int) -> None:
    """`count` captured payments spread over the last 30 days, cloned from one quote the
    services made (the dashboard reads rows; how they came to be does not matter)."""
    from django.utils import timezone
    from djmoney.money import Money

    from apps.payments.models import Payment, PaymentEvent, Quote
    from tests.factories import UserFactory, make_quote

    user = UserFactory(country="GB", preferred_currency="GBP")
    template = make_quote(user, "42.00")
    quotes = []
    for _ in range(count):
        quote = Quote.objects.get(pk=template.pk)
        quote.pk = uuid.uuid4()
        quotes.append(quote)
    Quote.objects.bulk_create(quotes, batch_size=1000)
    zero = Money(0, template.local_amount.currency)
    payments = [
        Payment(
            user=user,
            quote=quote,
            rail=template.rail,
            reference=f"bench {n}",
            local_amount=template.local_amount,
            settled_amount=template.settlement_amount,
            rate=template.rate,
            captured_amount=template.local_amount,
            refunded_amount=zero,
            status=Payment.Status.CAPTURED,
            idempotency_key=f"bench-{n}",
            provider_idempotency_key=f"bench-pay-{n}",
        )
        for n, quote in enumerate(quotes)
    ]
    Payment.objects.bulk_create(payments, batch_size=1000)
    now = timezone.now()
    PaymentEvent.objects.bulk_create(
        [
            PaymentEvent(
                payment=payment, from_status="authorized", to_status="captured", cause="bench"
            )
            for payment in payments
        ],
        batch_size=1000,
    )
    for day in range(30):
        batch = [p.pk for p in payments[day::30]]
        PaymentEvent.objects.filter(payment_id__in=batch).update(at=now - dt.timedelta(days=day))


def main() -> None:
    from django.test import Client

    from apps.catalog.demo import seed as seed_catalog
    from apps.payments import fx
    from apps.payments.models import Rail, RoutingRule
    from apps.payments.rails import ensure_default_rails
    from tests.factories import UserFactory
    from tests.helpers import sign_in_with_mfa

    with test_database() as vendor:
        ensure_default_rails(Rail, RoutingRule)
        fx.import_rates()
        seed_catalog()
        client = sign_in_with_mfa(Client(), UserFactory(is_staff=True, is_superuser=True))
        empty = render_time(client)
        add_captured_payments(PAYMENTS)
        full = render_time(client)
        print(f"Operator dashboard on {vendor}, median of {REPEAT} renders, period 30 days")
        print(f"  {full / empty:6.2f}x  with {PAYMENTS:,} captured payments / with none")


if __name__ == "__main__":
    main()
