"""Retention: weekly sign-up cohorts by weeks since sign-up.

A cohort is the users who signed up in one ISO week (Monday to Sunday, UTC). Its cell for
week k is the share of those users with at least one posted transaction in the k-th week
after the cohort's week (week 0 is the sign-up week itself). The triangle shows cohorts
whose week overlaps the period, and activity weeks up to the period's last week.

Rollups: `analytics.refresh` stores cells as `cohort.active` rows (day = the activity
week's Monday, dimension = the cohort's Monday), counting postings made before the moment
it ran: whole weeks, and the running week so far. Reading adds, live, only the users whose
first posting of the week came after that moment, so a dashboard never rescans a week of
postings. Cohort sizes come from the daily sign-up figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from analytics.period import Period, midnight
from analytics.ratios import ratio
from analytics.rollups import by_day, instant_of, markers, read
from analytics.sql import week_start
from analytics.users import SIGNUPS, SIGNUPS_METRIC
from models.ops import DashboardAnalytics
from models.payments import TransactionStatus, Wallet, WalletTransaction
from models.people import User

ACTIVE_METRIC = "cohort.active"
WEEKS_FIRST = "cohorts.first_week"
AS_OF = "cohorts.as_of"
"""Marker rows: cells are stored for every activity week from the first one through the
week of `as_of`, counting postings made before `as_of` (day, seconds after its midnight)."""
WEEK = timedelta(days=7)

Cells = dict[tuple[date, date], int]
"""(cohort Monday, activity Monday) → users of the cohort active that week."""


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks(first: date, last: date) -> list[date]:
    """The Mondays of every week from `first`'s week through `last`'s."""
    start, stop = monday(first), monday(last)
    return [start + WEEK * n for n in range((stop - start).days // 7 + 1)] if start <= stop else []


def _cohort_users(cohorts: list[date]) -> list[sa.ColumnElement[bool]]:
    return [User.created_at >= midnight(cohorts[0]), User.created_at < midnight(cohorts[-1] + WEEK)]


def _posted(start: datetime, end: datetime) -> list[sa.ColumnElement[bool]]:
    return [
        WalletTransaction.status == TransactionStatus.POSTED,
        WalletTransaction.posted_at >= start,
        WalletTransaction.posted_at < end,
    ]


async def _count_pairs(db: AsyncSession, pairs: sa.Select[Any]) -> Cells:
    found = pairs.distinct().subquery()
    rows = await db.execute(
        sa.select(found.c.cohort, found.c.active, sa.func.count()).group_by(
            found.c.cohort, found.c.active
        )
    )
    return {(c, a): n for c, a, n in rows if c <= a}


async def count_cells(
    db: AsyncSession, cohorts: list[date], start: datetime, end: datetime
) -> Cells:
    """Straight from the raw tables: users of each cohort with a posting in each activity
    week, counting postings made from `start` until `end`."""
    if not cohorts or start >= end:
        return {}
    pairs = (
        sa.select(
            week_start(User.created_at).label("cohort"),
            week_start(WalletTransaction.posted_at).label("active"),
            User.id,
        )
        .join(Wallet, Wallet.user_id == User.id)
        .join(WalletTransaction, WalletTransaction.wallet_id == Wallet.id)
        .where(*_cohort_users(cohorts), *_posted(start, end))
    )
    return await _count_pairs(db, pairs)


async def newcomers(db: AsyncSession, cohorts: list[date], week: date, after: datetime) -> Cells:
    """Users of each cohort whose first posting in `week` was made at `after` or later."""
    end = midnight(week + WEEK)
    if not cohorts or after >= end:
        return {}
    earlier_wallet = aliased(Wallet)
    earlier = aliased(WalletTransaction)
    seen_before = sa.exists().where(
        earlier_wallet.user_id == User.id,
        earlier.wallet_id == earlier_wallet.id,
        earlier.status == TransactionStatus.POSTED,
        earlier.posted_at >= midnight(week),
        earlier.posted_at < after,
    )
    pairs = (
        sa.select(
            week_start(User.created_at).label("cohort"), sa.literal(week).label("active"), User.id
        )
        .join(Wallet, Wallet.user_id == User.id)
        .join(WalletTransaction, WalletTransaction.wallet_id == Wallet.id)
        .where(*_cohort_users(cohorts), *_posted(after, end), ~seen_before)
    )
    return await _count_pairs(db, pairs)


async def stored_weeks(db: AsyncSession) -> tuple[date, datetime] | None:
    """(the first activity week stored, the moment the stored counts stop), if any."""
    found = await markers(db, WEEKS_FIRST, AS_OF)
    if WEEKS_FIRST not in found or AS_OF not in found:
        return None
    return found[WEEKS_FIRST][0], instant_of(*found[AS_OF])


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
    kept = [week for week in activity if stored and stored[0] <= week <= stored[1].date()]
    cells = await _stored_cells(db, cohort_weeks, kept) if kept else {}
    if stored:
        for week in kept:
            for cell, n in (await newcomers(db, cohort_weeks, week, stored[1])).items():
                cells[cell] = cells.get(cell, 0) + n
    for run in _runs([week for week in activity if week not in kept]):
        cells |= await count_cells(db, cohort_weeks, midnight(run[0]), midnight(run[-1] + WEEK))

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
