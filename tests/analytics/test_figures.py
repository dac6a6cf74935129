"""Users, money, funnel and cohort figures against the hand-worked world (see world.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import cohorts, funnel, money, users
from analytics.cohorts import Cohort, CohortCell
from analytics.funnel import FunnelStep
from analytics.period import Period
from tests.analytics import world
from tests.analytics.world import EMPTY, TWO_WEEKS, WEEK


def days(values: list[int | str]) -> dict[date, int | Decimal]:
    """A week's series from 2 November on; strings are money."""
    return {
        day: Decimal(value) if isinstance(value, str) else value
        for day, value in zip(WEEK.each_day(), values, strict=True)
    }


async def test_user_totals_count_every_user_by_status_and_kyc(db: AsyncSession) -> None:
    await world.build(db)
    totals = await users.user_totals(db)
    assert totals == users.UserTotals(total=7, active=5, suspended=1, deactivated=1, verified=6)
    assert totals.verification_rate == Decimal("0.8571")  # 6 / 7


async def test_no_users_have_no_verification_rate(db: AsyncSession) -> None:
    totals = await users.user_totals(db)
    assert totals == users.UserTotals(0, 0, 0, 0, 0)
    assert totals.verification_rate is None


async def test_signups_and_daily_active_users_by_utc_day(db: AsyncSession) -> None:
    await world.build(db)
    activity = await users.user_activity(db, WEEK, live=True)
    # u4 signed up in the last second before the week, u5 at the first instant after it;
    # u2 signed up at 23:30 on 1 November at UTC-1, which is 2 November in UTC.
    assert activity.signups == days([2, 1, 1, 0, 0, 0, 0])
    # 2nd: u1 (t1), u4 (t6). 3rd: u1 seen. 4th: u1 (t2 at 01:30 UTC), u6 (t9, t10 and seen:
    # once). 5th: u2 (t5). 6th: u1 (t4), u4 (t7). 7th: nobody. 8th: u4 seen at 23:59:59.
    assert activity.active_users == days([2, 1, 2, 1, 2, 0, 1])


async def test_day_boundaries_hold_whatever_the_session_time_zone(
    db: AsyncSession, backend: str
) -> None:
    await world.build(db)
    if backend == "postgresql":
        await db.execute(sa.text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))  # UTC+14
    activity = await users.user_activity(db, WEEK, live=True)
    assert activity.signups == days([2, 1, 1, 0, 0, 0, 0])
    assert activity.active_users == days([2, 1, 2, 1, 2, 0, 1])
    flow = await money.money_flow(db, WEEK, "USD", live=True)
    assert flow.transactions["purchase"] == days([0, 0, 2, 0, 0, 0, 0])


async def test_money_by_day_and_type_in_one_currency(db: AsyncSession) -> None:
    await world.build(db)
    flow = await money.money_flow(db, WEEK, "USD", live=True)
    assert flow.transactions["deposit"] == days([1, 0, 1, 1, 0, 0, 0])
    assert flow.transactions["purchase"] == days([0, 0, 2, 0, 0, 0, 0])  # t3 is pending
    assert flow.transactions["refund"] == days([0, 0, 0, 0, 1, 0, 0])
    assert flow.transactions["withdrawal"] == days([0] * 7)
    assert flow.volume["deposit"] == days(["100.00", "0", "20.00", "50.00", "0", "0", "0"])
    assert flow.volume["purchase"] == days(["0", "0", "47.50", "0", "0", "0", "0"])
    assert flow.volume["refund"] == days(["0", "0", "0", "0", "5.00", "0", "0"])
    assert flow.revenue == days(["0", "0", "1.19", "0", "0", "0", "0"])
    assert flow.total_transactions == 6
    assert flow.total_volume == Decimal("222.50")  # 100 + 40 + 20 + 7.50 + 50 + 5
    assert flow.total_revenue == Decimal("1.19")
    assert flow.average_ticket == Decimal("23.75")  # 47.50 / 2 purchases


