"""A demo receipt for the demo user, so a bundle can be downloaded and verified."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from djmoney.money import Money

from apps.trust import services
from apps.trust.models import Receipt


def seed() -> list[str]:
    # Trust knows no identity app, only Django's user model (the identity seeder made it).
    user = get_user_model().objects.get(email="demo@gera.example")
    receipt = Receipt.objects.filter(user=user).order_by("log_index").first()
    if receipt is None:
        receipt = services.issue_receipt(
            user=user,
            source={"product": "gerahome", "provider": "Ade Plumbing", "skill": "home.plumbing"},
            amount_local=Money("45.00", "GBP"),
            amount_settled=Money("45.00", "GBP"),
            fx_rate=Decimal("1"),
            rail="stripe",
            payment_ref="pi_demo_plumber",
            resolution="completed",
            agent="demo-agent",
        )
    return [f"{'demo receipt':20} /api/v1/receipts/{receipt.pk}/bundle"]
