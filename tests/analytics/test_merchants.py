"""Merchants: counts by status, the approval queue, and sign-ups per ISO week (Monday first).

Calendar: 2026-11-02, 11-09, 11-16 and 11-23 are Mondays; 11-08 is a Sunday.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.merchants import MerchantOverview, PendingMerchant, merchant_overview
from analytics.period import Period
from core.jsonable import plain
from tests import rows
from tests.staff import make_staff, signed_in

PATH = "/api/v1/admin/dashboard/merchants"
PLUS_TWO = timezone(timedelta(hours=2))
NO_STATUS = {"pending": 0, "active": 0, "suspended": 0, "rejected": 0}


def utc(month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


async def merchant(
    db: AsyncSession, name: str, created_at: datetime, status: str = "active", **extra: Any
) -> uuid.UUID:
    if status == "rejected":
        extra.setdefault("rejection_reason", "Incomplete documents.")
    if status != "active":
        extra.setdefault("approved_at", None)
    row = rows.merchant_row(
        name=name, status=status, created_at=created_at, updated_at=created_at, **extra
    )
    return (await rows.insert(db, "merchants", row))["id"]


async def test_counts_by_status_list_every_status(db: AsyncSession) -> None:
    await merchant(db, "Active One", utc(10, 1))
    await merchant(db, "Active Two", utc(10, 2), deactivated_at=utc(10, 20))
    await merchant(db, "Waiting", utc(10, 3), status="pending")
    await merchant(db, "Refused", utc(10, 4), status="rejected")
    await db.commit()

    overview = await merchant_overview(db, Period(date(2026, 11, 2), date(2026, 11, 8)))

    # No suspended merchant: listed with 0. Counts are as of now, whenever created.
    assert overview.by_status == {"pending": 1, "active": 2, "suspended": 0, "rejected": 1}
    assert list(overview.by_status) == ["pending", "active", "suspended", "rejected"]
    assert overview.pending == 1


async def test_the_queue_is_the_ten_oldest_pending_oldest_first(db: AsyncSession) -> None:
    # 12 pending merchants created on 2026-10-12, 10-01, 10-02, ... in a scrambled order;
    # an active merchant older than all of them is not in the queue.
    days = [12, 1, 7, 3, 11, 5, 9, 2, 10, 4, 8, 6]
    ids = {
        day: await merchant(db, f"Pending {day:02}", utc(10, day, 8), status="pending")
        for day in days
    }
    await merchant(db, "Old Active", utc(9, 1))
    await merchant(db, "Old Suspended", utc(9, 2), status="suspended")
    await db.commit()

    overview = await merchant_overview(db, Period(date(2026, 11, 2), date(2026, 11, 8)))

    assert overview.pending == 12
    assert overview.by_status == {"pending": 12, "active": 1, "suspended": 1, "rejected": 0}
    # Days 1 to 10, in order; 11 and 12 are past the first ten.
    assert overview.oldest_pending == [
        PendingMerchant(ids[day], f"Pending {day:02}", utc(10, day, 8)) for day in range(1, 11)
    ]


async def test_new_per_week_counts_the_periods_days_by_monday(db: AsyncSession) -> None:
    # Period Wednesday 2026-11-04 to Tuesday 2026-11-24: weeks of 11-02, 11-09, 11-16, 11-23.
    period = Period(date(2026, 11, 4), date(2026, 11, 24))
    created = [
        utc(11, 3, 23, 59, 59),  # week 11-02 but the day before the period: out
        utc(11, 4, 0),  # the first instant: week 11-02
        datetime(2026, 11, 5, 1, 0, tzinfo=PLUS_TWO),  # 11-04T23:00Z: week 11-02
        datetime(2026, 11, 9, 0, 30, tzinfo=PLUS_TWO),  # 11-08T22:30Z, a Sunday: week 11-02
        datetime(2026, 11, 16, 1, 0, tzinfo=PLUS_TWO),  # 11-15T23:00Z, a Sunday: week 11-09
        utc(11, 24, 23, 59, 59),  # the last second: week 11-23
        utc(11, 25, 0),  # week 11-23 but the day after the period: out
        utc(10, 15),  # long before: out
    ]
    for number, at in enumerate(created):
        await merchant(db, f"Shop {number}", at, status="pending" if number % 2 else "active")
    await db.commit()

    overview = await merchant_overview(db, period)

    # Week 11-16 has none in the period: 0.
    assert overview.new_per_week == {
        date(2026, 11, 2): 3,
        date(2026, 11, 9): 1,
        date(2026, 11, 16): 0,
        date(2026, 11, 23): 1,
    }


async def test_a_period_inside_one_week_has_one_monday(db: AsyncSession) -> None:
    # Thursday 11-05 only: 11-05T00:00Z in, 11-04T23:59:59Z and 11-06T00:00Z out.
    await merchant(db, "Before", utc(11, 4, 23, 59, 59))
    await merchant(db, "On", utc(11, 5, 0))
    await merchant(db, "After", utc(11, 6, 0))
    await db.commit()

    overview = await merchant_overview(db, Period(date(2026, 11, 5), date(2026, 11, 5)))

    assert overview.new_per_week == {date(2026, 11, 2): 1}


async def test_an_empty_database_gives_zeros(db: AsyncSession) -> None:
    overview = await merchant_overview(db, Period(date(2026, 11, 8), date(2026, 11, 9)))

    # Sunday 11-08 and Monday 11-09 are in two weeks.
    assert overview == MerchantOverview(
        by_status=NO_STATUS,
        pending=0,
        oldest_pending=[],
        new_per_week={date(2026, 11, 2): 0, date(2026, 11, 9): 0},
    )


# The JSON door ----------------------------------------------------------------------------


async def test_the_api_answers_the_same_figures(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    older = await merchant(db, "Older", utc(10, 20, 8, 15), status="pending")
    newer = await merchant(db, "Newer", datetime(2026, 11, 3, 1, 0, tzinfo=PLUS_TWO), "pending")
    await merchant(db, "Live", utc(11, 4))
    await merchant(db, "Stopped", utc(11, 10), status="suspended")
    await db.commit()
    await signed_in(client, await make_staff(db, "analyst"))

    response = await client.get(PATH, params={"from": "2026-11-03", "to": "2026-11-09"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    # In the period (11-03 to 11-09): Live (11-04, week 11-02). Newer is 11-02T23:00Z, the
    # day before; Stopped is after. Weeks: 11-02 and 11-09 (11-09 is a Monday, in the period).
    assert body == {
        "period": {"from": "2026-11-03", "to": "2026-11-09"},
        "currency": "USD",
        "by_status": {"pending": 2, "active": 1, "suspended": 1, "rejected": 0},
        "pending": 2,
        "oldest_pending": [
            {"id": str(older), "name": "Older", "created_at": "2026-10-20T08:15:00+00:00"},
            {"id": str(newer), "name": "Newer", "created_at": "2026-11-02T23:00:00+00:00"},
        ],
        "new_per_week": {"2026-11-02": 1, "2026-11-09": 0},
        "top_merchants": [],
    }
    period = Period(date(2026, 11, 3), date(2026, 11, 9))
    assert body == {
        "period": period.as_json(),
        "currency": "USD",
        **plain(await merchant_overview(db, period)),
        "top_merchants": [],
    }


async def test_the_api_answers_an_empty_range(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await signed_in(client, await make_staff(db, "analyst"))

    response = await client.get(PATH, params={"from": "2026-11-02", "to": "2026-11-02"})

    assert response.status_code == 200
    assert response.json() == {
        "period": {"from": "2026-11-02", "to": "2026-11-02"},
        "currency": "USD",
        "by_status": NO_STATUS,
        "pending": 0,
        "oldest_pending": [],
        "new_per_week": {"2026-11-02": 0},
        "top_merchants": [],
    }
