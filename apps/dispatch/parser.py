"""Free text -> a structured intent, deterministically (no model): "book a plumber in
Lagos under £50 tomorrow morning" -> capability home.plumbing, city Lagos, max £50,
window tomorrow 08:00-12:00 in the user's timezone. The parse is returned to the agent so
it can correct what was misread."""

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import dateparser
from djmoney.money import Money

from apps.catalog.models import Skill

DAY_PARTS = {
    "morning": (8, 12),
    "afternoon": (12, 17),
    "evening": (17, 21),
    "night": (19, 23),
    "tonight": (19, 23),
}
WHOLE_DAY = (8, 20)
CURRENCY_WORDS = {
    "£": "GBP",
    "gbp": "GBP",
    "pounds": "GBP",
    "pound": "GBP",
    "quid": "GBP",
    "€": "EUR",
    "eur": "EUR",
    "euros": "EUR",
    "euro": "EUR",
    "$": "USD",
    "usd": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "ksh": "KES",
    "kes": "KES",
    "shillings": "KES",
    "₹": "INR",
    "inr": "INR",
    "rupees": "INR",
    "r$": "BRL",
    "brl": "BRL",
    "reais": "BRL",
    "֏": "AMD",
    "amd": "AMD",
    "dram": "AMD",
    "₦": "NGN",
    "ngn": "NGN",
    "naira": "NGN",
}
_SYMBOL = r"(?P<pre>r\$|£|€|\$|₹|₦|֏|ksh|kes|gbp|eur|usd|inr|brl|amd|ngn)"
_NUMBER = r"\d{1,7}(?:[.,]\d{1,2})?"
_WORD = (
    r"(?P<post>gbp|eur|usd|kes|inr|brl|amd|ngn|pounds?|quid|euros?|dollars?|shillings|"
    r"rupees|reais|dram|naira)"
)
MONEY = re.compile(
    rf"(?:under|below|less than|max(?:imum)?|up to|at most|for|within|budget(?: of)?)?\s*"
    rf"(?:{_SYMBOL}\s?(?P<first>{_NUMBER})|(?P<second>{_NUMBER})\s?{_WORD})(?![\w])",
    re.IGNORECASE,
)
WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
WHEN = re.compile(
    rf"\b(?P<when>(?:(?:today|tomorrow|tonight|(?:this|next|on)\s+(?:{WEEKDAYS})|{WEEKDAYS}|"
    rf"day after tomorrow|in \d+ (?:hours?|days?))"
    rf"(?:\s+(?:morning|afternoon|evening|night))?)|(?:this\s+)?(?:morning|afternoon|evening)"
    rf"|tonight)(?:\s+at\s+(?P<at>\d{{1,2}}(?::\d{{2}})?\s*(?:am|pm)?))?\b",
    re.IGNORECASE,
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass
class ParsedIntent:
    text: str
    capability: str = ""
    city: str = ""
    country: str = ""
    max_price: Money | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        price = self.max_price
        return {
            "capability": self.capability,
            "location": {"city": self.city, "country": self.country},
            "max_price": {"amount": str(price.amount), "currency": str(price.currency)}
            if price
            else None,
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()}
            if self.window_start
            else None,
            "notes": self.notes,
        }


def parse_intent(
    text: str,
    *,
    skills: list[Skill],
    now: dt.datetime,
    timezone: str,
    timezone_of: Callable[[str], str] | None = None,
) -> ParsedIntent:
    """Times are read in `timezone` (the user's), or, when the text names a city and
    `timezone_of` maps its country to a timezone, in the city's: where the work happens."""
    folded = _fold(text)
    intent = ParsedIntent(text=text)
    _find_capability(intent, folded, skills)
    _find_place(intent, folded, skills)
    _find_price(intent, text)
    if intent.country and timezone_of is not None:
        timezone = timezone_of(intent.country)
    _find_window(intent, text, now.astimezone(ZoneInfo(timezone)))
    return intent


def _find_capability(intent: ParsedIntent, folded: str, skills: list[Skill]) -> None:
    best = ""
    for skill in skills:
        for word in [*skill.synonyms, skill.title, skill.capability.split(".")[-1]]:
            pattern = rf"\b{re.escape(_fold(word))}(?:s|es)?\b"
            if re.search(pattern, folded) and len(word) > len(best):
                best, intent.capability = word, skill.capability
    if not intent.capability:
        intent.notes.append("No published skill matches what was asked.")


def _find_place(intent: ParsedIntent, folded: str, skills: list[Skill]) -> None:
    places = {}
    for skill in skills:
        for city, country in zip(skill.cities, _countries_for(skill), strict=False):
            places[_fold(city)] = (city, country)
    for key in sorted(places, key=len, reverse=True):
        if re.search(rf"\b{re.escape(key)}\b", folded):
            intent.city, intent.country = places[key]
            return
    intent.notes.append("No city that skills serve was named.")


def _countries_for(skill: Skill) -> list[str]:
    # Demo and operator data list cities and countries in the same order.
    return (
        skill.countries if len(skill.countries) == len(skill.cities) else [""] * len(skill.cities)
    )


def _find_price(intent: ParsedIntent, text: str) -> None:
    match = MONEY.search(text)
    if not match:
        return
    symbol = (match.group("pre") or match.group("post") or "").casefold()
    currency = CURRENCY_WORDS.get(symbol) or CURRENCY_WORDS.get(symbol.rstrip("s"))
    amount = (match.group("first") or match.group("second") or "").replace(",", ".")
    if currency and amount:
        intent.max_price = Money(Decimal(amount), currency)


def _find_window(intent: ParsedIntent, text: str, now: dt.datetime) -> None:
    match = WHEN.search(text)
    if not match:
        intent.notes.append("No time was given; any time from now is accepted.")
        return
    phrase = match.group("when").casefold()
    settings = {"RELATIVE_BASE": now.replace(tzinfo=None), "PREFER_DATES_FROM": "future"}
    day_phrase = re.sub(r"\b(morning|afternoon|evening|night)\b", "", phrase).strip() or "today"
    day = dateparser.parse(day_phrase, settings=settings) or now.replace(tzinfo=None)
    part = next((p for p in DAY_PARTS if p in phrase), None)
    if match.group("at"):
        at = dateparser.parse(match.group("at"), settings=settings)
        start = day.replace(hour=at.hour, minute=at.minute)
        if part in {"afternoon", "evening", "night", "tonight"} and start.hour < 12:
            start += dt.timedelta(hours=12)
        end = start + dt.timedelta(hours=2)
    else:
        first, last = DAY_PARTS.get(part, WHOLE_DAY)
        start = day.replace(hour=first, minute=0, second=0, microsecond=0)
        end = day.replace(hour=last, minute=0, second=0, microsecond=0)
    local_now = now.replace(tzinfo=None)
    if "next" not in phrase and (start - local_now).days >= 6 and end - dt.timedelta(7) > local_now:
        # Today's weekday named this morning means later today, not in a week.
        start, end = start - dt.timedelta(7), end - dt.timedelta(7)
    intent.window_start = start.replace(tzinfo=now.tzinfo)
    intent.window_end = end.replace(tzinfo=now.tzinfo)
