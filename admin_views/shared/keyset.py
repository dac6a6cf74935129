"""Next and previous pages by key, so the thousandth page costs what the first does.

`OFFSET n` makes the database walk past n rows, so deep pages get slower the deeper they
go. A list sorted by columns of its own table, all in one direction, with the primary key
last (which makes the order total), can instead ask for the rows after the last one shown:
`WHERE (created_at, id) < (:last_created_at, :last_id)`, which an index answers directly.
The list's Next and Previous links carry such a cursor; numbered links still use the
offset, and any list whose sort does not qualify pages by offset as before.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqladmin.pagination import Pagination
from starlette.datastructures import URL
from starlette.exceptions import HTTPException

AFTER, BEFORE = "after", "before"
"""The query parameters: rows after the cursor (Next), rows before it (Previous)."""


@dataclass(frozen=True)
class Order:
    """A list's sort, when paging by key can follow it."""

    columns: tuple[sa.Column[Any], ...]
    descending: bool

    def values(self, row: Any) -> list[Any]:
        return [getattr(row, column.key) for column in self.columns]


def order_for(model: type[Any], sort: Sequence[tuple[str, bool]]) -> Order | None:
    """The key order for `sort` (names on `model`, descending or not) plus the primary key;
    None when it cannot be paged by key (a related or nullable column, mixed directions)."""
    table = sa.inspect(model).local_table
    keys = list(table.primary_key.columns)
    if not sort or len(keys) != 1 or len({descending for _, descending in sort}) != 1:
        return None
    if any(name not in table.columns for name, _ in sort):
        return None
    columns = [table.columns[name] for name, _ in sort]
    if any(column.nullable for column in columns):  # NULLs never compare: rows would vanish
        return None
    if keys[0] not in columns:
        columns.append(keys[0])
    return Order(tuple(columns), sort[0][1])


_TYPES: dict[str, Any] = {
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "UUID": uuid.UUID,
    "Decimal": Decimal,
    "int": int,
    "float": float,
    "bool": lambda text: text == "True",
    "str": str,
}
"""How each kind of sort value is written into a cursor and read back."""


def encode(values: list[Any]) -> str:
    pairs = [[type(v).__name__, v.isoformat() if isinstance(v, date) else str(v)] for v in values]
    text = json.dumps(pairs, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, order: Order) -> list[Any]:
    """The values a cursor holds; 400 when it is not one this order made."""
    try:
        pairs = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pairs, list) or len(pairs) != len(order.columns):
            raise ValueError(cursor)
        return [_TYPES[kind](text) for kind, text in pairs]
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise HTTPException(400, "That page link is damaged: go back to the first page.") from None


def seek(stmt: sa.Select[Any], order: Order, cursor: str, direction: str) -> sa.Select[Any]:
    """`stmt` (already sorted by `order`) narrowed to the rows after or before `cursor`.

    Rows before a cursor come in reverse order; `KeysetPagination` puts them back."""
    values = decode(cursor, order)
    key = sa.tuple_(*order.columns)
    bound = sa.tuple_(*(sa.literal(v, c.type) for v, c in zip(values, order.columns, strict=True)))
    forward = direction == AFTER
    later = key < bound if order.descending else key > bound
    earlier = key > bound if order.descending else key < bound
    stmt = stmt.where(later if forward else earlier)
    if not forward:
        flipped = [c.asc() if order.descending else c.desc() for c in order.columns]
        stmt = stmt.order_by(None).order_by(*flipped)
    return stmt


class KeysetPagination(Pagination):
    """SQLAdmin's pagination whose Next and Previous links carry cursors."""

    order: Order | None = None

    def add_pagination_urls(self, base_url: URL) -> None:
        base = base_url.remove_query_params([AFTER, BEFORE])
        super().add_pagination_urls(base)
        if self.order is None or not self.rows:
            return
        for control in self.page_controls:
            if control.number == self.page + 1:
                last = encode(self.order.values(self.rows[-1]))
                control.url = str(base.include_query_params(page=control.number, after=last))
            elif control.number == self.page - 1 and control.number > 1:
                first = encode(self.order.values(self.rows[0]))
                control.url = str(base.include_query_params(page=control.number, before=first))
