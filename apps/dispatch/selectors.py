"""Dispatch reads: skills as agents discover them, with the rails that would take payment."""

from djmoney.money import Money

from apps.catalog.models import Skill
from apps.core.errors import ApplicationError
from apps.dispatch.models import DispatchOrder
from apps.payments import routing


def rails_for_skill(skill: Skill, *, decided: dict | None = None) -> dict[str, str]:
    """Country -> the rail routing would choose there for the skill's starting price.

    `decided` carries decisions across the skills of one listing, so skills with the same
    price and countries cost one routing query per country, not one per skill.
    """
    decided = {} if decided is None else decided
    price = Money(skill.price_from.amount, skill.price_from.currency)
    rails = {}
    for country in skill.countries:
        if (country, price) not in decided:
            try:
                decided[(country, price)] = routing.choose_rail(
                    country=country, amount=price
                ).rail.code
            except ApplicationError:
                decided[(country, price)] = None  # no enabled rail there right now
        if decided[(country, price)]:
            rails[country] = decided[(country, price)]
    return rails


def _orders():
    return DispatchOrder.objects.select_related(
        "skill__product", "provider", "quote__rail", "payment", "receipt"
    ).prefetch_related("transitions")


def dispatch_get_for_user(*, user, order_id) -> DispatchOrder | None:
    """The user's own order, or None (another's looks like none)."""
    return _orders().filter(user=user, pk=order_id).first()


def dispatch_list_for_user(*, user, status: str = "", limit: int = 50) -> list[DispatchOrder]:
    orders = _orders().filter(user=user)
    if status:
        orders = orders.filter(status=status)
    return list(orders[:limit])
