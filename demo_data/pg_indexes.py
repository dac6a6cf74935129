"""Bulk loading on PostgreSQL: secondary indexes set aside during the load, rebuilt after.

Maintaining a dozen indexes row by row costs the server several times what the rows do;
building each once from the loaded table is much cheaper. Only plain (non-unique) indexes that
no constraint uses are set aside: primary keys and unique indexes stay, so every row is still
checked as it arrives. Definitions are read from the catalogue, so they come back exactly as
the migrations made them. All of it happens in the caller's transaction: if the load fails,
the rollback brings the indexes back untouched. Other sessions wait for these tables until
the transaction ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

PLAIN_INDEXES = sa.text(
    """
    SELECT index.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index AS i
    JOIN pg_class AS index ON index.oid = i.indexrelid
    JOIN pg_class AS tab ON tab.oid = i.indrelid
    WHERE tab.relnamespace = current_schema()::regnamespace
      AND tab.relname = ANY(:tables)
      AND NOT i.indisunique
      AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
    ORDER BY tab.relname, index.relname
    """
)


@asynccontextmanager
async def indexes_set_aside(
    connection: AsyncConnection, tables: Iterable[str]
) -> AsyncIterator[list[str]]:
    """Drop the plain indexes of `tables`, yield their names, then build them again."""
    found = (await connection.execute(PLAIN_INDEXES, {"tables": list(tables)})).all()
    quote = connection.dialect.identifier_preparer.quote
    for name, _definition in found:
        await connection.execute(sa.text(f"DROP INDEX {quote(name)}"))
    yield [name for name, _definition in found]
    for _name, definition in found:
        await connection.execute(sa.text(definition))
