"""One writer at a time for work that must not interleave, on either database.

PostgreSQL: a transaction-scoped advisory lock on a key. SQLite has one write lock for the
whole database; any write takes it until commit, so a no-op UPDATE of `table` takes it
before the work reads anything. Both locks end with the transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession


async def hold(db: AsyncSession, key: int, table: sa.Table, *, wait: bool = True) -> bool:
    """Take the lock for the rest of the transaction; without `wait`, False if it is taken."""
    connection = await db.connection()
    if connection.dialect.name == "postgresql":
        if wait:
            await db.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
            return True
        return bool(await db.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(key))))
    await take_sqlite_write_lock(db, table)
    return True


async def take_sqlite_write_lock(db: AsyncSession, table: sa.Table) -> None:
    """On SQLite, take the database's write lock now, before the work reads anything.

    A no-op UPDATE of `table` does it. On PostgreSQL this does nothing: row or advisory
    locks are finer and are taken by the caller.
    """
    connection = await db.connection()
    if connection.dialect.name != "sqlite":
        return
    column = next(iter(table.primary_key.columns))
    await db.execute(sa.update(table).where(sa.false()).values({column.name: column}))
