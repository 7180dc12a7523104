"""Intent -> skill -> provider -> rail and quote.

Providers are filtered by place, by an availability window overlapping the requested one,
by price (after FX) under the maximum, and by the user's entitlements; the rest are
ranked by price, then rating. When nothing fits, the refusal says which constraint failed
and what the nearest option was ("the cheapest plumber in Lagos in that window is £62").
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus

import pytz
from django.conf import settings
from django.utils import timezone
from djmoney.contrib.exchange.models import convert_money
from djmoney.money import Money

from apps.catalog import selectors as catalog_selectors
from apps.catalog.models import Provider, Skill
from apps.core.errors import ApplicationError
from apps.dispatch.parser import ParsedIntent, parse_intent
from apps.identity import selectors as identity_selectors
from apps.payments import services as payment_services
from apps.payments.models import Quote


class NoMatch(ApplicationError):
    code = "no_match"
    status = HTTPStatus.UNPROCESSABLE_ENTITY


@dataclass
class Resolution:
    intent: ParsedIntent
    skill: Skill
    provider: Provider
    quote: Quote


def timezone_for(country: str) -> str:
    zones = pytz.country_timezones.get(country.upper()) if country else None
    return zones[0] if zones else settings.TIME_ZONE


def resolve(*, user, intent: ParsedIntent) -> Resolution:
    skills = [
        s
        for s in catalog_selectors.skill_list_published(capability=intent.capability)
        if s.capability == intent.capability
    ]
    if not intent.capability or not skills:
        raise NoMatch("No published skill does that.", extra={"constraint": "capability"})
    skills = [
        s
        for s in skills
        if not s.required_entitlement
        or identity_selectors.has_feature(user=user, feature=s.required_entitlement)
    ]
    if not skills:
        raise NoMatch(
            "That skill needs a plan you do not have.", extra={"constraint": "entitlement"}
        )
    providers = list(
        Provider.objects.filter(skills__in=skills, active=True)
        .prefetch_related("skills")
        .distinct()
    )
    here = [p for p in providers if not intent.city or p.city.casefold() == intent.city.casefold()]
    if not here:
        raise NoMatch(f"No provider serves {intent.city}.", extra={"constraint": "location"})
    free = [p for p in here if _available(p, intent)]
    if not free:
        raise NoMatch(
            "No provider there is available in that window.", extra={"constraint": "window"}
        )
    ranked = sorted(free, key=lambda p: (_in(p.price, intent), -p.rating))
    cheapest = ranked[0]
    if intent.max_price is not None and _in(cheapest.price, intent) > intent.max_price.amount:
        nearest = Money(_in(cheapest.price, intent), intent.max_price.currency)
        raise NoMatch(
            f"The cheapest {cheapest.skills.first().title.lower()} in {cheapest.city} in that "
            f"window is {nearest}.",
            extra={
                "constraint": "max_price",
                "nearest": {
                    "provider": cheapest.name,
                    "amount": str(nearest.amount),
                    "currency": str(nearest.currency),
                },
            },
        )
    skill = next(s for s in cheapest.skills.all() if s in skills)
    quote = payment_services.quote_create(user=user, amount=cheapest.price)
    return Resolution(intent=intent, skill=skill, provider=cheapest, quote=quote)


def resolve_text(*, user, text: str) -> Resolution:
    """Parse in the user's timezone; if the text names a city elsewhere, read its times
    ("tomorrow morning") in that city's timezone, where the work happens."""
    skills = catalog_selectors.skill_list_published()
    now, home = timezone.now(), user.country.code
    intent = parse_intent(text, skills=skills, now=now, timezone=timezone_for(home))
    if intent.country and intent.country != home:
        intent = parse_intent(text, skills=skills, now=now, timezone=timezone_for(intent.country))
    intent.country = intent.country or home
    return resolve(user=user, intent=intent)


def _in(price: Money, intent: ParsedIntent) -> Decimal:
    """A provider's price in the currency the user's maximum is in."""
    target = intent.max_price.currency if intent.max_price is not None else price.currency
    return convert_money(price, str(target)).amount.quantize(Decimal("0.01"))


def _available(provider: Provider, intent: ParsedIntent) -> bool:
    if intent.window_start is None:
        return True
    zone = pytz.timezone(timezone_for(provider.country))
    start = intent.window_start.astimezone(zone)
    end = intent.window_end.astimezone(zone)
    day = start.date()
    while day <= end.date():
        for window in provider.availability:
            if day.weekday() not in window["days"]:
                continue
            opens = zone.localize(dt.datetime.combine(day, dt.time.fromisoformat(window["start"])))
            closes = zone.localize(dt.datetime.combine(day, dt.time.fromisoformat(window["end"])))
            if opens < end and closes > start:
                return True
        day += dt.timedelta(days=1)
    return False
