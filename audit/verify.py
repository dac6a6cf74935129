"""Walk the audit trail and report the first broken link."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from models.ops import AuditLog

BATCH = 1_000


@dataclass(frozen=True)
class Report:
    entries: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


async def verify_chain(session: AsyncSession) -> Report:
    """Check sequence, links and hashes in order, streaming so memory stays flat."""
    expected, previous = 1, GENESIS_HASH
    rows = await session.stream(
        sa.select(AuditLog).order_by(AuditLog.sequence).execution_options(yield_per=BATCH)
    )
    async for entry in rows.scalars():
        if entry.sequence != expected:
            return Report(expected - 1, expected, f"entry #{expected} is missing")
        if entry.prev_hash != previous:
            return Report(
                expected - 1,
                expected,
                "it does not link to the entry before it "
                "(an entry was removed or the order changed)",
            )
        fields = {name: getattr(entry, name) for name in CHAINED_FIELDS}
        if row_hash(fields) != entry.row_hash:
            return Report(expected - 1, expected, "its contents do not match its hash (edited)")
        expected, previous = expected + 1, entry.row_hash
    return Report(expected - 1)
