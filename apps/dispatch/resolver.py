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
from django.db.models import F
from django.utils import timezone
from djmoney.contrib.exchange.models import get_rate
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


def resolve(*, user, intent: ParsedIntent, published: list[Skill] | None = None) -> Resolution:
    """`published`: the published skills, when the caller has them already."""
    if published is None:
        published = catalog_selectors.skill_list_published(capability=intent.capability)
    skills = [s for s in published if s.capability == intent.capability]
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
    here = _providers(skills, city=intent.city)
    if not here:
        raise NoMatch(f"No provider serves {intent.city}.", extra={"constraint": "location"})
    free = [p for p in here if _available(p, intent)]
    if not free:
        raise NoMatch(
            "No provider there is available in that window.", extra={"constraint": "window"}
        )
    price_of = _prices_in(intent, free)
    cheapest = min(free, key=lambda p: (price_of[p.pk], -p.rating))
    skill = next(s for s in skills if s.pk == cheapest.skill_id)
    if intent.max_price is not None and price_of[cheapest.pk] > intent.max_price.amount:
        nearest = Money(price_of[cheapest.pk], intent.max_price.currency)
        raise NoMatch(
            f"The cheapest {skill.title.lower()} in {cheapest.city} in that window is {nearest}.",
            extra={
                "constraint": "max_price",
                "nearest": {
                    "provider": cheapest.name,
                    "amount": str(nearest.amount),
                    "currency": str(nearest.currency),
                },
            },
        )
    quote = payment_services.quote_create(user=user, amount=cheapest.price)
    return Resolution(intent=intent, skill=skill, provider=cheapest, quote=quote)


def _providers(skills: list[Skill], *, city: str) -> list[Provider]:
    """Active providers of the skills (in the city, if one is named), each annotated with
    `skill_id`, the matching skill it would do the work under."""
    providers = Provider.objects.filter(skills__in=skills, active=True)
    if city:
        providers = providers.filter(city__iexact=city)
    return list(providers.annotate(skill_id=F("skills__id")))


def resolve_intent_or_text(
    *, user, intent: ParsedIntent | None = None, text: str = ""
) -> Resolution:
    """A structured intent as given, or free text parsed first."""
    if intent is not None:
        return resolve(user=user, intent=intent)
    return resolve_text(user=user, text=text)


def resolve_text(*, user, text: str) -> Resolution:
    """Parse in the user's timezone, or, if the text names a city, in the city's."""
    published = catalog_selectors.skill_list_published()
    intent = parse_intent(
        text,
        skills=published,
        now=timezone.now(),
        timezone=timezone_for(user.country.code),
        timezone_of=timezone_for,
    )
    intent.country = intent.country or user.country.code
    return resolve(user=user, intent=intent, published=published)


def _prices_in(intent: ParsedIntent, providers: list[Provider]) -> dict[int, Decimal]:
    """Provider id -> price in the currency of the user's maximum (each provider's own
    when there is none), fetching each exchange rate once."""
    rates: dict[tuple[str, str], Decimal] = {}
    prices = {}
    for provider in providers:
        source = str(provider.price.currency)
        target = str(intent.max_price.currency) if intent.max_price is not None else source
        if (source, target) not in rates:
            rates[(source, target)] = get_rate(source, target)
        amount = provider.price.amount * rates[(source, target)]
        prices[provider.pk] = amount.quantize(Decimal("0.01"))
    return prices


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
