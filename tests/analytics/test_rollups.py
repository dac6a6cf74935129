"""Rollups: a refresh stores what live queries compute, pages read it, refreshes are safe."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics import cohorts, funnel, money, users
from analytics.period import Period
from analytics.refresh import refresh, refresh_database
from analytics.rollups import COVERAGE_FIRST, COVERAGE_THROUGH, OPEN_DAY_AS_OF, Coverage, coverage
from core.database import Database
from core.settings import Settings
from jobs import analytics_refresh
from models.base import utcnow
from models.ops import DashboardAnalytics
from models.people import User
from tests.analytics import world
from tests.analytics.world import EMPTY, TWO_WEEKS, WEEK
from tests.test_cli import invoke

MARKERS = [COVERAGE_FIRST, COVERAGE_THROUGH, OPEN_DAY_AS_OF, cohorts.WEEKS_FIRST, cohorts.AS_OF]
NOW = datetime(2026, 11, 12, 6, 0, tzinfo=UTC)
"""Closed days run to 11 November, in the week of 9 November; the 12th is open."""
TODAY = NOW.date()
PERIODS = [
    WEEK,
    TWO_WEEKS,
    EMPTY,
    Period(date(2026, 10, 26), date(2026, 11, 12)),  # up to the open day
    Period(date(2026, 11, 8), date(2026, 11, 20)),  # past the stored days
    Period(date(2026, 10, 1), date(2026, 11, 1)),  # starts before the first stored day
]


async def everything(db: AsyncSession, period: Period, *, live: bool) -> list[Any]:
    return [
        await users.user_activity(db, period, live=live),
        await money.money_flow(db, period, "USD", live=live),
        await money.money_flow(db, period, "EUR", live=live),
        await funnel.funnel(db, period, live=live),
        await cohorts.cohorts(db, period, live=live),
    ]


async def stored_rows(db: AsyncSession) -> set[tuple[date, str, str, Decimal]]:
    """The stored figures, without the rows that mark which days are covered."""
    found = await db.execute(
        sa.select(
            DashboardAnalytics.day,
            DashboardAnalytics.metric,
            DashboardAnalytics.dimension,
            DashboardAnalytics.value,
        ).where(DashboardAnalytics.metric.not_in(MARKERS))
    )
    return {tuple(row) for row in found}  # type: ignore[misc]


async def test_rollups_give_the_live_figures(db: AsyncSession) -> None:
    await world.build(db)
    done = await refresh(db, NOW)
    await db.commit()
    # u0 signed up on 20 October: the first day anything happened.
    assert done.days == Period(date(2026, 10, 20), date(2026, 11, 11))
    # Cohort cells: every week from u0's through the running one (postings to 11 November).
    assert done.weeks == (date(2026, 10, 19), date(2026, 11, 9))
    for period in PERIODS:
        assert await everything(db, period, live=False) == await everything(
            db, period, live=True
        ), period


async def test_pages_read_the_stored_figures_for_closed_days(db: AsyncSession) -> None:
    built = await world.build(db)
    await refresh(db, NOW)
    # A posting that arrives late for a closed day stays out of the stored figures...
    await world.add_transaction(
        db, built, "late", "u1", "deposit", "1.00", "0.00", "2026-11-03T12:00:00+00:00"
    )
    await db.commit()
    stored = await money.money_flow(db, WEEK, "USD")
    live = await money.money_flow(db, WEEK, "USD", live=True)
    assert stored.total_volume == Decimal("222.50")
    assert live.total_volume == Decimal("223.50")
    # ...until a refresh from that day recomputes it.
    done = await refresh(db, NOW, since=date(2026, 11, 3))
    await db.commit()
    assert done.days == Period(date(2026, 11, 3), date(2026, 11, 11))
    assert (await money.money_flow(db, WEEK, "USD")).total_volume == Decimal("223.50")


async def test_the_open_day_adds_what_happened_since_the_refresh(db: AsyncSession) -> None:
    built = await world.build(db)
    for name, at in (
        ("early", "2026-11-12T05:00:00+00:00"),
        ("later", "2026-11-12T08:00:00+00:00"),
    ):
        if name == "later":
            await refresh(db, NOW)  # 06:00: the open day is stored with the 05:00 deposit
        await world.add_transaction(db, built, name, "u6", "deposit", "9.00", "0.00", at)
    await db.commit()
    today = Period(TODAY, TODAY)
    # Counts and sums: the stored part plus, live, what came after 06:00.
    flow = await money.money_flow(db, today, "USD")
    assert flow.total_volume == Decimal("18.00")
    assert flow == await money.money_flow(db, today, "USD", live=True)
    # A distinct count does not add up: it stays as of the refresh until the next one.
    assert (await users.user_activity(db, today)).active_users == {TODAY: 1}
    await refresh(db, NOW + timedelta(hours=3))
    assert (await users.user_activity(db, today)).active_users == {TODAY: 1}
    stored = await coverage(db)
    assert stored is not None
    assert stored.as_of == NOW + timedelta(hours=3)


async def test_refreshing_twice_changes_nothing(db: AsyncSession) -> None:
    await world.build(db)
    await refresh(db, NOW)
    await db.commit()
    first = await stored_rows(db)
    again = await refresh(db, NOW)
    await db.commit()
    assert again.weeks == (date(2026, 11, 9), date(2026, 11, 9))  # the running week again
    assert await stored_rows(db) == first
    await refresh(db, NOW, since=date(2026, 10, 1))
    await db.commit()
    assert await stored_rows(db) == first
    # The days before the first event are covered now too: zeros, which are not stored.
    assert (await coverage(db)) == Coverage(date(2026, 10, 1), date(2026, 11, 11), NOW)


async def test_concurrent_refreshes_take_turns(clean_database: Database) -> None:
    async with clean_database.session() as db:
        await world.build(db)

    async def one() -> None:
        async with clean_database.session() as db, db.begin():
            await refresh(db, NOW)

    await asyncio.gather(one(), one(), one())
    async with clean_database.session() as db:
        after_three = await stored_rows(db)
        await db.execute(sa.delete(DashboardAnalytics))
        await refresh(db, NOW)
        await db.commit()
        assert await stored_rows(db) == after_three
        for period in PERIODS:
            assert await everything(db, period, live=False) == await everything(
                db, period, live=True
            )


async def test_the_next_days_refresh_adds_only_the_new_day(db: AsyncSession) -> None:
    await world.build(db)
    await refresh(db, NOW)
    done = await refresh(db, NOW + timedelta(days=1))
    await db.commit()
    # Money and activity: just 12 November; the funnel's recent sign-up days settle again.
    assert done.days == Period(date(2026, 10, 20), date(2026, 11, 12))
    for period in PERIODS:
        assert await everything(db, period, live=False) == await everything(db, period, live=True)


async def test_a_recent_signup_day_settles_at_each_refresh(db: AsyncSession) -> None:
    built = await world.build(db)
    await refresh(db, NOW)
    await db.execute(
        sa.update(User).where(User.id == built.users["u2"]).values(kyc_status="verified")
    )
    await db.commit()
    assert (await funnel.funnel(db, WEEK))[1].users == 3  # stored: as of the refresh
    await refresh(db, NOW)
    await db.commit()
    # u2 verified and had deposited: funded now, but never purchased.
    steps = await funnel.funnel(db, WEEK)
    assert [step.users for step in steps] == [4, 4, 3, 2]
    assert steps == await funnel.funnel(db, WEEK, live=True)


async def test_refresh_of_an_empty_database_writes_no_figures(db: AsyncSession) -> None:
    done = await refresh(db, NOW)
    await db.commit()
    assert done.rows == 0
    assert await everything(db, WEEK, live=False) == await everything(db, WEEK, live=True)


async def test_refreshes_from_separate_connections_take_turns(clean_database: Database) -> None:
    async with clean_database.session() as db:
        await world.build(db)
    await asyncio.gather(*(refresh_database(clean_database, NOW) for _ in range(3)))
    async with clean_database.session() as db:
        for period in PERIODS:
            assert await everything(db, period, live=False) == await everything(
                db, period, live=True
            )


async def test_the_refresh_command(settings: Settings, clean_database: Database) -> None:
    async with clean_database.session() as db:
        await world.build(db)
    yesterday = utcnow().date() - timedelta(days=1)
    done = await invoke(settings, "analytics", "refresh")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"rollups refreshed: days 2026-10-20 to {yesterday}; cohorts")
    async with clean_database.session() as db:
        covered = await coverage(db)
        assert covered is not None
        assert (covered.first, covered.through) == (date(2026, 10, 20), yesterday)
        assert await everything(db, TWO_WEEKS, live=False) == await everything(
            db, TWO_WEEKS, live=True
        )
    again = await invoke(settings, "analytics", "refresh", "--since", "2026-11-01")
    assert again.exit_code == 0, again.output
    assert f"days 2026-11-01 to {yesterday}" in again.output


async def test_the_refresh_command_refuses_a_bad_date(
    settings: Settings, clean_database: Database
) -> None:
    refused = await invoke(settings, "analytics", "refresh", "--since", "2026-13-01")
    assert refused.exit_code == 2
    assert "'2026-13-01' does not match the format '%Y-%m-%d'" in refused.output
    async with clean_database.session() as db:
        assert await coverage(db) is None


async def test_the_running_weeks_cells_add_only_todays_newcomers(db: AsyncSession) -> None:
    built = await world.build(db)
    await refresh(db, NOW)
    # Today, 12 November: u6 posts for the first time this week; u1 posts again (t11 on
    # the 10th already counted them).
    for name, user in (("new", "u6"), ("again", "u1")):
        await world.add_transaction(
            db, built, name, user, "deposit", "2.00", "0.00", "2026-11-12T09:00:00+00:00"
        )
    await db.commit()
    triangle = await cohorts.cohorts(db, TWO_WEEKS)
    assert triangle == await cohorts.cohorts(db, TWO_WEEKS, live=True)
    assert [cell.active for cell in triangle[0].cells] == [3, 2]  # week 1: u1 and u6


async def test_the_servers_loop_brings_the_rollups_up_to_yesterday(
    clean_database: Database,
) -> None:
    async with clean_database.session() as db:
        await world.build(db)
    await analytics_refresh.run_once(clean_database)
    async with clean_database.session() as db:
        yesterday = utcnow().date() - timedelta(days=1)
        covered = await coverage(db)
        assert covered is not None
        assert covered.as_of is not None
        assert (covered.first, covered.through) == (date(2026, 10, 20), yesterday)
        assert utcnow() - covered.as_of < timedelta(minutes=1)
        assert await cohorts.stored_weeks(db) == (date(2026, 10, 19), covered.as_of)
