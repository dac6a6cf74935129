"""Writing `dashboard_analytics`: every daily figure for closed days, cohort cells for closed weeks.

A refresh recomputes, for each group of figures, the days after the last one it covered
plus the days whose figures still settle (the funnel of recent sign-ups), or everything
from `since`. The recomputed range is replaced as a whole (delete, then insert what is
not zero), which is an upsert that also removes figures that fell to zero.

It runs in two steps: `compute` only reads, so it holds no lock while the queries run
(on SQLite a writer would stop every sign-in and edit meanwhile); `write` then takes the
refresh lock and replaces the ranges in one short transaction. Two refreshes at once
write the same figures one after the other, and the coverage markers only ever widen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import cohorts
from analytics.funnel import STEPS
from analytics.money import MONEY
from analytics.period import Period
from analytics.rollups import COVERAGE_FIRST, COVERAGE_THROUGH, DailyFigures, coverage
from analytics.users import ACTIVE_USERS, SIGNUPS
from core import locks
from core.database import Database
from models.base import utcnow
from models.ops import DashboardAnalytics
from models.payments import WalletTransaction
from models.people import User

FIGURES = (SIGNUPS, ACTIVE_USERS, MONEY, STEPS)
"""Everything the dashboard reads by day; a new daily figure is added here."""
LOCK_KEY = 0x5357_5255_4C4C  # "SWRULL"
CHUNK_DAYS = 92
"""Days computed per query: bounded work per statement, however long the history."""
INSERT_CHUNK = 1_000

Figure = tuple[date, str, str, Decimal]
"""(day, metric, dimension, value) as stored."""


@dataclass
class Replacement:
    """Rows to put in place of the stored rows of some metrics over some days."""

    metrics: tuple[str, ...]
    first: date
    last: date
    rows: list[Figure] = field(default_factory=list)


@dataclass
class Plan:
    replacements: list[Replacement] = field(default_factory=list)
    markers: dict[str, tuple[date, date]] = field(default_factory=dict)
    """Coverage to record: (first marker, last marker) → (first day, last day)."""


@dataclass(frozen=True)
class Refreshed:
    days: Period | None
    """The closed days recomputed for at least one figure; None when all were current."""
    weeks: tuple[date, date] | None
    """The activity weeks whose cohort cells were recomputed (Mondays)."""
    rows: int
    """Rows written."""


async def refresh_database(
    database: Database, today: date | None = None, since: date | None = None
) -> Refreshed:
    """Compute in one transaction, write in another: what the CLI and the server run."""
    today = today or utcnow().date()
    async with database.session() as db:
        plan = await compute(db, today, since)
    async with database.session() as db, db.begin():
        return await write(db, plan)


async def refresh(db: AsyncSession, today: date, since: date | None = None) -> Refreshed:
    """Both steps in the caller's session (the caller commits)."""
    return await write(db, await compute(db, today, since))


async def compute(db: AsyncSession, today: date, since: date | None = None) -> Plan:
    """What a refresh up to yesterday would write; reads only."""
    plan = Plan()
    yesterday = today - timedelta(days=1)
    covered = await coverage(db)
    oldest = await _first_day(db, today)
    start = since or (covered.through + timedelta(days=1) if covered else oldest)
    if covered:
        start = min(start, covered.through + timedelta(days=1))
    for group in FIGURES:
        first = start
        if covered and not since:
            settling = yesterday - timedelta(days=group.settles_after_days - 1)
            first = max(covered.first, min(first, settling))
        if first <= yesterday:
            plan.replacements.append(await _daily(db, group, Period(first, yesterday)))
    if plan.replacements:
        plan.markers[COVERAGE_FIRST, COVERAGE_THROUGH] = (start, yesterday)
    await _cohort_cells(db, plan, today, since, cohorts.monday(oldest))
    return plan


