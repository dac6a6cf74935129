"""Merchants: how many there are by status now, the approval queue, and sign-ups per week.

Definitions: counts are as of now, every status listed with 0 where there are none.
Pending approvals are merchants in the pending status, oldest first (the queue staff work
through). New per week counts merchants created in each ISO week (UTC, Monday first)
overlapping the period, restricted to the period's days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.cohorts import weeks
from analytics.period import Period
from analytics.sql import week_start
from models.merchants import Merchant, MerchantStatus

QUEUE_SHOWN = 10


@dataclass(frozen=True)
class PendingMerchant:
    id: uuid.UUID
    name: str
    created_at: datetime


@dataclass(frozen=True)
class MerchantOverview:
    by_status: dict[str, int]
    pending: int
    oldest_pending: list[PendingMerchant]
    """The first of the approval queue, oldest first."""
    new_per_week: dict[date, int]
    """Monday of each week → merchants created that week within the period."""


async def merchant_overview(db: AsyncSession, period: Period) -> MerchantOverview:
    found = dict(
        (
            await db.execute(sa.select(Merchant.status, sa.func.count()).group_by(Merchant.status))
        ).all()
    )
    by_status = {status.value: int(found.get(status, 0)) for status in MerchantStatus}
    queue = await db.execute(
        sa.select(Merchant.id, Merchant.name, Merchant.created_at)
        .where(Merchant.status == MerchantStatus.PENDING)
        .order_by(Merchant.created_at, Merchant.id)
        .limit(QUEUE_SHOWN)
    )
    week = week_start(Merchant.created_at)
    created = dict(
        (
            await db.execute(
                sa.select(week, sa.func.count())
                .where(Merchant.created_at >= period.start, Merchant.created_at < period.end)
                .group_by(week)
            )
        ).all()
    )
    return MerchantOverview(
        by_status=by_status,
        pending=by_status[MerchantStatus.PENDING],
        oldest_pending=[PendingMerchant(*row) for row in queue],
        new_per_week={week: int(created.get(week, 0)) for week in weeks(period.first, period.last)},
    )
