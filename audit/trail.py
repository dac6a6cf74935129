"""Appending to the audit trail, inside the caller's transaction.

The row goes in with the change it records: if the change rolls back, so does its entry.
Appends are serialised so the hash chain stays a chain with concurrent writers: an
advisory lock on PostgreSQL, the database's single write lock on SQLite.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import GENESIS_HASH, row_hash
from core import locks
from core.jsonable import plain
from models.base import utcnow
from models.ops import AuditLog

ADVISORY_LOCK_KEY = 0x5357_4155_4449_54  # "SWAUDIT": one lock for the whole chain
MASK = "***"


@dataclass(frozen=True)
class Actor:
    """Who did it and from where; `id` is None for the system or an unknown email."""

    id: uuid.UUID | None = None
    email: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


SYSTEM = Actor(email="system")


@dataclass
class Entry:
    action: str
    entity_type: str
    entity_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


async def append(session: AsyncSession, actor: Actor, entry: Entry) -> AuditLog:
    """Add one entry to the chain in the session's transaction (the caller commits)."""
    await locks.hold(session, ADVISORY_LOCK_KEY, AuditLog.__table__)
    head = (
        await session.execute(
            sa.select(AuditLog.sequence, AuditLog.row_hash)
            .order_by(AuditLog.sequence.desc())
            .limit(1)
        )
    ).first()
    fields: dict[str, Any] = {
        "sequence": head.sequence + 1 if head else 1,
        "created_at": utcnow(),
        "actor_id": actor.id,
        "actor_email": actor.email,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "before": plain(entry.before),
        "after": plain(entry.after),
        "ip_address": actor.ip_address,
        "user_agent": (actor.user_agent or "")[:512] or None,
        "request_id": actor.request_id,
        "prev_hash": head.row_hash if head else GENESIS_HASH,
    }
    row = AuditLog(**fields, row_hash=row_hash(fields))
    session.add(row)
    await session.flush()
    return row
