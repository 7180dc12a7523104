"""The six rails GeraOS ships with, in sandbox mode, and the default routes to them.
Limits are in the home currency (GBP)."""

from decimal import Decimal

DEFAULT_RAILS = [
    # code, name, countries, currencies, min, max, fee %, fixed fee (GBP)
    ("stripe", "Stripe card", [], [], "0.30", "10000", "1.5", "0.20"),
    ("ideal", "iDEAL (via Stripe)", ["NL"], ["EUR"], "0.01", "50000", "0", "0.25"),
    ("mpesa", "M-Pesa", ["KE"], ["KES"], "0.01", "900", "1.0", "0"),
    ("upi", "UPI", ["IN"], ["INR"], "0.01", "900", "0", "0"),
    ("pix", "PIX", ["BR"], ["BRL"], "0.01", "10000", "0.99", "0"),
    ("idram", "Idram", ["AM"], ["AMD"], "0.01", "2000", "1.0", "0"),
]
# Rails that charge whole currency units only.
WHOLE_UNIT_RAILS = {"mpesa", "idram"}
DEFAULT_ROUTES = [("AM", "idram"), ("KE", "mpesa"), ("IN", "upi"), ("BR", "pix"), ("NL", "ideal")]


def ensure_default_rails(rail_model, rule_model) -> None:
    """Create the rails and routes that are missing; operators' edits are kept."""
    rails = {}
    for code, name, countries, currencies, low, high, pct, fixed in DEFAULT_RAILS:
        rails[code], _ = rail_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "countries": countries,
                "currencies": currencies,
                "min_amount": Decimal(low),
                "max_amount": Decimal(high),
                "fee_percent": Decimal(pct),
                "fee_fixed": Decimal(fixed),
                "sandbox": True,
                "whole_units": code in WHOLE_UNIT_RAILS,
            },
        )
    for country, code in DEFAULT_ROUTES:
        rule_model.objects.get_or_create(
            country=country,
            rail=rails[code],
            defaults={"priority": 10, "fallback_rail": rails["stripe"]},
        )
    rule_model.objects.get_or_create(country="", rail=rails["stripe"], defaults={"priority": 1000})
