"""Related rows on a detail page: a user's wallets, a merchant's recent transactions, ...

Declared on a view as `related = [Related(...)]`; each panel shows the newest rows, links
each to its own page and "see all" to the related list filtered on this row. A panel the
staff member may not view is not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from admin_views.shared.formatting import column_formatter
from admin_views.shared.labels import humanize
from auth.permissions import allows
from auth.sessions import Staff


@dataclass(frozen=True)
class Related:
    title: str
    foreign_key: InstrumentedAttribute[Any]
    """The related table's column pointing at this row, e.g. `Wallet.user_id`."""
    columns: tuple[InstrumentedAttribute[Any], ...]
    newest_first: InstrumentedAttribute[Any] | None = None
    limit: int = 10
    shown_as: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    """How a column's value reads, by column name, where its type does not say (an audit
    entry's stored action as "Adjust")."""

    @property
    def model(self) -> type[Any]:
        return self.foreign_key.class_

    @property
    def table(self) -> str:
        return self.model.__tablename__


@dataclass
class Panel:
    title: str
    headers: list[str]
    rows: list[tuple[str, list[Any]]]
    """(detail page URL, formatted cells) per row."""
    total: int
    see_all_url: str


def _cell(obj: Any, column: InstrumentedAttribute[Any], relation: Related) -> Any:
    if column.key in relation.shown_as:
        return relation.shown_as[column.key](getattr(obj, column.key))
    formatter = column_formatter(column.property.columns[0])
    return formatter(obj, column.key) if formatter else getattr(obj, column.key)


async def panels(
    db: AsyncSession, staff: Staff, relations: list[Related], pk: Any, base_url: str
) -> list[Panel]:
    found = []
    for relation in relations:
        if not allows(staff.permissions, relation.table, "view"):
            continue
        order = relation.newest_first or getattr(relation.model, "created_at", None)
        query = sa.select(relation.model).where(relation.foreign_key == pk)
        if order is not None:
            query = query.order_by(order.desc())
        rows = list(await db.scalars(query.limit(relation.limit)))
        # Fewer rows than the panel holds are all there are: no count to ask for.
        total = len(rows)
        if total == relation.limit:
            total = await db.scalar(
                sa.select(sa.func.count())
                .select_from(relation.model)
                .where(relation.foreign_key == pk)
            )
        slug = relation.table.replace("_", "-")
        found.append(
            Panel(
                title=relation.title,
                headers=[humanize(column.key) for column in relation.columns],
                rows=[
                    (
                        f"{base_url}/{slug}/details/{row.id}",
                        [_cell(row, c, relation) for c in relation.columns],
                    )
                    for row in rows
                ],
                total=int(total or 0),
                see_all_url=f"{base_url}/{slug}/list?{relation.foreign_key.key}={pk}",
            )
        )
    return found
