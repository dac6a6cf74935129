"""Writing `dashboard_analytics`: daily figures and cohort cells, up to the moment it runs.

A refresh recomputes, for each group of figures, the closed days after the last one it
covered plus the days whose figures still settle (the funnel of recent sign-ups), or
everything from `since`; and the open day so far, with the moment it stopped counting
(`as_of`), so readers add only what happened since (a distinct count, which they cannot
add to, takes all of the open day the refresh can see). Cohort cells are recomputed from the
week holding the previous `as_of`. Each recomputed range is replaced as a whole (delete,
then insert what is not zero), an upsert that also removes figures that fell to zero.

It runs in two steps: `compute` only reads, so it holds no lock while the queries run
(on SQLite a writer would stop every sign-in and edit meanwhile); `write` then takes the
refresh lock and replaces the ranges in one short transaction. Two refreshes at once
write the same figures one after the other, and the coverage markers only ever widen; a
plan computed before another refresh already stored a later moment keeps only its closed
days (a stale open day must not overwrite a newer one, nor a day that has since closed).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import cohorts
from analytics.funnel import STEPS
from analytics.money import MONEY
from analytics.period import Period, Span, Window, midnight
from analytics.rollups import (
    COVERAGE_FIRST,
    COVERAGE_THROUGH,
    OPEN_DAY_AS_OF,
    DailyFigures,
    coverage,
    instant_of,
    instant_value,
    markers,
)
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
    as_of: datetime
    """The moment the open day and the running week were counted up to."""
    replacements: list[Replacement] = field(default_factory=list)
    markers: dict[str, tuple[date, date]] = field(default_factory=dict)
    """Closed-day coverage to record: (first marker, last marker) → (first day, last day)."""
    moving: list[Replacement] = field(default_factory=list)
    """The open day's figures and the cohort cells, valid together with `as_of`."""
    first_week: date | None = None
    """The first activity week of the cohort cells in `moving`."""


@dataclass(frozen=True)
class Refreshed:
    days: Period | None
    """The closed days recomputed for at least one figure; None when all were current."""
    weeks: tuple[date, date] | None
    """The activity weeks whose cohort cells were recomputed (Mondays)."""
    rows: int
    """Rows written."""


async def refresh_database(
    database: Database, now: datetime | None = None, since: date | None = None
) -> Refreshed:
    """Compute in one transaction, write in another: what the CLI and the server run."""
    async with database.session() as db:
        plan = await compute(db, now or utcnow(), since)
    async with database.session() as db, db.begin():
        return await write(db, plan)


async def refresh(db: AsyncSession, now: datetime, since: date | None = None) -> Refreshed:
    """Both steps in the caller's session (the caller commits)."""
    return await write(db, await compute(db, now, since))


async def compute(db: AsyncSession, now: datetime, since: date | None = None) -> Plan:
    """What a refresh at `now` would write; reads only."""
    plan = Plan(as_of=now.astimezone(UTC).replace(microsecond=0))
    today = plan.as_of.date()
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
        plan.moving.append(await _daily(db, group, _open_day(group, today, plan.as_of)))
    if plan.replacements:
        plan.markers[COVERAGE_FIRST, COVERAGE_THROUGH] = (start, yesterday)
    await _cohort_cells(db, plan, since, cohorts.monday(oldest))
    return plan


