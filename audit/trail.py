"""Appending to the audit trail, inside the caller's transaction.

The row goes in with the change it records: if the change rolls back, so does its entry.
Appends are serialised so the hash chain stays a chain with concurrent writers: an
advisory lock on PostgreSQL, the database's single write lock on SQLite.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import GENESIS_HASH, row_hash
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


def plain(value: Any) -> Any:
    """A JSON value that reads back the same from either database."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal | uuid.UUID | Enum):
        return str(value.value if isinstance(value, Enum) else value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    return str(value)


async def _serialise_appends(session: AsyncSession) -> None:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
    else:
        # Any write takes SQLite's one write lock until commit; a no-op UPDATE takes it
        # before we read the chain's head, so no other writer can append in between.
        table = AuditLog.__table__
        await session.execute(sa.update(table).where(sa.false()).values(sequence=table.c.sequence))


async def append(session: AsyncSession, actor: Actor, entry: Entry) -> AuditLog:
    """Add one entry to the chain in the session's transaction (the caller commits)."""
    await _serialise_appends(session)
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
