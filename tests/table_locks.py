"""A table held by another session, so that a request's query waits for as long as a test
needs: a slow request without a test-only route."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.database import Database

GIVE_UP_S = 10
"""A request still waiting this long means a timeout did not work: fail, do not hang."""


@asynccontextmanager
async def locked(database: Database, table: str) -> AsyncIterator[AsyncConnection]:
    """Until the block ends, no one else may read `table` (PostgreSQL) or write anywhere
    (SQLite, whose readers never wait in WAL mode)."""
    async with database.engine.connect() as blocker:
        if blocker.dialect.name == "postgresql":
            await blocker.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        else:
            await blocker.execute(sa.text("UPDATE roles SET description = description"))
        try:
            async with asyncio.timeout(GIVE_UP_S):
                yield blocker
        finally:
            await blocker.rollback()


async def until_a_query_waits_on(connection: AsyncConnection, table: str) -> None:
    """Until another session waits for a lock on `table` (PostgreSQL): the request is
    inside its query."""
    query = sa.text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = :table AND NOT l.granted"
    )
    deadline = time.monotonic() + GIVE_UP_S
    while not await connection.scalar(query, {"table": table}):
        assert time.monotonic() < deadline, f"no query came to wait on {table}"
        await asyncio.sleep(0.02)
