"""Dispatch reads: skills as agents discover them, with the rails that would take payment."""

from djmoney.money import Money

from apps.catalog.models import Skill
from apps.core.errors import ApplicationError
from apps.payments import routing


def rails_for_skill(skill: Skill) -> dict[str, str]:
    """Country -> the rail routing would choose there for the skill's starting price."""
    rails = {}
    price = Money(skill.price_from.amount, skill.price_from.currency)
    for country in skill.countries:
        try:
            rails[country] = routing.choose_rail(country=country, amount=price).rail.code
        except ApplicationError:
            continue  # no enabled rail there right now
    return rails
