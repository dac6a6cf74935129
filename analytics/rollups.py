"""Daily figures kept in `dashboard_analytics`, and reading them back merged with live ones.

A `DailyFigures` computes one or more metrics from the raw tables for any run of days (in
one query where they share it), or any stretch of time.
`analytics.refresh` stores those figures for closed days, and for the open day up to the
moment it ran (`as_of`), and records what it covered. Reading a metric for a period takes
covered days from the rollups; for the open day it adds, live, what happened since `as_of`
(exact for counts and sums; a distinct count, daily active users, stays as of the refresh,
at most one refresh interval old); any other day is computed live. So an answer is always
complete and a 90-day chart reads ~90 stored rows instead of millions of raw ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period, Span, Window, midnight
from models.ops import DashboardAnalytics

Values = dict[tuple[date, str], Decimal]
"""(day, dimension) → figure; a missing key means zero."""

COVERAGE_FIRST = "rollups.first_day"
COVERAGE_THROUGH = "rollups.through_day"
"""Two marker rows: every metric is stored for every closed day from first through last."""
OPEN_DAY_AS_OF = "rollups.open_day_as_of"
"""A marker row: the open day's figures are stored as they stood at this moment (its day,
and its value in seconds after that day's midnight)."""


@dataclass(frozen=True)
class DailyFigures:
    names: tuple[str, ...]
    """The metrics, as stored in `dashboard_analytics.metric`."""
    compute: Callable[[AsyncSession, Span], Awaitable[dict[str, Values]]]
    """Each metric's figures straight from the raw tables, by UTC day, for what happened
    in a period (or a window of time)."""
    adds_up: bool = True
    """Whether the figures of a later stretch of a day add to those of an earlier one:
    true of counts and sums, not of distinct counts. A refresh stores the open day of a
    figure that does not add up whole, as far as it is known then, and readers take it
    as stored."""
    settles_after_days: int = 0
    """How long a day's figure keeps changing after the day closes (a signup day's funnel
    moves as those users go on to verify and pay); refreshes recompute that window."""


def instant_value(moment: datetime) -> tuple[date, Decimal]:
    """A moment as a marker row holds it: its UTC day, and seconds after that midnight."""
    day = moment.astimezone(UTC).date()
    return day, Decimal((moment - midnight(day)).total_seconds()).quantize(Decimal("0.0001"))


def instant_of(day: date, seconds: Decimal) -> datetime:
    return midnight(day) + timedelta(seconds=float(seconds))


async def markers(db: AsyncSession, *names: str) -> dict[str, tuple[date, Decimal]]:
    rows = await db.execute(
        sa.select(
            DashboardAnalytics.metric, DashboardAnalytics.day, DashboardAnalytics.value
        ).where(DashboardAnalytics.metric.in_(names))
    )
    return {name: (day, value) for name, day, value in rows}


@dataclass(frozen=True)
class Coverage:
    first: date
    through: date
    as_of: datetime | None = None
    """When the open day (the day after `through`) was stored, if it was."""

    def clip(self, period: Period) -> Period | None:
        return period.clip(self.first, self.through)

    def open_day(self, period: Period) -> date | None:
        """The partly stored day, if the period holds it."""
        if self.as_of is None:
            return None
        day = self.as_of.date()
        return day if period.first <= day <= period.last and day > self.through else None


_READING = "analytics.rollups.reading"
"""Where `one_reading` keeps the coverage in the session's `info`, once read."""


@contextmanager
def one_reading(db: AsyncSession) -> Iterator[None]:
    """Within the block, `coverage` is read from the database once: a page of answers asked
    for it once per answer (the dashboard, six times). For reading only: a refresh in the
    block would not be seen."""
    db.info[_READING] = []
    try:
        yield
    finally:
        db.info.pop(_READING, None)


