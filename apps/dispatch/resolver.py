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
from djmoney.money import Money

from apps.catalog import selectors as catalog_selectors
from apps.catalog.models import Provider, Skill
from apps.core.errors import ApplicationError
from apps.dispatch.parser import ParsedIntent, WindowOutOfRange, fold, parse_intent
from apps.identity import selectors as identity_selectors
from apps.payments import fx as payment_fx
from apps.payments import quotes as payment_quotes
from apps.payments.errors import RateUnavailable, UnsupportedCurrency
from apps.payments.models import Quote

MAX_DAYS_AHEAD = 90
MAX_WINDOW = dt.timedelta(days=7)


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
    """A country's first listed zone (a guess where it has several), else the server's."""
    zones = pytz.country_timezones.get(country.upper()) if country else None
    return zones[0] if zones else settings.TIME_ZONE


def provider_timezone(provider: Provider) -> str:
    """Where the work happens: the zone of the provider's city, else of its country."""
    return provider.timezone or timezone_for(provider.country)


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
    _bound_window(intent, now=timezone.now())
    here = _providers_at(skills, intent)
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
    quote = payment_quotes.quote_create(user=user, amount=cheapest.price)
    return Resolution(intent=intent, skill=skill, provider=cheapest, quote=quote)


def _bound_window(intent: ParsedIntent, *, now: dt.datetime) -> None:
    """Refuses a window that is over or out of range; one already under way starts now."""
    if intent.window_start is None:
        return
    if intent.window_end <= now:
        raise NoMatch(
            f"That window ended at {intent.window_end.isoformat()}, which has passed.",
            extra={"constraint": "window"},
        )
    if intent.window_end > now + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise WindowOutOfRange(
            f"Bookings are taken up to {MAX_DAYS_AHEAD} days ahead.",
            extra={"max_days_ahead": MAX_DAYS_AHEAD},
        )
    started = now.astimezone(intent.window_start.tzinfo).replace(second=0, microsecond=0)
    intent.window_start = max(intent.window_start, started)
    if intent.window_end - intent.window_start > MAX_WINDOW:
        raise WindowOutOfRange(
            f"A window may be at most {MAX_WINDOW.days} days long.",
            extra={"max_window_days": MAX_WINDOW.days},
        )


def _providers_at(skills: list[Skill], intent: ParsedIntent) -> list[Provider]:
    """Active providers of the skills in the intent's city (and country, when given),
    each annotated with `skill_id`, the matching skill it would do the work under. No
    city, or one nobody serves, is refused rather than searched for everywhere."""
    candidates = catalog_selectors.provider_list_for_skills(skills, country=intent.country)
    here = [p for p in candidates if fold(p.city) == fold(intent.city)]
    if not here:
        cities = sorted({p.city for p in catalog_selectors.provider_list_for_skills(skills)})
        raise NoMatch(
            _nowhere_message(skills[0], intent, cities),
            extra={"constraint": "location", "cities": cities},
        )
    return here


def _nowhere_message(skill: Skill, intent: ParsedIntent, cities: list[str]) -> str:
    offered = f"{skill.title} is offered in {', '.join(cities)}."
    if not intent.city:
        return f"Name the city. {offered}"
    place = f"{intent.city}, {intent.country}" if intent.country else intent.city
    return f"No provider works in {place}. {offered}"


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
    zones = {fold(city): zone for city, zone in catalog_selectors.city_timezones().items()}
    intent = parse_intent(
        text,
        skills=published,
        now=timezone.now(),
        timezone=timezone_for(user.country.code),
        timezone_of=lambda city, country: zones.get(fold(city)) or timezone_for(country),
    )
    return resolve(user=user, intent=intent, published=published)


def _prices_in(intent: ParsedIntent, providers: list[Provider]) -> dict[int, Decimal]:
    """Provider id -> price in the currency of the user's maximum (the home currency when
    there is none, so prices in different currencies compare as money), each distinct
    price converted once."""
    target = (
        str(intent.max_price.currency)
        if intent.max_price is not None
        else settings.GERAOS_HOME_CURRENCY
    )
    converted: dict[tuple[Decimal, str], Decimal] = {}
    prices = {}
    for provider in providers:
        price = provider.price
        key = (price.amount, str(price.currency))
        if key not in converted:
            converted[key] = _convert(price, target).amount
        prices[provider.pk] = converted[key]
    return prices


def _convert(price: Money, currency: str) -> Money:
    if currency == str(price.currency):
        return price
    try:
        return payment_fx.convert(price, currency)
    except RateUnavailable as error:
        raise UnsupportedCurrency(
            f"Prices in {price.currency} cannot be compared with {currency}: "
            "there is no exchange rate.",
            extra={"currency": currency},
        ) from error


def _available(provider: Provider, intent: ParsedIntent) -> bool:
    if intent.window_start is None:
        return True
    zone = pytz.timezone(provider_timezone(provider))
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
