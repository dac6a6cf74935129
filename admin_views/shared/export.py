"""Streaming CSV and JSON exports of exactly what the list shows: search, filters, sort.

Rows are read from the database in batches and written out as they come, so memory stays
flat however many rows there are. Secret columns are left out, values a row marks secret
are masked, personal data is masked for staff who may not see it, and CSV cells that a
spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audit.snapshot import masked_fields
from audit.trail import MASK
from core.jsonable import plain
from core.personal_data import shown_in

BATCH = 1_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""OWASP's list: a text cell starting with one of these is a formula to Excel and friends."""


def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would evaluate; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_value(value: Any) -> Any:
    """One CSV cell: numbers as numbers, lists and documents as JSON, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return value
    if isinstance(value, list | dict):
        return neutralise(json.dumps(plain(value), ensure_ascii=False))
    return neutralise(str(value))


def cells(obj: Any, columns: list[str], relationships: frozenset[str]) -> list[Any]:
    """A row's exported values, in `columns` order; what it keeps secret masked, and
    personal data as the staff member may see it."""
    hidden = masked_fields(obj)  # once a row: it walks the model's columns
    return [
        MASK if name in hidden else shown_in(obj, name, cell(obj, name, relationships))
        for name in columns
    ]


def cell(obj: Any, name: str, relationships: frozenset[str]) -> Any:
    """A column, a related row's label, or a path through related rows (`wallet.user.email`)."""
    if "." in name:
        for step in name.split("."):
            obj = getattr(obj, step) if obj is not None else None
        return obj
    value = getattr(obj, name)
    if name in relationships:
        return str(value) if value is not None else None
    return value


async def _rows(
    sessions: async_sessionmaker[AsyncSession], statement: sa.Select
) -> AsyncIterator[Any]:
    async with sessions() as db:
        result = await db.stream(statement.execution_options(yield_per=BATCH))
        # A batch at a time: each step of an async result crosses into SQLAlchemy's
        # greenlet, which per row cost more than writing the row.
        async for batch in result.scalars().partitions(BATCH):
            for obj in batch:
                yield obj


async def csv_stream(
    sessions: async_sessionmaker[AsyncSession],
    statement: sa.Select,
    columns: list[str],
    labels: Callable[[str], str],
    relationships: frozenset[str],
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([labels(name) for name in columns])
    count = 0
    async for obj in _rows(sessions, statement):
        writer.writerow([csv_value(value) for value in cells(obj, columns, relationships)])
        count += 1
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def json_stream(
    sessions: async_sessionmaker[AsyncSession],
    statement: sa.Select,
    columns: list[str],
    relationships: frozenset[str],
) -> AsyncIterator[str]:
    yield "["
    first = True
    async for obj in _rows(sessions, statement):
        values = cells(obj, columns, relationships)
        record = {name: plain(value) for name, value in zip(columns, values, strict=True)}
        yield ("" if first else ",") + json.dumps(record, ensure_ascii=False)
        first = False
    yield "]"
