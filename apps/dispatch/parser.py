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
from http import HTTPStatus
from zoneinfo import ZoneInfo

import dateparser
from djmoney.money import Money
from moneyed import CURRENCIES

from apps.catalog.models import Skill
from apps.core.errors import ApplicationError

DAY_PARTS = {
    "morning": (8, 12),
    "afternoon": (12, 17),
    "evening": (17, 21),
    "night": (19, 23),  # "tonight" too: it contains "night"
}
WHOLE_DAY = (8, 20)


def _has_letter(text: str) -> bool:
    return any(character.isalpha() for character in text)


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
    "shilling": "KES",
    "₹": "INR",
    "inr": "INR",
    "rupees": "INR",
    "rupee": "INR",
    "r$": "BRL",
    "brl": "BRL",
    "reais": "BRL",
    "֏": "AMD",
    "amd": "AMD",
    "dram": "AMD",
    "₦": "NGN",
    "ngn": "NGN",
    "naira": "NGN",
    "rs": "INR",
    "¥": "JPY",
    "jpy": "JPY",
    "yen": "JPY",
}
# Words name a currency only after the number ("50 pounds"; "Euro 2024" is no price);
# symbols and codes stand on either side.
AFTER_ONLY = {
    "pounds", "pound", "quid", "euros", "euro", "dollars", "dollar", "shillings",
    "shilling", "rupees", "rupee", "reais", "dram", "naira", "yen",
}  # fmt: skip
# Built from CURRENCY_WORDS, longest first ("r$" before "$", "pounds" before "pound"). No
# letter may come just before a name: "kes" in "takes" is no money, "50GBP" is.
_LONGEST_FIRST = sorted(CURRENCY_WORDS, key=len, reverse=True)
_SYMBOLS = "|".join(re.escape(key) for key in _LONGEST_FIRST if not _has_letter(key))


def _names(keys) -> str:
    return r"(?<![^\W\d_])(?:{})".format("|".join(re.escape(key) for key in keys))


_CODES = _names(key for key in _LONGEST_FIRST if _has_letter(key) and key not in AFTER_ONLY)
_NAMES = _names(key for key in _LONGEST_FIRST if _has_letter(key))
# 5,000 and 5.000 group thousands; 45.50 and 45,50 have cents.
_NUMBER = (
    r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?"
    r"|\d{1,7}(?:[.,]\d{1,2})?)(?!\d)"
)
MONEY = re.compile(
    rf"(?:(?P<pre>{_CODES}|{_SYMBOLS})\s?(?P<first>{_NUMBER})"
    rf"|(?P<second>{_NUMBER})\s?(?P<post>{_NAMES}|{_SYMBOLS}))(?!\w)",
    re.IGNORECASE,
)
# Any other ISO 4217 code, written in capitals ("50 CHF"): read, so that a price in a
# currency GeraOS cannot convert is refused rather than silently dropped.
ISO_MONEY = re.compile(
    rf"(?<![A-Za-z])(?:(?P<pre>[A-Z]{{3}})\s?(?P<first>{_NUMBER})"
    rf"|(?P<second>{_NUMBER})\s?(?P<post>[A-Z]{{3}}))(?![A-Za-z])"
)
WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_AT = r"\d+(?:[:.]\d+)?(?:\s*(?:am|pm))?|noon|midnight"
WHEN = re.compile(
    rf"\b(?P<when>(?:(?:today|tomorrow|tonight|yesterday|(?:this|next|on|last)\s+(?:{WEEKDAYS})"
    rf"|{WEEKDAYS}|"
    rf"day after tomorrow|in \d+ (?:hours?|days?))"
    rf"(?:\s+(?:morning|afternoon|evening|night))?)|(?:this\s+)?(?:morning|afternoon|evening)"
    rf"|tonight)(?:\s+at\s+(?P<at>{_AT}))?\b",
    re.IGNORECASE,
)
# "at 3pm tomorrow" says what "tomorrow at 3pm" says.
CLOCK_FIRST = re.compile(
    rf"\bat\s+(?P<at>{_AT})\s+(?:on\s+)?"
    rf"(?P<day>(?:(?:this|next)\s+)?(?:today|tomorrow|tonight|{WEEKDAYS}))\b",
    re.IGNORECASE,
)
# "at 3pm" with no day at all: only an unmistakable clock time ("at 50" may be a price).
LONE_CLOCK = re.compile(
    r"\bat\s+(?P<at>\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}|noon|midnight)\b",
    re.IGNORECASE,
)
LAST_WEEKDAY = re.compile(rf"last\s+(?P<weekday>{WEEKDAYS})")
WEEKDAY_NAMES = WEEKDAYS.split("|")
IN_HOURS = re.compile(r"in (?P<count>\d+) hours?")
IN_DAYS = re.compile(r"in (?P<count>\d+) days?")
CLOCK = re.compile(r"(?P<hour>\d+)(?:[:.](?P<minute>\d+))?\s*(?P<meridiem>am|pm)?")
PM_PARTS = {"afternoon", "evening", "night"}
LATE_PARTS = {"evening", "night"}
SMALL_HOURS = 4
AT_LENGTH = dt.timedelta(hours=2)
HORIZON = dt.timedelta(days=366)
# "in Manchester": a place named that no skill serves, so nothing is booked elsewhere.
NAMED_PLACE = re.compile(r"\b(?:[Ii]n|[Nn]ear)\s+(?P<place>[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*)")
NOT_PLACES = re.compile(rf"(?:{WEEKDAYS}|{MONTHS})\b", re.IGNORECASE)


