"""The free-text parser on many phrasings: capability, city, money, time window."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.catalog.demo import seed as seed_catalog
from apps.catalog.selectors import skill_list_published
from apps.dispatch.parser import UnreadableTime, WindowOutOfRange, parse_intent

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026, 09:00 in London. "next friday" is the coming Friday (as
# dateparser reads it); "wednesday evening" said on Wednesday morning is this evening.
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)

CASES = [
    # text, capability, city, max price, window start (local), window end (local)
    (
        "book a plumber in Lagos under £50 tomorrow morning",
        "home.plumbing",
        "Lagos",
        ("50", "GBP"),
        "2026-11-26 08:00",
        "2026-11-26 12:00",
    ),
    (
        "Book a PLUMBER in lagos under £50 tomorrow morning",
        "home.plumbing",
        "Lagos",
        ("50", "GBP"),
        "2026-11-26 08:00",
        "2026-11-26 12:00",
    ),
    (
        "I need someone to fix a leak in Nairobi, max KES 5000, this afternoon",
        "home.plumbing",
        "Nairobi",
        ("5000", "KES"),
        "2026-11-25 12:00",
        "2026-11-25 17:00",
    ),
    (
        "plumbing in Mumbai below ₹3000 on friday",
        "home.plumbing",
        "Mumbai",
        ("3000", "INR"),
        "2026-11-27 08:00",
        "2026-11-27 20:00",
    ),
    (
        "my boiler is broken, Amsterdam, up to €80, next monday morning",
        "home.plumbing",
        "Amsterdam",
        ("80", "EUR"),
        "2026-11-30 08:00",
        "2026-11-30 12:00",
    ),
    (
        "need a plumber in Sao Paulo for R$200 tomorrow",
        "home.plumbing",
        "São Paulo",
        ("200", "BRL"),
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "plumber São Paulo 150 reais saturday",
        "home.plumbing",
        "São Paulo",
        ("150", "BRL"),
        "2026-11-28 08:00",
        "2026-11-28 20:00",
    ),
    (
        "blocked pipe in Yerevan, 20000 dram max, tonight",
        "home.plumbing",
        "Yerevan",
        ("20000", "AMD"),
        "2026-11-25 19:00",
        "2026-11-25 23:00",
    ),
    (
        "plumber in London under 60 pounds tomorrow at 9am",
        "home.plumbing",
        "London",
        ("60", "GBP"),
        "2026-11-26 09:00",
        "2026-11-26 11:00",
    ),
    (
        "get me a plumber, London, £45.50, tomorrow at 14:30",
        "home.plumbing",
        "London",
        ("45.50", "GBP"),
        "2026-11-26 14:30",
        "2026-11-26 16:30",
    ),
    (
        "electrician in Lagos under ₦40000 tomorrow evening",
        "home.electrician",
        "Lagos",
        ("40000", "NGN"),
        "2026-11-26 17:00",
        "2026-11-26 21:00",
    ),
    (
        "a socket stopped working, Nairobi, KSh 3000, thursday",
        "home.electrician",
        "Nairobi",
        ("3000", "KES"),
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "electrical repair Mumbai 2500 rupees next tuesday afternoon",
        "home.electrician",
        "Mumbai",
        ("2500", "INR"),
        "2026-12-01 12:00",
        "2026-12-01 17:00",
    ),
    (
        "wiring check in Amsterdam for 90 euros on monday",
        "home.electrician",
        "Amsterdam",
        ("90", "EUR"),
        "2026-11-30 08:00",
        "2026-11-30 20:00",
    ),
    (
        "electrician Yerevan tomorrow",
        "home.electrician",
        "Yerevan",
        None,
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "cleaner in London under £40 this afternoon",
        "home.cleaning",
        "London",
        ("40", "GBP"),
        "2026-11-25 12:00",
        "2026-11-25 17:00",
    ),
    (
        "home cleaning Lagos 15000 naira saturday morning",
        "home.cleaning",
        "Lagos",
        ("15000", "NGN"),
        "2026-11-28 08:00",
        "2026-11-28 12:00",
    ),
    (
        "please clean my flat in Amsterdam, €60, friday afternoon",
        "home.cleaning",
        "Amsterdam",
        ("60", "EUR"),
        "2026-11-27 12:00",
        "2026-11-27 17:00",
    ),
    (
        "cleaning in São Paulo R$ 120 tomorrow morning",
        "home.cleaning",
        "São Paulo",
        ("120", "BRL"),
        "2026-11-26 08:00",
        "2026-11-26 12:00",
    ),
    (
        "a cleaner in Nairobi for 2500 shillings on sunday",
        "home.cleaning",
        "Nairobi",
        ("2500", "KES"),
        "2026-11-29 08:00",
        "2026-11-29 20:00",
    ),
    (
        "I'd like to see a doctor in London today for under £30",
        "health.telehealth_consult",
        "London",
        ("30", "GBP"),
        "2026-11-25 08:00",
        "2026-11-25 20:00",
    ),
    (
        "telehealth consult Mumbai ₹800 this evening",
        "health.telehealth_consult",
        "Mumbai",
        ("800", "INR"),
        "2026-11-25 17:00",
        "2026-11-25 21:00",
    ),
    (
        "GP consult in Nairobi tomorrow morning, budget of KES 2000",
        "health.telehealth_consult",
        "Nairobi",
        ("2000", "KES"),
        "2026-11-26 08:00",
        "2026-11-26 12:00",
    ),
    (
        "need a gp, Yerevan, 10000 AMD, in 2 days",
        "health.telehealth_consult",
        "Yerevan",
        ("10000", "AMD"),
        "2026-11-27 08:00",
        "2026-11-27 20:00",
    ),
    (
        "doctor Lagos $25 next friday",
        "health.telehealth_consult",
        "Lagos",
        ("25", "USD"),
        "2026-11-27 08:00",
        "2026-11-27 20:00",
    ),
    ("plumber in Lagos for 40 USD", "home.plumbing", "Lagos", ("40", "USD"), None, None),
    ("plumber tomorrow morning", "home.plumbing", "", None, "2026-11-26 08:00", "2026-11-26 12:00"),
    (
        "leaking pipe in Amsterdam at most 70 EUR day after tomorrow",
        "home.plumbing",
        "Amsterdam",
        ("70", "EUR"),
        "2026-11-27 08:00",
        "2026-11-27 20:00",
    ),
    (
        "plumbers near London, under 55 quid, wednesday evening",
        "home.plumbing",
        "London",
        ("55", "GBP"),
        "2026-11-25 17:00",
        "2026-11-25 21:00",
    ),
    (
        "cleaning, Mumbai, INR 1500, this morning",
        "home.cleaning",
        "Mumbai",
        ("1500", "INR"),
        "2026-11-25 08:00",
        "2026-11-25 12:00",
    ),
    (
        "fix my boiler in london please, £120 max, monday at 8am",
        "home.plumbing",
        "London",
        ("120", "GBP"),
        "2026-11-30 08:00",
        "2026-11-30 10:00",
    ),
    # A bare "at" hour is a clock time, in the evening when the day part says so.
    (
        "plumber in London tomorrow at 9",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 09:00",
        "2026-11-26 11:00",
    ),
    (
        "plumber in London tomorrow evening at 7",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 19:00",
        "2026-11-26 21:00",
    ),
    (
        "plumber in London tonight at 8",
        "home.plumbing",
        "London",
        None,
        "2026-11-25 20:00",
        "2026-11-25 22:00",
    ),
    (
        "plumber in London friday afternoon at 2:30",
        "home.plumbing",
        "London",
        None,
        "2026-11-27 14:30",
        "2026-11-27 16:30",
    ),
    (
        "plumber in London tomorrow at 7.30pm",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 19:30",
        "2026-11-26 21:30",
    ),
    (
        "plumber in London tomorrow at 12pm",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 12:00",
        "2026-11-26 14:00",
    ),
    (
        "plumber in London tomorrow at 12am",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 00:00",
        "2026-11-26 02:00",
    ),
    (
        "plumber in London tomorrow at 0",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 00:00",
        "2026-11-26 02:00",
    ),
    (
        "plumber in London tomorrow morning at 10",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 10:00",
        "2026-11-26 12:00",
    ),
    (
        "plumber in London tonight at 12",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 00:00",
        "2026-11-26 02:00",
    ),
    (
        "plumber in London this evening at 6:45",
        "home.plumbing",
        "London",
        None,
        "2026-11-25 18:45",
        "2026-11-25 20:45",
    ),
    # "In N hours" is around then, not the whole day; "in 7 days" is not today.
    (
        "plumber in London in 2 hours",
        "home.plumbing",
        "London",
        None,
        "2026-11-25 10:00",
        "2026-11-25 12:00",
    ),
    (
        "plumber in London in 1 hour",
        "home.plumbing",
        "London",
        None,
        "2026-11-25 09:00",
        "2026-11-25 11:00",
    ),
    (
        "plumber in London in 7 days",
        "home.plumbing",
        "London",
        None,
        "2026-12-02 08:00",
        "2026-12-02 20:00",
    ),
    # A place no skill serves is read as named, not dropped.
    (
        "book a plumber in Manchester under £50 tomorrow morning",
        "home.plumbing",
        "Manchester",
        ("50", "GBP"),
        "2026-11-26 08:00",
        "2026-11-26 12:00",
    ),
    ("plumber near Leeds", "home.plumbing", "Leeds", None, None, None),
    ("plumber in December", "home.plumbing", "", None, None, None),
    # Money after the number, with thousands separators, and no currency inside a word.
    (
        "Plumber in Amsterdam under 30€ tomorrow",
        "home.plumbing",
        "Amsterdam",
        ("30", "EUR"),
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "plumber in Amsterdam for 30 € tomorrow",
        "home.plumbing",
        "Amsterdam",
        ("30", "EUR"),
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "plumber in Nairobi 3000 ksh tomorrow",
        "home.plumbing",
        "Nairobi",
        ("3000", "KES"),
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "plumber in Lagos under ₦5,000 tomorrow",
        "home.plumbing",
        "Lagos",
        ("5000", "NGN"),
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "plumber in London up to £1,000 tomorrow",
        "home.plumbing",
        "London",
        ("1000", "GBP"),
        "2026-11-26 08:00",
        "2026-11-26 20:00",
    ),
    (
        "plumber in Lagos max ₦1,250,000.50",
        "home.plumbing",
        "Lagos",
        ("1250000.50", "NGN"),
        None,
        None,
    ),
    (
        "cleaner in Amsterdam €1.250,50",
        "home.cleaning",
        "Amsterdam",
        ("1250.50", "EUR"),
        None,
        None,
    ),
    (
        "cleaner in Amsterdam 45,50 euros",
        "home.cleaning",
        "Amsterdam",
        ("45.50", "EUR"),
        None,
        None,
    ),
    ("plumber in London 50GBP", "home.plumbing", "London", ("50", "GBP"), None, None),
    ("plumber in Lagos US$50", "home.plumbing", "Lagos", ("50", "USD"), None, None),
    ("plumber in Nairobi, it takes 3 hours", "home.plumbing", "Nairobi", None, None, None),
    (
        "plumber in Nairobi, it takes 3 hours, KES 4000",
        "home.plumbing",
        "Nairobi",
        ("4000", "KES"),
        None,
        None,
    ),
    # Clock times before the day, named ones, and alone (now: Wednesday 09:00 in London)
    (
        "plumber in London at 3pm tomorrow",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 15:00",
        "2026-11-26 17:00",
    ),
    (
        "plumber in London at 3pm on friday",
        "home.plumbing",
        "London",
        None,
        "2026-11-27 15:00",
        "2026-11-27 17:00",
    ),
    (
        "plumber in London tomorrow at noon",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 12:00",
        "2026-11-26 14:00",
    ),
    (
        "plumber in London at 3pm",
        "home.plumbing",
        "London",
        None,
        "2026-11-25 15:00",
        "2026-11-25 17:00",
    ),
    (
        "plumber in London at 8am",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 08:00",
        "2026-11-26 10:00",
    ),
    ("plumber in London at 50 pounds", "home.plumbing", "London", ("50", "GBP"), None, None),
    (
        "plumber in London tonight at 1",
        "home.plumbing",
        "London",
        None,
        "2026-11-26 01:00",
        "2026-11-26 03:00",
    ),
    (
        "plumber in London tonight at 11",
        "home.plumbing",
        "London",
        None,
        "2026-11-25 23:00",
        "2026-11-26 01:00",
    ),
    (
        "I'm flying back from Amsterdam: plumber in Lagos for £50",
        "home.plumbing",
        "Lagos",
        ("50", "GBP"),
        None,
        None,
    ),
    ("plumber in London under ¥5000", "home.plumbing", "London", ("5000", "JPY"), None, None),
    ("plumber in London under 5000 yen", "home.plumbing", "London", ("5000", "JPY"), None, None),
    ("plumber in Mumbai under Rs 3000", "home.plumbing", "Mumbai", ("3000", "INR"), None, None),
    ("plumber in London under 50 CHF", "home.plumbing", "London", ("50", "CHF"), None, None),
    (
        "plumber in London yesterday morning",
        "home.plumbing",
        "London",
        None,
        "2026-11-24 08:00",
        "2026-11-24 12:00",
    ),
    (
        "plumber in London last monday",
        "home.plumbing",
        "London",
        None,
        "2026-11-23 08:00",
        "2026-11-23 20:00",
    ),
    (
        "plumber in London last wednesday",
        "home.plumbing",
        "London",
        None,
        "2026-11-18 08:00",
        "2026-11-18 20:00",
    ),
    (
        "plumber in London for the Euro 2024 final, max 50 GBP",
        "home.plumbing",
        "London",
        ("50", "GBP"),
        None,
        None,
    ),
    ("plumber in London, I pay in dollars 2 rooms", "home.plumbing", "London", None, None, None),
]


@pytest.fixture(scope="module")
def published(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        seed_catalog()
        skills = skill_list_published()
    return skills


def local(text: str | None):
    return (
        dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(0)))
        if text
        else None
    )


@pytest.mark.parametrize(("text", "capability", "city", "price", "start", "end"), CASES)
def test_phrasings(published, text, capability, city, price, start, end):
    intent = parse_intent(text, skills=published, now=NOW, timezone="Europe/London")

    assert intent.capability == capability
    assert intent.city == city
    if price is None:
        assert intent.max_price is None
    else:
        assert (intent.max_price.amount, str(intent.max_price.currency)) == (
            Decimal(price[0]),
            price[1],
        )
    assert intent.window_start == local(start)
    assert intent.window_end == local(end)


def test_unknown_request_says_what_was_not_understood(published):
    intent = parse_intent("walk my dog", skills=published, now=NOW, timezone="Europe/London")

    assert intent.capability == ""
    assert "No published skill matches what was asked." in intent.notes


@pytest.mark.parametrize("at", ["13pm", "0am", "99:99", "24", "7:60", "100"])
def test_a_time_of_day_that_does_not_exist_is_refused(published, at):
    with pytest.raises(UnreadableTime) as refused:
        parse_intent(
            f"plumber in London tomorrow at {at}",
            skills=published,
            now=NOW,
            timezone="Europe/London",
        )

    assert refused.value.code == "unreadable_time"


@pytest.mark.parametrize(
    "count",
    [
        "99999999999 days",
        "99999999999 hours",
        "2912114 days at 11pm",  # lands just before the calendar's end, then steps past it
        "69890749 hours",
        "367 days",
        f"{366 * 24 + 1} hours",
    ],
)
def test_a_count_past_a_year_is_out_of_range(published, count):
    with pytest.raises(WindowOutOfRange):
        parse_intent(
            f"plumber in London in {count}",
            skills=published,
            now=NOW,
            timezone="Europe/London",
        )