async def test_other_currencies_are_never_added_in(db: AsyncSession) -> None:
    await world.build(db)
    flow = await money.money_flow(db, WEEK, "EUR", live=True)
    assert flow.total_transactions == 2
    assert flow.total_volume == Decimal("220.00")
    assert flow.revenue == days(["0", "0", "0", "0", "0.50", "0", "0"])
    assert flow.average_ticket == Decimal("20.00")


async def test_empty_range_is_zeros_and_no_average(db: AsyncSession) -> None:
    await world.build(db)
    flow = await money.money_flow(db, EMPTY, "USD", live=True)
    assert flow.total_transactions == 0
    assert flow.total_volume == Decimal(0)
    assert flow.average_ticket is None
    assert list(flow.revenue) == list(EMPTY.each_day())
    activity = await users.user_activity(db, EMPTY, live=True)
    assert set(activity.signups.values()) == {0}
    assert set(activity.active_users.values()) == {0}


async def test_top_merchants_by_purchase_volume(db: AsyncSession) -> None:
    built = await world.build(db)
    week = await money.top_merchants(db, WEEK, "USD")
    assert [(m.merchant_id, m.volume) for m in week] == [(built.merchant, Decimal("47.50"))]
    both = await money.top_merchants(db, TWO_WEEKS, "USD")
    assert both[0].volume == Decimal("50.50")  # t11 adds 3.00 on 10 November
    assert await money.top_merchants(db, EMPTY, "USD") == []


async def test_funnel_of_the_weeks_signups(db: AsyncSession) -> None:
    await world.build(db)
    # Signed up: u1, u2, u3, u6. Verified: u1, u3, u6 (u2 pending). Funded: u1, u6 (u3
    # has no wallet; u2 deposited but is not verified). Purchased: u1, u6.
    assert await funnel.funnel(db, WEEK, live=True) == [
        FunnelStep("signups", "Signed up", 4, None),
        FunnelStep("verified", "KYC verified", 3, Decimal("0.7500")),
        FunnelStep("funded", "Funded a wallet", 2, Decimal("0.6667")),
        FunnelStep("purchased", "First purchase", 2, Decimal("1.0000")),
    ]


async def test_funnel_of_nobody_has_no_conversions(db: AsyncSession) -> None:
    await world.build(db)
    steps = await funnel.funnel(db, EMPTY, live=True)
    assert [(step.users, step.conversion) for step in steps] == [(0, None)] * 4


async def test_retention_triangle(db: AsyncSession) -> None:
    await world.build(db)
    # Cohort of 2 November: u1, u2, u3, u6 (u4 signed up on Sunday 1 November, the week
    # before). Active that week: u1, u2, u6; the next week: u1 (t11). Cohort of 9
    # November: u5, active in its first week (t8).
    assert await cohorts.cohorts(db, TWO_WEEKS, live=True) == [
        Cohort(
            date(2026, 11, 2),
            4,
            [CohortCell(0, 3, Decimal("0.7500")), CohortCell(1, 1, Decimal("0.2500"))],
        ),
        Cohort(date(2026, 11, 9), 1, [CohortCell(0, 1, Decimal("1.0000"))]),
    ]


async def test_cohorts_are_whole_weeks_overlapping_the_range(db: AsyncSession) -> None:
    await world.build(db)
    midweek = Period(date(2026, 11, 4), date(2026, 11, 10))
    assert await cohorts.cohorts(db, midweek, live=True) == await cohorts.cohorts(
        db, TWO_WEEKS, live=True
    )


async def test_an_empty_cohort_has_no_shares(db: AsyncSession) -> None:
    await world.build(db)
    assert await cohorts.cohorts(db, EMPTY, live=True) == [
        Cohort(date(2026, 6, 1), 0, [CohortCell(0, 0, None)])
    ]