class UnreadableTime(ApplicationError):
    code = "unreadable_time"
    status = HTTPStatus.BAD_REQUEST


class WindowOutOfRange(ApplicationError):
    code = "window_out_of_range"
    status = HTTPStatus.BAD_REQUEST


def fold(text: str) -> str:
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
    timezone_of: Callable[[str, str], str] | None = None,
) -> ParsedIntent:
    """Times are read in `timezone` (the user's), or, when the text names a city skills
    serve, in the zone `timezone_of(city, country)` gives: where the work happens."""
    folded = fold(text)
    intent = ParsedIntent(text=text)
    _find_capability(intent, folded, skills)
    _find_place(intent, text, folded, skills)
    _find_price(intent, text)
    if intent.country and timezone_of is not None:
        timezone = timezone_of(intent.city, intent.country)
    _find_window(intent, text, now.astimezone(ZoneInfo(timezone)))
    return intent


def _find_capability(intent: ParsedIntent, folded: str, skills: list[Skill]) -> None:
    best = ""
    for skill in skills:
        for word in [*skill.synonyms, skill.title, skill.capability.split(".")[-1]]:
            pattern = rf"\b{re.escape(fold(word))}(?:s|es)?\b"
            if re.search(pattern, folded) and len(word) > len(best):
                best, intent.capability = word, skill.capability
    if not intent.capability:
        intent.notes.append("No published skill matches what was asked.")


def _find_place(intent: ParsedIntent, text: str, folded: str, skills: list[Skill]) -> None:
    places = {}
    for skill in skills:
        for city, country in zip(skill.cities, _countries_for(skill), strict=False):
            places[fold(city)] = (city, country)
    # The city the work is "in" or "near" wins over one merely mentioned ("from Amsterdam");
    # then the longest name, so "New Delhi" is not read as "Delhi".
    by_length = sorted(places, key=len, reverse=True)
    for pattern in (r"\b(?:in|near)\s+{}\b", r"\b{}\b"):
        for key in by_length:
            if re.search(pattern.format(re.escape(key)), folded):
                intent.city, intent.country = places[key]
                return
    named = NAMED_PLACE.search(text)
    if named and not NOT_PLACES.match(named["place"]):
        intent.city = named["place"]
        intent.notes.append(f"{intent.city} is not a city skills serve.")
    else:
        intent.notes.append("No city that skills serve was named.")


def _countries_for(skill: Skill) -> list[str]:
    # Demo and operator data list cities and countries in the same order.
    return (
        skill.countries if len(skill.countries) == len(skill.cities) else [""] * len(skill.cities)
    )


def _find_price(intent: ParsedIntent, text: str) -> None:
    if match := MONEY.search(text):
        currency = CURRENCY_WORDS[(match["pre"] or match["post"]).casefold()]
    elif (match := ISO_MONEY.search(text)) and (match["pre"] or match["post"]) in CURRENCIES:
        currency = match["pre"] or match["post"]
    else:
        return
    intent.max_price = Money(_amount(match["first"] or match["second"]), currency)


def _amount(number: str) -> Decimal:
    whole, cents = re.fullmatch(r"([\d.,]+?)(?:[.,](\d{1,2}))?", number).groups()
    return Decimal(re.sub(r"[.,]", "", whole) + (f".{cents}" if cents else ""))


def _find_window(intent: ParsedIntent, text: str, now: dt.datetime) -> None:
    """Sets the window in `now`'s zone. Raises UnreadableTime for a clock time that is
    none ("at 13pm") and WindowOutOfRange for "in N days/hours" beyond the horizon."""
    text = CLOCK_FIRST.sub(r"\g<day> at \g<at>", text)
    match = WHEN.search(text)
    if not match:
        _find_lone_clock(intent, text, now)
        return
    phrase = match["when"].casefold()
    _refuse_beyond_horizon(phrase)
    if hours := IN_HOURS.match(phrase):
        middle = _hours_after(now, int(hours["count"]))
        start, end = middle - AT_LENGTH / 2, middle + AT_LENGTH / 2
    else:
        start, end = _day_window(phrase, match["at"], now.replace(tzinfo=None))
        start, end = start.replace(tzinfo=now.tzinfo), end.replace(tzinfo=now.tzinfo)
    intent.window_start, intent.window_end = start, end