async def write(db: AsyncSession, plan: Plan) -> Refreshed:
    """Replace the planned ranges under the refresh lock (the caller commits)."""
    await locks.hold(db, LOCK_KEY, DashboardAnalytics.__table__)
    found = await markers(db, OPEN_DAY_AS_OF, COVERAGE_FIRST, COVERAGE_THROUGH)
    stale = OPEN_DAY_AS_OF in found and instant_of(*found[OPEN_DAY_AS_OF]) > plan.as_of
    moving = [] if stale else plan.moving
    written = 0
    for replacement in [*plan.replacements, *moving]:
        await db.execute(
            sa.delete(DashboardAnalytics).where(
                DashboardAnalytics.metric.in_(replacement.metrics),
                DashboardAnalytics.day.between(replacement.first, replacement.last),
            )
        )
        written += await _insert(db, replacement.rows)
    if (COVERAGE_FIRST, COVERAGE_THROUGH) in plan.markers:
        first, last = plan.markers[COVERAGE_FIRST, COVERAGE_THROUGH]
        await _mark(db, COVERAGE_FIRST, min(first, found.get(COVERAGE_FIRST, (first,))[0]))
        await _mark(db, COVERAGE_THROUGH, max(last, found.get(COVERAGE_THROUGH, (last,))[0]))
    if not stale:
        await _mark(db, OPEN_DAY_AS_OF, *instant_value(plan.as_of))
        if plan.first_week:
            week = await markers(db, cohorts.WEEKS_FIRST)
            earliest = week.get(cohorts.WEEKS_FIRST, (plan.first_week,))[0]
            await _mark(db, cohorts.WEEKS_FIRST, min(earliest, plan.first_week))
            await _mark(db, cohorts.AS_OF, *instant_value(plan.as_of))
    weekly = [r for r in moving if r.metrics == (cohorts.ACTIVE_METRIC,)]
    return Refreshed(
        Period(min(r.first for r in plan.replacements), plan.replacements[0].last)
        if plan.replacements
        else None,
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


def _open_day(group: DailyFigures, today: date, as_of: datetime) -> Span:
    """What of the open day a refresh stores for a group. Figures that add up stop at
    `as_of`, since readers add what came from then on. A distinct count is not topped up,
    so it takes the whole day as far as it is known: stopping at `as_of` too would leave
    activity stamped from that moment on (within the second `as_of` is rounded down to, or
    by a clock ahead of the server's) out of the stored figure and out of the reader's."""
    return Window(midnight(today), as_of) if group.adds_up else Period(today, today)


def _chunks(period: Period) -> Iterator[Period]:
    first = period.first
    while first <= period.last:
        last = min(period.last, first + timedelta(days=CHUNK_DAYS - 1))
        yield Period(first, last)
        first = last + timedelta(days=1)


async def _daily(db: AsyncSession, group: DailyFigures, span: Span) -> Replacement:
    if isinstance(span, Window):
        replacement = Replacement(group.names, span.start.date(), span.start.date())
        parts: list[Span] = [span]
    else:
        replacement = Replacement(group.names, span.first, span.last)
        parts = list(_chunks(span))
    for part in parts:
        figures = await group.compute(db, part)
        replacement.rows.extend(
            (day, name, dimension, value)
            for name, values in figures.items()
            for (day, dimension), value in values.items()
            if value
        )
    return replacement


async def _cohort_cells(db: AsyncSession, plan: Plan, since: date | None, oldest: date) -> None:
    """Cells of every activity week from the one holding the previous `as_of` (or from
    `since`'s week) through the running one, counting postings made before `plan.as_of`."""
    last = cohorts.monday(plan.as_of.date())
    stored = await cohorts.stored_weeks(db)
    first = cohorts.monday(stored[1].date()) if stored else oldest
    if since:
        first = min(first, cohorts.monday(since))
    replacement = Replacement((cohorts.ACTIVE_METRIC,), first, last)
    all_cohorts = cohorts.weeks(oldest, last)
    activity = cohorts.weeks(first, last)
    per_query = CHUNK_DAYS // 7
    for start in range(0, len(activity), per_query):
        chunk = activity[start : start + per_query]
        until = min(plan.as_of, midnight(chunk[-1] + cohorts.WEEK))
        cells = await cohorts.count_cells(db, all_cohorts, midnight(chunk[0]), until)
        replacement.rows.extend(
            (active, cohorts.ACTIVE_METRIC, cohort.isoformat(), Decimal(n))
            for (cohort, active), n in cells.items()
            if n
        )
    plan.moving.append(replacement)
    plan.first_week = first


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


async def _mark(db: AsyncSession, marker: str, day: date, value: Decimal = Decimal(1)) -> None:
    await db.execute(sa.delete(DashboardAnalytics).where(DashboardAnalytics.metric == marker))
    await _insert(db, [(day, marker, "", value)])
