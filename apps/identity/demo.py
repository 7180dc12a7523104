"""Demo accounts for `manage.py seed_demo`. Safe to run again: existing rows are kept."""

from dataclasses import dataclass

from django.conf import settings

from apps.identity import selectors, services


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    country: str
    preferred_currency: str
    is_operator: bool


OPERATOR = DemoAccount("operator@gera.example", "Gera Operator", "GB", "GBP", is_operator=True)
DEMO_USER = DemoAccount("demo@gera.example", "Ada Demo", "GB", "GBP", is_operator=False)


def seed() -> list[str]:
    """Create the operator and the demo user; return the login lines `make run` prints."""
    password = settings.GERAOS_DEMO_PASSWORD
    lines = []
    for account in (OPERATOR, DEMO_USER):
        if selectors.user_get_by_email(email=account.email) is None:
            services.user_create_verified(
                email=account.email,
                password=password,
                name=account.name,
                is_operator=account.is_operator,
                country=account.country,
                preferred_currency=account.preferred_currency,
            )
        role = "operator (admin)" if account.is_operator else "demo user"
        lines.append(f"{role:18} {account.email} / {password}")
    return lines
