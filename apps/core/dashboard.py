"""What the operator dashboard's sections share: the period an operator looks at, a
trend against the period before it, and the shape of a card.

Each app's section is a function named in settings.GERAOS_DASHBOARD_KPIS taking the
`Period`, returning cards: {"title", "value"} and, where they apply, "link" (the
changelist behind the number, filtered), "trend" (against the previous period) and
"chart" (Chart.js data for unfold's chart components).
"""

import datetime as dt
import json
from dataclasses import dataclass, replace
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: dt.datetime
    end: dt.datetime

    def previous(self) -> "Period":
        """The period a trend compares with: today with yesterday up to the same hour, the
        last N days with the N before them."""
        step = dt.timedelta(days=1) if self.key == "today" else self.end - self.start
        return replace(self, start=self.start - step, end=self.end - step)

    def contains(self, field: str) -> Q:
        """`field` falls in the period, (start, end]: each instant in one period only."""
        return Q(**{f"{field}__gt": self.start, f"{field}__lte": self.end})

    def days(self) -> list[dt.date]:
        first = timezone.localdate(self.start)
        count = (timezone.localdate(self.end) - first).days + 1
        return [first + dt.timedelta(days=n) for n in range(count)]


PERIODS = {"today": ("today", 0), "7d": ("last 7 days", 7), "30d": ("last 30 days", 30)}
DEFAULT_PERIOD = "7d"


def period_named(key: str, *, now: dt.datetime | None = None) -> Period:
    """`key` is one of PERIODS (anything else is the default): today from midnight, or
    the last N days up to now."""
    key = key if key in PERIODS else DEFAULT_PERIOD
    label, days = PERIODS[key]
    now = now or timezone.now()
    if days:
        start = now - dt.timedelta(days=days)
    else:
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(key=key, label=label, start=start, end=now)


def since(period: Period, field: str = "created_at") -> str:
    """The changelist query string that filters `field` to the period."""
    return urlencode({f"{field}__gt": period.start.isoformat()})


def trend(current: Decimal | int, previous: Decimal | int) -> str:
    if not previous:
        return "none in the period before" if not current else "new: none the period before"
    change = (Decimal(current) - Decimal(previous)) / abs(Decimal(previous))
    if not change:
        return "as in the period before"
    return f"{change:+.0%} on the period before"


def bar_chart(label: str, days: list[dt.date], values: list) -> str:
    """Chart.js data for unfold's bar chart component, one bar a day."""
    return json.dumps(
        {
            "labels": [f"{day:%d %b}" for day in days],
            "datasets": [{"label": label, "data": [str(value) for value in values]}],
        }
    )
