"""Retention: weekly sign-up cohorts by weeks since sign-up.

A cohort is the users who signed up in one ISO week (Monday to Sunday, UTC). Its cell for
week k is the share of those users with at least one posted transaction in the k-th week
after the cohort's week (week 0 is the sign-up week itself). The triangle shows cohorts
whose week overlaps the period, and activity weeks up to the period's last week.

Rollups: a closed activity week (it ended before today) does not change any more, so
`analytics.refresh` stores its cells as `cohort.active` rows (day = the activity week's
Monday, dimension = the cohort's Monday); the week still running, and any week not stored,
are counted live. Cohort sizes come from the daily sign-up figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period, midnight
from analytics.ratios import ratio
from analytics.rollups import by_day, read
from analytics.sql import week_start
from analytics.users import SIGNUPS, SIGNUPS_METRIC
from models.ops import DashboardAnalytics
from models.payments import TransactionStatus, Wallet, WalletTransaction
from models.people import User

ACTIVE_METRIC = "cohort.active"
WEEKS_FIRST = "cohorts.first_week"
WEEKS_THROUGH = "cohorts.through_week"
"""Marker rows: cells are stored for every activity week from the first through the last."""
WEEK = timedelta(days=7)

Cells = dict[tuple[date, date], int]
"""(cohort Monday, activity Monday) → users of the cohort active that week."""


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(first: date, last: date) -> list[date]:
    """The Mondays of every week from `first`'s week through `last`'s."""
    start, stop = monday(first), monday(last)
    return [start + WEEK * n for n in range((stop - start).days // 7 + 1)] if start <= stop else []


def last_closed_week(today: date) -> date:
    """The Monday of the last week that ended before today."""
    return monday(today) - WEEK


async def count_cells(db: AsyncSession, cohorts: list[date], activity: list[date]) -> Cells:
    """Straight from the raw tables: users of each cohort active in each activity week."""
    if not cohorts or not activity:
        return {}
    cohort = week_start(User.created_at)
    active = week_start(WalletTransaction.posted_at)
    pairs = (
        sa.select(cohort.label("cohort"), active.label("active"), User.id)
        .join(Wallet, Wallet.user_id == User.id)
        .join(WalletTransaction, WalletTransaction.wallet_id == Wallet.id)
        .where(
            User.created_at >= midnight(cohorts[0]),
            User.created_at < midnight(cohorts[-1] + WEEK),
            WalletTransaction.status == TransactionStatus.POSTED,
            WalletTransaction.posted_at >= midnight(activity[0]),
            WalletTransaction.posted_at < midnight(activity[-1] + WEEK),
        )
        .distinct()
        .subquery()
    )
    rows = await db.execute(
        sa.select(pairs.c.cohort, pairs.c.active, sa.func.count()).group_by(
            pairs.c.cohort, pairs.c.active
        )
    )
    return {(c, a): n for c, a, n in rows if c <= a}


async def stored_weeks(db: AsyncSession) -> tuple[date, date] | None:
    rows = dict(
        (
            await db.execute(
                sa.select(DashboardAnalytics.metric, DashboardAnalytics.day).where(
                    DashboardAnalytics.metric.in_([WEEKS_FIRST, WEEKS_THROUGH])
                )
            )
        ).all()
    )
    if WEEKS_FIRST not in rows or WEEKS_THROUGH not in rows:
        return None
    return rows[WEEKS_FIRST], rows[WEEKS_THROUGH]


async def _stored_cells(db: AsyncSession, cohorts: list[date], activity: list[date]) -> Cells:
    rows = await db.execute(
        sa.select(
            DashboardAnalytics.dimension, DashboardAnalytics.day, DashboardAnalytics.value
        ).where(
            DashboardAnalytics.metric == ACTIVE_METRIC,
            DashboardAnalytics.day.between(activity[0], activity[-1]),
            DashboardAnalytics.dimension.between(cohorts[0].isoformat(), cohorts[-1].isoformat()),
        )
    )
    return {(date.fromisoformat(c), a): int(n) for c, a, n in rows}


@dataclass(frozen=True)
class CohortCell:
    week: int
    """Weeks since the sign-up week."""
    active: int
    share: Decimal | None
    """active / the cohort's users, 0 to 1 to four places; None for an empty cohort."""


@dataclass(frozen=True)
class Cohort:
    week: date
    """The Monday of the sign-up week."""
    users: int
    cells: list[CohortCell]


async def cohorts(db: AsyncSession, period: Period, *, live: bool = False) -> list[Cohort]:
    """The retention triangle for the cohorts whose week overlaps the period."""
    cohort_weeks = weeks(period.first, period.last)
    activity = cohort_weeks
    stored = None if live else await stored_weeks(db)
    kept = [week for week in activity if stored and stored[0] <= week <= stored[1]]
    rest = [week for week in activity if week not in kept]
    cells = await _stored_cells(db, cohort_weeks, kept) if kept else {}
    for run in _runs(rest):
        cells |= await count_cells(db, cohort_weeks, run)

    whole_weeks = Period(cohort_weeks[0], cohort_weeks[-1] + WEEK - timedelta(days=1))
    signups = by_day(
        (await read(db, [SIGNUPS], whole_weeks, live=live))[SIGNUPS_METRIC], whole_weeks
    )
    sizes: dict[date, int] = defaultdict(int)
    for day, count in signups.items():
        sizes[monday(day)] += int(count)

    triangle = []
    for week in cohort_weeks:
        users = sizes[week]
        row = []
        for offset, active_week in enumerate(w for w in activity if w >= week):
            active = cells.get((week, active_week), 0)
            row.append(CohortCell(offset, active, ratio(active, users)))
        triangle.append(Cohort(week, users, row))
    return triangle


def _runs(mondays: list[date]) -> list[list[date]]:
    """Consecutive weeks grouped, so each run is one range query."""
    runs: list[list[date]] = []
    for week in mondays:
        if runs and runs[-1][-1] + WEEK == week:
            runs[-1].append(week)
        else:
            runs.append([week])
    return runs