def _find_lone_clock(intent: ParsedIntent, text: str, now: dt.datetime) -> None:
    """'at 3pm' alone is the next 3pm: today's, or tomorrow's once it has passed."""
    lone = LONE_CLOCK.search(text)
    if not lone:
        intent.notes.append("No time was given; any time from now is accepted.")
        return
    local_now = now.replace(tzinfo=None)
    start = local_now.replace(hour=0, minute=0, second=0, microsecond=0) + _clock(lone["at"], None)
    if start <= local_now:
        start += dt.timedelta(days=1)
    intent.window_start = start.replace(tzinfo=now.tzinfo)
    intent.window_end = intent.window_start + AT_LENGTH
    intent.notes.append(f'"at {lone["at"]}" with no day was read as the next one.')


def _refuse_beyond_horizon(phrase: str) -> None:
    """ "In N days/hours" past a year is refused before any date arithmetic (which would
    overflow the calendar for a large enough N); the resolver's own limit is tighter."""
    if (days := IN_DAYS.match(phrase)) and int(days["count"]) > HORIZON.days:
        raise WindowOutOfRange(f"In {days['count']} days is too far ahead.")
    if (hours := IN_HOURS.match(phrase)) and int(hours["count"]) > HORIZON / dt.timedelta(hours=1):
        raise WindowOutOfRange(f"In {hours['count']} hours is too far ahead.")


def _hours_after(now: dt.datetime, count: int) -> dt.datetime:
    # Counted in UTC: N hours from now stay N hours across a change of clocks.
    later = now.astimezone(dt.UTC) + dt.timedelta(hours=count)
    return later.astimezone(now.tzinfo).replace(second=0, microsecond=0)


def _day_window(phrase: str, at: str | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The local (naive) window a day phrase means, with its day part or "at" time."""
    day = _day(phrase, now)
    part = next((p for p in DAY_PARTS if p in phrase), None)
    if at:
        start = day.replace(hour=0, minute=0, second=0, microsecond=0) + _clock(at, part)
        end = start + AT_LENGTH
    else:
        first, last = DAY_PARTS.get(part, WHOLE_DAY)
        start = day.replace(hour=first, minute=0, second=0, microsecond=0)
        end = day.replace(hour=last, minute=0, second=0, microsecond=0)
    named_weekday = re.search(WEEKDAYS, phrase) and "next" not in phrase
    if named_weekday and (start - now).days >= 6 and end - dt.timedelta(7) > now:
        # Today's weekday named this morning means later today, not in a week.
        start, end = start - dt.timedelta(7), end - dt.timedelta(7)
    return start, end


def _day(phrase: str, now: dt.datetime) -> dt.datetime:
    """The day a phrase names. Past ones ("yesterday", "last monday") are read as said,
    so the resolver can refuse a window that has passed instead of booking another day."""
    if days := IN_DAYS.match(phrase):
        return now + dt.timedelta(days=int(days["count"]))
    if phrase.startswith("yesterday"):
        return now - dt.timedelta(days=1)
    if last := LAST_WEEKDAY.match(phrase):
        days_back = (now.weekday() - WEEKDAY_NAMES.index(last["weekday"])) % 7 or 7
        return now - dt.timedelta(days=days_back)
    settings = {"RELATIVE_BASE": now, "PREFER_DATES_FROM": "future"}
    day_phrase = re.sub(r"\b(morning|afternoon|evening|night)\b", "", phrase).strip() or "today"
    return dateparser.parse(day_phrase, settings=settings) or now


def _clock(at: str, part: str | None) -> dt.timedelta:
    """How long after midnight "7", "7:30", "7pm", "19:00" or "noon" is. Without am/pm the
    day part decides: "evening at 7" is 19:00, "tonight at 12" is the midnight ending it."""
    named = {"noon": dt.timedelta(hours=12), "midnight": dt.timedelta(hours=24)}
    if at.casefold() in named:
        return named[at.casefold()]  # midnight: the one ending the day named
    clock = CLOCK.fullmatch(at.casefold())
    hour, minute, meridiem = int(clock["hour"]), int(clock["minute"] or 0), clock["meridiem"]
    if meridiem:
        real = 1 <= hour <= 12 and minute <= 59
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    else:
        real = hour <= 23 and minute <= 59
        if 1 <= hour <= SMALL_HOURS and part == "night":
            hour += 24  # "tonight at 1" is the small hours after midnight
        elif 1 <= hour < 12 and part in PM_PARTS:
            hour += 12
        elif hour == 12 and part in LATE_PARTS:
            hour = 24
    if not real:
        problem = f'"at {at}" is not a time of day.'
        raise UnreadableTime(problem, fields={"text": [problem]})
    return dt.timedelta(hours=hour, minutes=minute)
