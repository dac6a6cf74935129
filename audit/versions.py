"""A row as it was right after one of its audit entries, read back from the trail.

Each entry of a change keeps the changed fields' values before and after it. Starting from
the row as it is now and taking back every later entry of the same row (each field to its
value before that entry) gives the row as that entry left it: the trail stays the one
source of a row's versions, and nothing is stored twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.jsonable import plain
from models.ops import AuditLog


async def as_left_by(
    db: AsyncSession, row: Any, table: str, sequence: int, fields: Iterable[str]
) -> tuple[AuditLog, dict[str, Any]] | None:
    """(the entry numbered `sequence`, `row`'s `fields` as that entry left them, typed as
    the columns hold them); None when that entry is not one of `row`'s (in `table`)."""
    entries = list(
        await db.scalars(
            sa.select(AuditLog)
            .where(
                AuditLog.entity_type == table,
                AuditLog.entity_id == str(row.id),
                AuditLog.sequence >= sequence,
            )
            .order_by(AuditLog.sequence.desc())
        )
    )
    if not entries or entries[-1].sequence != sequence:
        return None
    values = {name: plain(getattr(row, name)) for name in fields}
    for entry in entries[:-1]:
        for name, was in (entry.before or {}).items():
            if name in values:
                values[name] = was
    return entries[-1], {name: typed(type(row), name, value) for name, value in values.items()}


async def previous(db: AsyncSession, row: Any, table: str) -> int | None:
    """The number of `row`'s change before its newest: the version before the current one."""
    return await db.scalar(
        sa.select(AuditLog.sequence)
        .where(AuditLog.entity_type == table, AuditLog.entity_id == str(row.id))
        .order_by(AuditLog.sequence.desc())
        .offset(1)
        .limit(1)
    )


def typed(model: type[Any], name: str, value: Any) -> Any:
    """A value as the trail keeps it (plain JSON: exact numbers and moments as text) read
    back as `model`'s column `name` holds it."""
    if value is None:
        return None
    try:
        kind = sa.inspect(model).columns[name].type.python_type
    except (KeyError, NotImplementedError):
        return value
    if kind is Decimal:
        return Decimal(str(value))
    if kind is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