async def coverage(db: AsyncSession) -> Coverage | None:
    known: list[Coverage | None] | None = db.info.get(_READING)
    if known:
        return known[0]
    found = await markers(db, COVERAGE_FIRST, COVERAGE_THROUGH, OPEN_DAY_AS_OF)
    covered = None
    if COVERAGE_FIRST in found and COVERAGE_THROUGH in found:
        as_of = instant_of(*found[OPEN_DAY_AS_OF]) if OPEN_DAY_AS_OF in found else None
        covered = Coverage(found[COVERAGE_FIRST][0], found[COVERAGE_THROUGH][0], as_of)
    if known is not None:
        known.append(covered)
    return covered


async def stored(
    db: AsyncSession, names: list[str], period: Period, scope: str | None = None
) -> dict[str, Values]:
    found: dict[str, Values] = {name: {} for name in names}
    query = sa.select(
        DashboardAnalytics.metric,
        DashboardAnalytics.day,
        DashboardAnalytics.dimension,
        DashboardAnalytics.value,
    ).where(
        DashboardAnalytics.metric.in_(names),
        DashboardAnalytics.day.between(period.first, period.last),
    )
    if scope is not None:
        dimension = DashboardAnalytics.dimension
        query = query.where(sa.or_(dimension == scope, dimension.startswith(f"{scope}:")))
    rows = await db.execute(query)
    for name, day, dimension, value in rows:
        found[name][(day, dimension)] = value
    return found


async def read(
    db: AsyncSession,
    figures: list[DailyFigures],
    period: Period,
    *,
    live: bool = False,
    scope: str | None = None,
) -> dict[str, Values]:
    """Each metric's figures for `period`: stored where the rollups cover it, else live.

    `scope` reads only the dimensions that are it or start with it and a colon (one
    currency's money figures); others may or may not be there. `live=True` ignores the
    rollups (for checking them, and for the benchmark's baseline).
    """
    names = [name for group in figures for name in group.names]
    covered = None if live else await coverage(db)
    rolled = covered.clip(period) if covered else None
    open_day = covered.open_day(period) if covered else None
    found: dict[str, Values] = {name: {} for name in names}
    done = [part for part in (rolled, open_day and Period(open_day, open_day)) if part]
    for part in _joined(done):
        for name, values in (await stored(db, names, part, scope)).items():
            found[name] |= values
    for part in _outside(period, done):
        for group in figures:
            for name, values in (await group.compute(db, part)).items():
                found[name] |= values
    if open_day and covered and covered.as_of:
        since = Window(covered.as_of, midnight(open_day + timedelta(days=1)))
        for group in figures:
            if group.adds_up:
                for name, values in (await group.compute(db, since)).items():
                    for key, value in values.items():
                        found[name][key] = found[name].get(key, Decimal(0)) + value
    return found


def _joined(parts: list[Period]) -> list[Period]:
    """`parts` (in order of days), those that meet made one: the stored closed days and the
    open day after them are read in one statement."""
    joined: list[Period] = []
    for part in parts:
        if joined and joined[-1].last + timedelta(days=1) == part.first:
            joined[-1] = Period(joined[-1].first, part.last)
        else:
            joined.append(part)
    return joined


def _outside(period: Period, parts: list[Period]) -> list[Period]:
    """The runs of days of `period` in none of `parts`."""
    days = [day for day in period.each_day() if not any(p.first <= day <= p.last for p in parts)]
    runs: list[Period] = []
    for day in days:
        if runs and runs[-1].last + timedelta(days=1) == day:
            runs[-1] = Period(runs[-1].first, day)
        else:
            runs.append(Period(day, day))
    return runs


def by_day(values: Values, period: Period, dimension: str = "") -> dict[date, Decimal]:
    """One dimension as a series with every day of the period, zeros filled in."""
    zero = Decimal(0)
    return {day: values.get((day, dimension), zero) for day in period.each_day()}


def total(values: Values, dimension: str | None = None) -> Decimal:
    """The sum over days, of one dimension or of all."""
    return sum(
        (v for (_, dim), v in values.items() if dimension is None or dim == dimension),
        Decimal(0),
    )
