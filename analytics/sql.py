"""SQL that PostgreSQL and SQLite spell differently, written once.

Timestamps are bucketed by their UTC day on both databases. PostgreSQL stores
`timestamptz`; SQLite stores naive UTC text (see `models.base.UtcDateTime`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[Any]):  # noqa: N801 - reads as the SQL function it is
    """The UTC calendar day of a timestamp, as a DATE."""

    type = sa.Date()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"CAST(timezone('UTC', {compiler.process(column, **kw)}) AS DATE)"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"date({compiler.process(column, **kw)})"


class week_start(FunctionElement[Any]):  # noqa: N801
    """The Monday of a timestamp's or a date's UTC week (ISO weeks), as a DATE."""

    type = sa.Date()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    day = compiler.process(column, **kw)
    if not isinstance(column.type, sa.Date):  # a timestamp: take its UTC day first
        day = f"CAST(timezone('UTC', {day}) AS DATE)"
    # Through a plain TIMESTAMP: a DATE would become a timestamptz in the session's zone.
    return f"CAST(date_trunc('week', CAST({day} AS TIMESTAMP)) AS DATE)"


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    # 'weekday 0' moves forward to the next Sunday (or stays on one); six days back is Monday.
    return f"date({compiler.process(column, **kw)}, 'weekday 0', '-6 days')"


class seconds_between(FunctionElement[Any]):  # noqa: N801
    """Seconds from the second timestamp to the first, as a number."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
