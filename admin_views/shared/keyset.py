"""Next and previous pages by key, so the thousandth page costs what the first does.

`OFFSET n` makes the database walk past n rows, so deep pages get slower the deeper they
go. A list sorted by columns of its own table, all in one direction, with the primary key
last (which makes the order total), can instead ask for the rows after the last one shown:
`WHERE (created_at, id) < (:last_created_at, :last_id)`, which an index answers directly.
The list's Next and Previous links carry such a cursor; numbered links still use the
offset, and any list whose sort does not qualify pages by offset as before.

A cursor is the last row's sort values as texts. It comes back in the address, so it is
read as the columns' own types and refused (400) when a value does not fit one: the wrong
kind, a number too wide for the column, a text PostgreSQL cannot take.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    if not all(_readable(column) for column in columns):  # a JSON or list value, say
        return None
    if keys[0] not in columns:
        columns.append(keys[0])
    return Order(tuple(columns), sort[0][1])


WHOLE = re.compile(r"-?[0-9]{1,19}")
"""An integer as a cursor writes one: ASCII digits, no sign but minus, no separators."""
INTEGER_BITS = ((sa.BigInteger, 64), (sa.SmallInteger, 16), (sa.Integer, 32))
"""How wide each integer column is: a wider value makes PostgreSQL refuse the query."""


def _whole(text: str, stored: sa.types.TypeEngine[Any]) -> int:
    bits = next(bits for kind, bits in INTEGER_BITS if isinstance(stored, kind))
    value = int(text) if WHOLE.fullmatch(text) else None
    if value is None or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ValueError(text)
    return value


def _decimal(text: str, stored: sa.types.TypeEngine[Any]) -> Decimal:
    """A finite number with no more digits before the point than the column keeps."""
    value = Decimal(text)
    precision, scale = getattr(stored, "precision", None), getattr(stored, "scale", None) or 0
    if not value.is_finite() or (precision and abs(value) >= Decimal(10) ** (precision - scale)):
        raise ValueError(text)
    return value


def _moment(text: str, _stored: sa.types.TypeEngine[Any]) -> datetime:
    """A timestamp, in UTC when it has an offset: one that UTC cannot hold (year 1 at
    +14:00) is refused here, not by the database driver."""
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC) if value.tzinfo else value


def _text(text: str, _stored: sa.types.TypeEngine[Any]) -> str:
    # PostgreSQL refuses NUL in text, and a lone surrogate cannot be sent as UTF-8.
    if "\x00" in text:
        raise ValueError(text)
    text.encode()
    return text


_READERS: dict[type, Callable[[str, sa.types.TypeEngine[Any]], Any]] = {
    datetime: _moment,
    date: lambda text, _: date.fromisoformat(text),
    uuid.UUID: lambda text, _: uuid.UUID(text),
    Decimal: _decimal,
    int: _whole,
    bool: lambda text, _: {"True": True, "False": False}[text],
    str: _text,
}
"""How a cursor's text is read back, by the kind of value its column stores."""


def _stored(column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
    """The column's type as the database stores it (a TypeDecorator's underlying type)."""
    kind = column.type
    return kind.impl_instance if isinstance(kind, sa.types.TypeDecorator) else kind


def _readable(column: sa.Column[Any]) -> bool:
    return _stored(column).python_type in _READERS


def _read(text: Any, column: sa.Column[Any]) -> Any:
    """A cursor's text as the column's value; ValueError, TypeError, KeyError or an
    ArithmeticError when the column could not hold it."""
    if not isinstance(text, str):
        raise TypeError(text)
    stored = _stored(column)
    return _READERS[stored.python_type](text, stored)


def encode(values: list[Any]) -> str:
    texts = [v.isoformat() if isinstance(v, date) else str(v) for v in values]
    text = json.dumps(texts, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, order: Order) -> list[Any]:
    """The values a cursor holds, read as its order's columns; 400 when one does not fit
    (a damaged or forged link), before anything reaches the database."""
    try:
        texts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(texts, list) or len(texts) != len(order.columns):
            raise ValueError(cursor)
        return [_read(text, column) for text, column in zip(texts, order.columns, strict=True)]
    except (ValueError, TypeError, KeyError, ArithmeticError):
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
