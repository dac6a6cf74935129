"""Campaigns run on their schedule: scheduled ones go live at their start, live ones end.

Every worker runs the loop; each pass takes a lock first (an advisory lock on PostgreSQL,
the write lock on SQLite) and changes a campaign only if it is still in the state it was
read in, so two workers never move one campaign twice. Each move is audited as the system.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from audit import trail
from audit.snapshot import changes, snapshot
from core import locks
from core.database import Database
from jobs import loop
from models.base import utcnow
from models.campaigns import AICampaign, CampaignStatus

log = logging.getLogger(__name__)
INTERVAL_S = 30.0
LOCK_KEY = 0x5357_4341_4D50  # "SWCAMP"
SCHEDULER = trail.Actor(email="campaign scheduler")


@dataclass(frozen=True)
class Move:
    campaign_id: str
    name: str
    before: str
    after: str


async def run_due(db: AsyncSession, now: datetime | None = None) -> list[Move]:
    """Start and end the campaigns whose time has come; the caller commits."""
    now = now or utcnow()
    if not await locks.hold(db, LOCK_KEY, AICampaign.__table__, wait=False):
        return []
    due = await db.scalars(
        sa.select(AICampaign)
        .where(
            sa.or_(
                sa.and_(AICampaign.status == CampaignStatus.SCHEDULED, AICampaign.starts_at <= now),
                sa.and_(
                    AICampaign.status.in_([CampaignStatus.ACTIVE, CampaignStatus.PAUSED]),
                    AICampaign.ends_at <= now,
                ),
            )
        )
        .order_by(AICampaign.starts_at)
    )
    moves = []
    for campaign in due:
        before = snapshot(campaign)
        if campaign.ends_at is not None and campaign.ends_at <= now:
            campaign.complete(now)
        else:
            campaign.launch(now)
        await db.flush()
        changed_before, changed_after = changes(before, snapshot(campaign))
        await trail.append(
            db,
            SCHEDULER,
            trail.Entry(
                "schedule", "ai_campaigns", str(campaign.id), changed_before, changed_after
            ),
        )
        moves.append(Move(str(campaign.id), campaign.name, before["status"], campaign.status))
    return moves


async def run_once(database: Database) -> None:
    async with database.session() as db, db.begin():
        for move in await run_due(db):
            log.info("campaign %s: %s -> %s", move.name, move.before, move.after)


async def run_forever(database: Database, interval_s: float = INTERVAL_S) -> None:
    """The server's loop (see `jobs.loop`)."""
    await loop.every(interval_s, lambda: run_once(database), "campaign schedule pass")
