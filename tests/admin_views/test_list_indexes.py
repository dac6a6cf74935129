"""Every filter of a big table's list is served by an index, in the list's own order.

A related row or a date range needs an index led by its column, in the migrated database
(both backends). For filters on a few values the plans are PostgreSQL's: sequential and
bitmap scans are switched off for the question (and a full sort made dear), so the planner
shows the ordered index path it would take on a big table. Such a filter must be read from
an index on (column, created_at), with no sort of all the matches.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

import admin_views
from admin_views.base import StaffView
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, RelatedFilter, YesNoFilter
from core.database import Database
from tests.admin_views.screens import BIG_TABLES

FULL_SORT = re.compile(r"(?<!Incremental )Sort  \(cost")
"""A sort of every match; an incremental sort (ties on created_at, by id) is fine."""
BIG_VIEWS = [
    view for view in admin_views.discover_views() if view.model.__tablename__ in BIG_TABLES
]


def _cases(*kinds: type) -> list[Any]:
    return [
        pytest.param(view, filter_, id=f"{view.model.__tablename__}-{filter_.parameter_name}")
        for view in BIG_VIEWS
        for filter_ in view.column_filters
        if isinstance(filter_, kinds) and isinstance(filter_.column, sa.orm.InstrumentedAttribute)
    ]


def _asking(filter_: Any) -> Request:
    if isinstance(filter_, ChoiceFilter):
        query = {filter_.parameter_name: filter_.values[0]}
    elif isinstance(filter_, YesNoFilter):
        query = {filter_.parameter_name: "yes"}
    elif isinstance(filter_, RelatedFilter):
        query = {filter_.parameter_name: "00000000-0000-0000-0000-000000000001"}
    else:
        query = {filter_.parameter_name: "2026-01-01", f"{filter_.parameter_name}_to": "2026-01-31"}
    query_string = "&".join(f"{key}={value}" for key, value in query.items())
    return Request({"type": "http", "query_string": query_string.encode(), "headers": []})


@pytest.fixture
async def planner(backend: str, seeded_once: Database) -> AsyncIterator[AsyncSession]:
    if backend != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    async with seeded_once.session() as db:
        await db.execute(sa.text("SET LOCAL enable_seqscan = off"))
        await db.execute(sa.text("SET LOCAL enable_bitmapscan = off"))
        await db.execute(sa.text("SET LOCAL enable_sort = off"))
        yield db
        await db.rollback()


async def page_plan(db: AsyncSession, view: type[StaffView], filter_: Any) -> str:
    request = _asking(filter_)
    stmt = view().filtered_query(request).limit(25)
    connection = await db.connection()
    sql = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    return "\n".join((await connection.exec_driver_sql(f"EXPLAIN {sql}")).scalars())


@pytest.mark.parametrize(("view", "filter_"), _cases(ChoiceFilter, YesNoFilter))
async def test_a_filter_on_a_few_values_reads_its_page_in_order_from_an_index(
    planner: AsyncSession, view: type[StaffView], filter_: Any
) -> None:
    table, column = view.model.__tablename__, filter_.column.key

    shown = await page_plan(planner, view, filter_)

    assert f"using ix_{table}_{column}_created_at on {table}" in shown, shown
    assert not FULL_SORT.search(shown), shown


def _leading_columns(connection: sa.Connection, table: str) -> set[str]:
    inspector = sa.inspect(connection)
    found = inspector.get_indexes(table) + inspector.get_unique_constraints(table)
    return {entry["column_names"][0] for entry in found if entry["column_names"]}


@pytest.mark.parametrize(("view", "filter_"), _cases(RelatedFilter, DateRangeFilter))
async def test_a_related_row_or_a_date_range_has_an_index_led_by_its_column(
    reader_db: AsyncSession, view: type[StaffView], filter_: Any
) -> None:
    table, column = view.model.__tablename__, filter_.column.property.columns[0].name
    connection = await reader_db.connection()

    leading = await connection.run_sync(_leading_columns, table)

    assert column in leading
