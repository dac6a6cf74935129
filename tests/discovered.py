"""The tables and screens tests walk over, found the way the app finds them, never listed by hand.

A table added as a model and a view shows up here by itself. Where a test needs something
for every table that only a person can write (demo rows), it fails naming what to add.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

import admin_views
from admin_views.base import StaffView
from models import Base

VIEWS = admin_views.discover_views()


def slug(view: type[StaffView]) -> str:
    """The screen's part of its URLs: `/admin/<slug>/list`."""
    return view.resource().replace("_", "-")


SLUGS = [slug(view) for view in VIEWS]


def add_demo_data(table: str) -> str:
    """The failure message for a table the demo leaves empty: where its rows are written."""
    return (
        f"The demo seeds no {table} rows: add a `Batch({table!r}, ...)` to `DemoData.batches` "
        "in demo_data/generate.py (hand-written content goes in demo_data/catalog.py)."
    )


async def tables_without_rows(db: AsyncConnection | AsyncSession) -> str:
    """One `add_demo_data` line per empty table of the models; empty when every table has rows."""
    return "\n".join(
        [
            add_demo_data(table.name)
            for table in Base.metadata.sorted_tables
            if not await db.scalar(sa.select(sa.func.count()).select_from(table))
        ]
    )