async def write(db: AsyncSession, plan: Plan) -> Refreshed:
    """Replace the planned ranges under the refresh lock (the caller commits)."""
    await locks.hold(db, LOCK_KEY, DashboardAnalytics.__table__)
    written = 0
    for replacement in plan.replacements:
        await db.execute(
            sa.delete(DashboardAnalytics).where(
                DashboardAnalytics.metric.in_(replacement.metrics),
                DashboardAnalytics.day.between(replacement.first, replacement.last),
            )
        )
        written += await _insert(db, replacement.rows)
    for (first_marker, last_marker), (first, last) in plan.markers.items():
        found = dict(
            (
                await db.execute(
                    sa.select(DashboardAnalytics.metric, DashboardAnalytics.day).where(
                        DashboardAnalytics.metric.in_([first_marker, last_marker])
                    )
                )
            ).all()
        )
        await _mark(db, first_marker, min(first, found.get(first_marker, first)))
        await _mark(db, last_marker, max(last, found.get(last_marker, last)))
    daily = [r for r in plan.replacements if r.metrics != (cohorts.ACTIVE_METRIC,)]
    weekly = [r for r in plan.replacements if r.metrics == (cohorts.ACTIVE_METRIC,)]
    return Refreshed(
        Period(min(r.first for r in daily), daily[0].last) if daily else None,
        (weekly[0].first, weekly[0].last) if weekly else None,
        written,
    )


async def _first_day(db: AsyncSession, today: date) -> date:
    """The day of the oldest sign-up or posting; today when there is no data."""
    oldest = [
        await db.scalar(sa.select(sa.func.min(User.created_at))),
        await db.scalar(sa.select(sa.func.min(WalletTransaction.posted_at))),
    ]
    found = [moment.date() for moment in oldest if moment is not None]
    return min(found) if found else today


def _chunks(period: Period) -> Iterator[Period]:
    first = period.first
    while first <= period.last:
        last = min(period.last, first + timedelta(days=CHUNK_DAYS - 1))
        yield Period(first, last)
        first = last + timedelta(days=1)


async def _daily(db: AsyncSession, group: DailyFigures, period: Period) -> Replacement:
    replacement = Replacement(group.names, period.first, period.last)
    for part in _chunks(period):
        figures = await group.compute(db, part)
        replacement.rows.extend(
            (day, name, dimension, value)
            for name, values in figures.items()
            for (day, dimension), value in values.items()
            if value
        )
    return replacement


async def _cohort_cells(
    db: AsyncSession, plan: Plan, today: date, since: date | None, oldest: date
) -> None:
    """Cells of every activity week from the one holding the first day not counted yet (or
    from `since`'s week) through the running one, counting postings up to yesterday."""
    yesterday = today - timedelta(days=1)
    last = cohorts.monday(yesterday)
    stored = await cohorts.stored_weeks(db)
    first = cohorts.monday(stored[1] + timedelta(days=1)) if stored else oldest
    if since:
        first = min(first, cohorts.monday(since))
    if first > last:
        return
    replacement = Replacement((cohorts.ACTIVE_METRIC,), first, last)
    all_cohorts = cohorts.weeks(oldest, last)
    activity = cohorts.weeks(first, last)
    per_query = CHUNK_DAYS // 7
    for start in range(0, len(activity), per_query):
        chunk = activity[start : start + per_query]
        until = min(yesterday, chunk[-1] + cohorts.WEEK - timedelta(days=1))
        cells = await cohorts.count_cells(db, all_cohorts, chunk[0], until)
        replacement.rows.extend(
            (active, cohorts.ACTIVE_METRIC, cohort.isoformat(), Decimal(n))
            for (cohort, active), n in cells.items()
            if n
        )
    plan.replacements.append(replacement)
    plan.markers[cohorts.WEEKS_FIRST, cohorts.DAYS_THROUGH] = (first, yesterday)


async def _insert(db: AsyncSession, figures: list[Figure]) -> int:
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "day": day,
            "metric": metric,
            "dimension": dimension,
            "value": value,
            "created_at": now,
            "updated_at": now,
        }
        for day, metric, dimension, value in figures
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        await db.execute(sa.insert(DashboardAnalytics), rows[start : start + INSERT_CHUNK])
    return len(rows)


async def _mark(db: AsyncSession, marker: str, day: date) -> None:
    await db.execute(sa.delete(DashboardAnalytics).where(DashboardAnalytics.metric == marker))
    await _insert(db, [(day, marker, "", Decimal(1))])
