"""Campaigns start and end on their schedule, once, audited as the scheduler."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from core.database import Database
from jobs import campaign_schedule
from models import AICampaign, AuditLog
from models.base import utcnow


async def add(database: Database, **values: object) -> object:
    async with database.session() as db, db.begin():
        campaign = AICampaign(
            channel="push", audience={}, budget=100, spend=0, currency="USD", **values
        )
        db.add(campaign)
    return campaign.id


async def test_due_campaigns_go_live_and_end(clean_database: Database) -> None:
    now = utcnow()
    starting = await add(
        clean_database, name="Starting", status="scheduled", starts_at=now - timedelta(minutes=1)
    )
    waiting = await add(
        clean_database, name="Waiting", status="scheduled", starts_at=now + timedelta(hours=1)
    )
    ending = await add(
        clean_database,
        name="Ending",
        status="active",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(seconds=5),
    )
    paused_ended = await add(
        clean_database,
        name="Paused",
        status="paused",
        starts_at=now - timedelta(days=3),
        ends_at=now - timedelta(hours=1),
    )

    async with clean_database.session() as db, db.begin():
        moves = await campaign_schedule.run_due(db, now)

    async with clean_database.session() as db:
        status = dict((await db.execute(sa.select(AICampaign.id, AICampaign.status))).all())
        entries = list(await db.scalars(sa.select(AuditLog).where(AuditLog.action == "schedule")))
    assert status == {
        starting: "active",
        waiting: "scheduled",
        ending: "completed",
        paused_ended: "completed",
    }
    assert {m.name for m in moves} == {"Starting", "Ending", "Paused"}
    assert len(entries) == 3
    assert {e.actor_email for e in entries} == {"campaign scheduler"}
    assert {e.before["status"] for e in entries} == {"scheduled", "active", "paused"}


async def test_workers_running_at_once_move_each_campaign_once(clean_database: Database) -> None:
    now = utcnow()
    for n in range(5):
        await add(
            clean_database,
            name=f"Due {n}",
            status="scheduled",
            starts_at=now - timedelta(minutes=n),
        )

    async def worker() -> int:
        async with clean_database.session() as db, db.begin():
            return len(await campaign_schedule.run_due(db, now))

    moved = await asyncio.gather(*(worker() for _ in range(4)))

    assert sum(moved) == 5
    async with clean_database.session() as db:
        assert (
            await db.scalar(
                sa.select(sa.func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "schedule")
            )
            == 5
        )


async def test_a_pass_with_nothing_due_changes_nothing(clean_database: Database) -> None:
    await add(clean_database, name="Draft", status="draft")

    async with clean_database.session() as db, db.begin():
        assert await campaign_schedule.run_due(db) == []
