"""Bulk writes on PostgreSQL: batches of rows go in with binary COPY through asyncpg.

The COPY runs on the connection, and so inside the transaction, of the SQLAlchemy connection
it is opened on. Each value is converted as SQLAlchemy converts it for an INSERT through
asyncpg (the column type's bind processor: money quantized, timestamps aware UTC, JSON as
text, enumerations as strings), and a column a row leaves out gets its Python-side default as
an INSERT would give it; a column with no such default is left to the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import FixedPoint, UtcDateTime

Row = Mapping[str, Any]


class CopyWriter:
    """Writes rows (dicts keyed by column) into tables with COPY, in the open transaction."""

    def __init__(self, driver_connection: Any, dialect: Dialect) -> None:
        self._driver = driver_connection
        self._dialect = dialect

    @classmethod
    async def open(cls, connection: AsyncConnection) -> CopyWriter:
        """A writer on `connection`'s asyncpg connection, which must be in a transaction."""
        if connection.dialect.driver != "asyncpg":
            raise ValueError(
                f"COPY needs PostgreSQL through asyncpg, not {connection.dialect.name}"
            )
        if not connection.in_transaction():
            raise RuntimeError("COPY runs inside the caller's transaction: begin one first")
        driver = (await connection.get_raw_connection()).driver_connection
        if not driver.is_in_transaction():
            # SQLAlchemy begins on the driver at the first statement; COPY must not be it.
            await connection.execute(sa.text("SELECT 1"))
        return cls(driver, connection.dialect)

    async def write(self, table: sa.Table, rows: Sequence[Row]) -> int:
        """Copy `rows` into `table`; return how many were written."""
        return await self.copy(self.prepare(table, rows))

    def prepare(self, table: sa.Table, rows: Sequence[Row]) -> Prepared:
        """Convert `rows` for COPY; touches no connection, so it may run in another thread."""
        if not rows:
            return Prepared(table, [], [])
        unknown = set(rows[0]) - set(table.columns.keys())
        if unknown:
            raise ValueError(f"{table.name} has no column {', '.join(sorted(unknown))}")
        given = [column for column in table.columns if column.key in rows[0]]
        # A column the rows leave out gets its Python-side default, as in an INSERT; one
        # without is left to the server: its own default, or NULL.
        defaulted = [
            column
            for column in table.columns
            if column.key not in rows[0] and column.default is not None
        ]
        # Row by row into tuples, then turned into columns: far quicker than reading each
        # column from every dict in turn.
        values = list(zip(*_tuples(given, rows), strict=True))
        values += [[_default(column) for _ in rows] for column in defaulted]
        columns = given + defaulted
        for n, column in enumerate(columns):
            process = column.type._cached_bind_processor(self._dialect)
            if process is not None:
                values[n] = _converted(column.type, process, values[n])
        names = [column.name for column in columns]
        return Prepared(table, names, list(zip(*values, strict=True)))

    async def copy(self, prepared: Prepared) -> int:
        """Copy rows converted by `prepare`; return how many were written."""
        if prepared.records:
            await self._driver.copy_records_to_table(
                prepared.table.name,
                schema_name=prepared.table.schema,
                columns=prepared.columns,
                records=prepared.records,
            )
        return len(prepared.records)


@dataclass(frozen=True)
class Prepared:
    """Rows for one table, as tuples in `columns` order, in the types asyncpg encodes."""

    table: sa.Table
    columns: list[str]
    records: list[tuple[Any, ...]]


def _tuples(columns: list[sa.Column[Any]], rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    keys = [column.key for column in columns]
    try:
        if len(keys) == 1:
            return [(row[keys[0]],) for row in rows]
        return list(map(itemgetter(*keys), rows))
    except KeyError:  # a row that leaves a column out gets its default, as an INSERT does
        return [tuple(row[c.key] if c.key in row else _default(c) for c in columns) for row in rows]


def _converted(kind: Any, process: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """`process` applied to each value, skipped where it would give back what it was given.

    Millions of values pass through here; most are already what the column takes.
    """
    if isinstance(kind, UtcDateTime):  # aware UTC stays as it is
        return [v if v is None or v.tzinfo is UTC else process(v) for v in values]
    if isinstance(kind, FixedPoint):  # on PostgreSQL a Decimal is only quantized
        quantum = Decimal(1).scaleb(-kind.scale)
        return [v.quantize(quantum) if type(v) is Decimal else process(v) for v in values]
    if isinstance(kind, sa.Enum):  # non-native: a plain string is stored as it is
        return [v if type(v) is str else process(v) for v in values]
    if isinstance(kind, sa.Boolean):
        return [v if type(v) is bool else process(v) for v in values]
    return list(map(process, values))


def _default(column: sa.Column[Any]) -> Any:
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg  # type: ignore[attr-defined]
    if default.is_callable:
        return default.arg(None)  # type: ignore[attr-defined]
    raise ValueError(f"{column} has a SQL default, which COPY cannot apply per row")
