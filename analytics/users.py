"""Customers: how many there are by status and KYC, sign-ups and daily active users.

Definitions: a user is *verified* when their KYC status is verified; the verification rate
is verified / total. A user is *active on a day* when they have a posted transaction that
day or their app reported activity (`last_active_at`) that day. Days are UTC days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period, Span
from analytics.ratios import ratio
from analytics.rollups import DailyFigures, Values, by_day, read
from analytics.sql import utc_day
from models.payments import TransactionStatus, Wallet, WalletTransaction
from models.people import KycStatus, User, UserStatus


@dataclass(frozen=True)
class UserTotals:
    total: int
    active: int
    suspended: int
    deactivated: int
    verified: int

    @property
    def verification_rate(self) -> Decimal | None:
        """Share of all users whose KYC is verified, 0 to 1 to four places; None with no users."""
        return ratio(self.verified, self.total)


async def user_totals(db: AsyncSession) -> UserTotals:
    """Every user as of now, by status and KYC."""

    def having(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    row = (
        await db.execute(
            sa.select(
                sa.func.count(),
                having(User.status == UserStatus.ACTIVE),
                having(User.status == UserStatus.SUSPENDED),
                having(User.status == UserStatus.DEACTIVATED),
                having(User.kyc_status == KycStatus.VERIFIED),
            ).select_from(User)
        )
    ).one()
    return UserTotals(*(int(value) for value in row))


async def _signups(db: AsyncSession, period: Span) -> dict[str, Values]:
    day = utc_day(User.created_at)
    rows = await db.execute(
        sa.select(day, sa.func.count())
        .where(User.created_at >= period.start, User.created_at < period.end)
        .group_by(day)
    )
    return {SIGNUPS_METRIC: {(d, ""): Decimal(n) for d, n in rows}}


async def _active_users(db: AsyncSession, period: Span) -> dict[str, Values]:
    paid = (
        sa.select(utc_day(WalletTransaction.posted_at).label("day"), Wallet.user_id.label("user"))
        .join(Wallet, Wallet.id == WalletTransaction.wallet_id)
        .where(
            WalletTransaction.status == TransactionStatus.POSTED,
            WalletTransaction.posted_at >= period.start,
            WalletTransaction.posted_at < period.end,
        )
    )
    seen = sa.select(utc_day(User.last_active_at), User.id).where(
        User.last_active_at >= period.start, User.last_active_at < period.end
    )
    either = sa.union(paid, seen).subquery()  # UNION: a user counts once a day
    rows = await db.execute(sa.select(either.c.day, sa.func.count()).group_by(either.c.day))
    return {ACTIVE_METRIC: {(d, ""): Decimal(n) for d, n in rows}}


SIGNUPS_METRIC = "users.signups"
ACTIVE_METRIC = "users.active"
SIGNUPS = DailyFigures((SIGNUPS_METRIC,), _signups)
ACTIVE_USERS = DailyFigures((ACTIVE_METRIC,), _active_users, adds_up=False)


@dataclass(frozen=True)
class UserActivity:
    signups: dict[date, int]
    active_users: dict[date, int]


async def user_activity(db: AsyncSession, period: Period, *, live: bool = False) -> UserActivity:
    """Sign-ups and daily active users for every day of the period."""
    found = await read(db, [SIGNUPS, ACTIVE_USERS], period, live=live)
    return UserActivity(
        signups={d: int(v) for d, v in by_day(found[SIGNUPS_METRIC], period).items()},
        active_users={d: int(v) for d, v in by_day(found[ACTIVE_METRIC], period).items()},
    )
