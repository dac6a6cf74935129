"""Daily figures kept in `dashboard_analytics`, and reading them back merged with live ones.

A `DailyFigures` computes one or more metrics from the raw tables for any run of days (in
one query where they share it).
`analytics.refresh` stores those figures for closed days, and records which days it has
covered. Reading a metric for a period takes covered days from the rollups and computes
the rest (the open day, and any day not rolled up yet) live, so an answer is always
complete and a 90-day chart reads ~90 stored rows instead of millions of raw ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period
from models.ops import DashboardAnalytics

Values = dict[tuple[date, str], Decimal]
"""(day, dimension) → figure; a missing key means zero."""

COVERAGE_FIRST = "rollups.first_day"
COVERAGE_THROUGH = "rollups.through_day"
"""Two marker rows: every metric is stored for every closed day from first through last."""


@dataclass(frozen=True)
class DailyFigures:
    names: tuple[str, ...]
    """The metrics, as stored in `dashboard_analytics.metric`."""
    compute: Callable[[AsyncSession, Period], Awaitable[dict[str, Values]]]
    """Each metric's figures straight from the raw tables, for the days of a period."""
    settles_after_days: int = 0
    """How long a day's figure keeps changing after the day closes (a signup day's funnel
    moves as those users go on to verify and pay); refreshes recompute that window."""


@dataclass(frozen=True)
class Coverage:
    first: date
    through: date

    def clip(self, period: Period) -> Period | None:
        return period.clip(self.first, self.through)


async def coverage(db: AsyncSession) -> Coverage | None:
    rows = dict(
        (
            await db.execute(
                sa.select(DashboardAnalytics.metric, DashboardAnalytics.day).where(
                    DashboardAnalytics.metric.in_([COVERAGE_FIRST, COVERAGE_THROUGH])
                )
            )
        ).all()
    )
    if COVERAGE_FIRST not in rows or COVERAGE_THROUGH not in rows:
        return None
    return Coverage(rows[COVERAGE_FIRST], rows[COVERAGE_THROUGH])


def uncovered(period: Period, covered: Period | None) -> list[Period]:
    """The parts of `period` outside `covered`: before it and after it."""
    if covered is None:
        return [period]
    before = period.clip(last=covered.first - timedelta(days=1))
    after = period.clip(first=covered.last + timedelta(days=1))
    return [part for part in (before, after) if part is not None]


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
    found = await stored(db, names, rolled, scope) if rolled else {name: {} for name in names}
    for part in uncovered(period, rolled):
        for group in figures:
            for name, values in (await group.compute(db, part)).items():
                found[name] |= values
    return found


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
