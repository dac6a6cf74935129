"""The days a figure covers: whole UTC days, both ends included."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

PRESETS = (7, 30, 90)
"""The ranges the date picker offers, in days ending today."""
MAX_DAYS = 731
"""Two years: longer ranges belong in an export, not a chart."""


def midnight(day: date) -> datetime:
    """The first instant of a UTC day, as an aware datetime."""
    return datetime.combine(day, time(0), UTC)


class BadPeriodError(ValueError):
    """A range that cannot be used; the message says why."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise BadPeriodError("The range ends before it starts.")
        if self.days > MAX_DAYS:
            raise BadPeriodError(f"A range is at most {MAX_DAYS} days.")

    @classmethod
    def ending(cls, last: date, days: int) -> Period:
        return cls(last - timedelta(days=days - 1), last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant inside, as an aware UTC datetime."""
        return midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first instant after (exclusive)."""
        return midnight(self.last + timedelta(days=1))

    def each_day(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.first + timedelta(days=offset)

    def previous(self) -> Period:
        """The same number of days just before, for 'change against the previous period'."""
        return Period.ending(self.first - timedelta(days=1), self.days)

    def clip(self, first: date | None = None, last: date | None = None) -> Period | None:
        """The part of this period between `first` and `last`, or None if nothing is left."""
        start = max(self.first, first) if first else self.first
        stop = min(self.last, last) if last else self.last
        return Period(start, stop) if start <= stop else None

    def as_json(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


@dataclass(frozen=True)
class Window:
    """A stretch of time, end exclusive: part of a day, where a `Period` is whole days."""

    start: datetime
    end: datetime


Span = Period | Window
"""What a figure is computed over: both have `start` and `end`."""


def period_from(params: Mapping[str, str], today: date) -> Period:
    """`?days=7|30|90` (default 30), or `?from=YYYY-MM-DD&to=YYYY-MM-DD`."""
    if "from" in params or "to" in params:
        try:
            first = date.fromisoformat(params.get("from", ""))
            last = date.fromisoformat(params.get("to", ""))
        except ValueError:
            raise BadPeriodError("from and to must both be dates like 2026-11-01.") from None
        return Period(first, last)
    raw = params.get("days", "30")
    if not raw.isdigit() or int(raw) not in PRESETS:
        raise BadPeriodError(f"days must be one of {', '.join(map(str, PRESETS))}.")
    return Period.ending(today, int(raw))
